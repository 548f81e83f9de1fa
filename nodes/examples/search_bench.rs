//! Search benchmark driver (used by `bench/search.sh`).
//!
//!   search_bench ADMIN_TOKEN PRODUCTS SECONDS BASE_URL [BASE_URL…]
//!
//! Loads PRODUCTS generated products (names and descriptions from a fixed
//! vocabulary, 110 tags in two levels, one of 100 integer attributes each,
//! 10 sellers with a store each, a quarter of them offered) through the first node, waits until search
//! finds them all, then measures for SECONDS each, with 16 concurrent
//! clients spread over every node's edge:
//!   - one- and two-word relevance searches,
//!   - a tag (with its descendants) sorted by price with a price range,
//!
//! and finally the time from a product's creation to its first appearance
//! in search. Prints Markdown table rows.

mod bench_common;

use bench_common::{Api, Fallible, Rng, field, measure, ms, percentile};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const VOCABULARY: &str = "red blue green black white silver golden wooden steel cotton leather wool linen glass \
    ceramic bamboo oak walnut maple pine light heavy soft hard warm cool bright dark classic modern vintage rustic \
    compact large small tall round square slim wide lamp desk chair table shelf mug cup bowl plate jar vase clock \
    mirror rug pillow blanket towel curtain basket box bag backpack wallet belt hat cap scarf glove sock shoe boot \
    sandal jacket coat shirt dress skirt trousers jeans sweater hoodie kettle teapot pan pot knife spoon fork board \
    grinder blender toaster speaker headphone charger cable keyboard mouse monitor camera tripod bottle flask tent \
    lantern stove hammock rope compass map notebook pen pencil marker brush paint canvas frame puzzle game ball bike \
    helmet running trail hiking camping kitchen office garden travel outdoor indoor winter summer waterproof \
    handmade organic recycled portable folding adjustable wireless rechargeable";

/// Sellers (each with a store) and attributes the products are spread over.
/// One owner's product set, one store's offers and one attribute's set of
/// users are each one entity, rewritten whole on each change: 100,000
/// products by one seller in one store using one attribute would measure
/// that, not search.
const SELLERS: usize = 10;
const ATTRIBUTES: usize = 100;

/// Makes one query string from the random source.
type QueryMaker<'a> = dyn Fn(&mut Rng) -> String + 'a;

/// A word skewed towards the first ones, as real catalogues are.
fn word<'a>(rng: &mut Rng, words: &[&'a str]) -> &'a str {
    let a = rng.below(words.len());
    let b = rng.below(words.len());
    words[a.min(b)]
}

/// One search through node `node` (modulo the node count).
async fn search(api: &Api, node: usize, query: &str) -> Fallible<Value> {
    let url = format!("{}/api/v1/products?{query}", api.bases[node % api.bases.len()]);
    let res = api.client.get(url).send().await?;
    if !res.status().is_success() {
        return Err(format!("{query}: {}", res.status()).into());
    }
    Ok(res.json().await?)
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: search_bench ADMIN_TOKEN PRODUCTS SECONDS BASE_URL [BASE_URL…]".into());
    }
    let admin = args[1].clone();
    let products: usize = args[2].parse().map_err(|e| format!("PRODUCTS: {e}"))?;
    let seconds: u64 = args[3].parse().map_err(|e| format!("SECONDS: {e}"))?;
    let api = Api::new(&args[4..])?;
    let words: Vec<&str> = VOCABULARY.split_whitespace().collect();

    // Sellers, each with room for its share of the products.
    let mut sellers = Vec::new();
    for k in 0..SELLERS {
        let quotas = json!({"max_products": products / SELLERS + 1000});
        sellers.push(
            api.seller_with_store(&admin, &format!("benchseller{k}"), Some(quotas))
                .await?,
        );
    }
    let seller = sellers[0].0.clone();

    let mut tags = Vec::new();
    for r in 0..10 {
        let root = api
            .send(
                Method::POST,
                "/api/v1/tags",
                &seller,
                json!({"name": format!("{} goods", words[r])}),
            )
            .await?;
        let root = field(&root, "id")?;
        for c in 0..10 {
            let child = json!({"name": format!("{} {}", words[r], words[40 + c]), "parent_id": root});
            let child = api.send(Method::POST, "/api/v1/tags", &seller, child).await?;
            tags.push(field(&child, "id")?);
        }
        tags.push(root);
    }
    let mut attributes = Vec::new();
    for a in 0..ATTRIBUTES {
        let spec = json!({"name": format!("Measure {a}"), "kind": "integer"});
        attributes.push(api.send(Method::POST, "/api/v1/attributes", &seller, spec).await?["id"].clone());
    }

    let started = Instant::now();
    let workers = 48;
    let loading = join_all((0..workers).map(|w| {
        let (api, words, tags, sellers, attributes) = (&api, &words, &tags, &sellers, &attributes);
        async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1));
            for i in (w..products).step_by(workers) {
                let name: Vec<&str> = (0..3).map(|_| word(&mut rng, words)).collect();
                let description: Vec<&str> = (0..12).map(|_| word(&mut rng, words)).collect();
                let product = json!({"name": name.join(" "), "description": description.join(" "), "visible": true,
                    "tag_ids": [tags[rng.below(tags.len())]],
                    "attributes": [{"attribute_id": attributes[i % ATTRIBUTES], "value": rng.below(5000)}]});
                let (seller, store) = &sellers[i % SELLERS];
                let product = api.send(Method::POST, "/api/v1/products", seller, product).await?;
                if i % (4 * SELLERS) < SELLERS {
                    let path = format!("/api/v1/stores/{store}/offers/{}", field(&product, "id")?);
                    let price = format!("{}.{:02}", 1 + rng.below(500), rng.below(100));
                    api.send(Method::PUT, &path, seller, json!({"price": price})).await?;
                }
            }
            Fallible::Ok(())
        }
    }))
    .await;
    loading.into_iter().collect::<Fallible<Vec<()>>>()?;
    let loaded = started.elapsed();
    let mut waited = Instant::now();
    for node in 0..api.bases.len() {
        while search(&api, node, "limit=1").await?["total"] != products as u64 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        waited = Instant::now();
    }
    println!(
        "loaded {products} products ({} offers) in {:.1} s ({:.0}/s); all searchable {:.1} s after the last write",
        products / 4,
        loaded.as_secs_f64(),
        products as f64 / loaded.as_secs_f64(),
        (waited - started - loaded).as_secs_f64()
    );

    println!(
        "| search ({} node(s), 16 clients, {seconds} s) | req/s | p50 | p99 | mean hits |",
        api.bases.len()
    );
    println!("|---|---|---|---|---|");
    let text = |rng: &mut Rng| {
        let n = 1 + rng.below(2);
        let q: Vec<&str> = (0..n).map(|_| word(rng, &words)).collect();
        format!("q={}", q.join("+"))
    };
    let tagged = |rng: &mut Rng| {
        let low = rng.below(200);
        format!(
            "tag={}&sort=price_asc&min_price={low}&max_price={}",
            tags[rng.below(tags.len())],
            low + 100
        )
    };
    let kinds: [(&str, &QueryMaker); 2] = [
        ("1–2 words, relevance", &text),
        ("tag + descendants, price range, price_asc", &tagged),
    ];
    for (label, make) in kinds {
        let measured = measure(16, seconds, |c, deadline| {
            let api = &api;
            async move {
                let mut rng = Rng(0xDEAD_BEEF ^ (c as u64 + 7));
                let mut latencies = Vec::new();
                let mut hits = 0u64;
                while Instant::now() < deadline {
                    let query = make(&mut rng);
                    let t = Instant::now();
                    let found = search(api, c, &query).await?;
                    latencies.push(t.elapsed());
                    hits += found["total"].as_u64().unwrap_or(0);
                }
                Ok((latencies, hits))
            }
        })
        .await?;
        let hits: u64 = measured.per_client.iter().sum();
        println!(
            "| {label} | {:.0} | {} | {} | {:.0} |",
            measured.per_second(seconds),
            measured.p50(),
            measured.p99(),
            hits as f64 / measured.latencies.len() as f64
        );
    }

    let mut visible = Vec::new();
    for i in 0..20 {
        let word = format!("freshword{i}x");
        let product = json!({"name": format!("{word} lamp"), "visible": true});
        api.send(Method::POST, "/api/v1/products", &seller, product).await?;
        let t = Instant::now();
        while search(&api, i, &format!("q={word}")).await?["total"] != 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        visible.push(t.elapsed());
    }
    visible.sort();
    println!(
        "change to visible in search (20 new products, polled every 5 ms through any node): p50 {}, max {}",
        ms(percentile(&visible, 0.5)),
        ms(visible[visible.len() - 1])
    );
    Ok(())
}
