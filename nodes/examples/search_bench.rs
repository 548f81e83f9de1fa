//! Search benchmark driver (used by `bench/search.sh`).
//!
//!   search_bench ADMIN_TOKEN PRODUCTS SECONDS BASE_URL [BASE_URL…]
//!
//! Loads PRODUCTS generated products (names and descriptions from a fixed
//! vocabulary, 110 tags in two levels, one of 100 integer attributes each,
//! 200 sellers with a store each, a quarter of them offered) through the first node, waits until search
//! finds them all, then measures for SECONDS each, with 16 concurrent
//! clients spread over every node's edge:
//!   - one- and two-word relevance searches,
//!   - a tag (with its descendants) sorted by price with a price range,
//!
//! and finally the time from a product's creation to its first appearance
//! in search. Prints Markdown table rows.

use futures::future::join_all;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A bench run stops at its first failure and says why.
type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A string field of an answer, or why the answer is unusable.
fn field(value: &Value, name: &str) -> Fallible<String> {
    value[name]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no {name} in {value}").into())
}

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
const SELLERS: usize = 200;
const ATTRIBUTES: usize = 100;

struct Rng(u64);

/// Makes one query string from the random source.
type QueryMaker<'a> = dyn Fn(&mut Rng) -> String + 'a;

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed towards the first words, as real catalogues are.
    fn word<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let a = self.below(words.len());
        let b = self.below(words.len());
        words[a.min(b)]
    }
}

struct Api {
    client: Client,
    bases: Vec<String>,
}

impl Api {
    async fn send(&self, method: Method, path: &str, token: &str, body: Value) -> Fallible<Value> {
        let mut attempt = 0;
        loop {
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.bases[0]))
                .json(&body);
            if !token.is_empty() {
                req = req.bearer_auth(token);
            }
            let res = req.send().await;
            match res {
                Ok(r) if r.status().is_success() => return Ok(r.json().await.unwrap_or(Value::Null)),
                Ok(r) if r.status().as_u16() == 503 && attempt < 5 => {}
                Ok(r) => return Err(format!("{path}: {} {}", r.status(), r.text().await.unwrap_or_default()).into()),
                Err(e) if attempt < 5 => eprintln!("{path}: {e}; retrying"),
                Err(e) => return Err(format!("{path}: {e}").into()),
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn search(&self, node: usize, query: &str) -> Fallible<Value> {
        let url = format!("{}/api/v1/products?{query}", self.bases[node % self.bases.len()]);
        let res = self.client.get(url).send().await?;
        if !res.status().is_success() {
            return Err(format!("{query}: {}", res.status()).into());
        }
        Ok(res.json().await?)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
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
    let api = Api {
        client: Client::builder().pool_max_idle_per_host(64).build()?,
        bases: args[4..].to_vec(),
    };
    let words: Vec<&str> = VOCABULARY.split_whitespace().collect();

    // Sellers, each with room for its share of the products.
    let password = "correct horse battery";
    let mut sellers = Vec::new();
    for k in 0..SELLERS {
        let name = format!("benchseller{k}");
        let account = json!({"username": name, "email": format!("{name}@example.com"), "password": password});
        let user = api.send(Method::POST, "/api/v1/accounts", "", account).await?;
        let id = field(&user, "id")?;
        let roles = json!({"roles": ["seller"]});
        api.send(Method::PUT, &format!("/api/v1/users/{id}/roles"), &admin, roles)
            .await?;
        let quotas = json!({"max_products": products / SELLERS + 1000});
        api.send(Method::PUT, &format!("/api/v1/users/{id}/quotas"), &admin, quotas)
            .await?;
        let login = json!({"login": name, "password": password});
        let token = field(
            &api.send(Method::POST, "/api/v1/auth/login", "", login).await?,
            "access_token",
        )?;
        let store = json!({"name": format!("Store {k}"), "currency": "USD", "timezone": "UTC"});
        let store = field(&api.send(Method::POST, "/api/v1/stores", &token, store).await?, "id")?;
        sellers.push((token, store));
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
                let name: Vec<&str> = (0..3).map(|_| rng.word(words)).collect();
                let description: Vec<&str> = (0..12).map(|_| rng.word(words)).collect();
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
        while api.search(node, "limit=1").await?["total"] != products as u64 {
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
        let q: Vec<&str> = (0..n).map(|_| rng.word(&words)).collect();
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
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let runs = join_all((0..16).map(|c| {
            let api = &api;
            async move {
                let mut rng = Rng(0xDEAD_BEEF ^ (c as u64 + 7));
                let mut latencies = Vec::new();
                let mut hits = 0u64;
                while Instant::now() < deadline {
                    let query = make(&mut rng);
                    let t = Instant::now();
                    let found = api.search(c, &query).await?;
                    latencies.push(t.elapsed());
                    hits += found["total"].as_u64().unwrap_or(0);
                }
                Fallible::Ok((latencies, hits))
            }
        }))
        .await
        .into_iter()
        .collect::<Fallible<Vec<_>>>()?;
        let mut all: Vec<Duration> = runs.iter().flat_map(|(l, _)| l.iter().copied()).collect();
        let hits: u64 = runs.iter().map(|(_, h)| h).sum();
        all.sort();
        println!(
            "| {label} | {:.0} | {} | {} | {:.0} |",
            all.len() as f64 / seconds as f64,
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.99)),
            hits as f64 / all.len() as f64
        );
    }

    let mut visible = Vec::new();
    for i in 0..20 {
        let word = format!("freshword{i}x");
        let product = json!({"name": format!("{word} lamp"), "visible": true});
        api.send(Method::POST, "/api/v1/products", &seller, product).await?;
        let t = Instant::now();
        while api.search(i, &format!("q={word}")).await?["total"] != 1 {
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
