//! The index on its own: relevance, filters, prices, facets, paging, and
//! statistics that make split indexes rank like one.

use super::collect::Pricing;
use super::index::{NodeIndex, NodeResult};
use super::merge::merge;
use super::query::SearchQuery;
use super::stats::Stats;
use crate::catalog::attributes::AttrValue;
use crate::catalog::model::TagTree;
use crate::catalog::products::{Listing, Product, ProductVersion};
use crate::shared::money::RateSet;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

const NOW: i64 = 1_000_000;

fn tree() -> TagTree {
    let t = TagTree::default();
    let t = t.create("shoes".into(), "Shoes", None, 0).unwrap();
    let t = t.create("trail".into(), "Trail", Some("shoes".into()), 0).unwrap();
    let t = t.create("spikes".into(), "Spikes", Some("trail".into()), 0).unwrap();
    t.create("hats".into(), "Hats", None, 0).unwrap()
}

fn product(id: &str, name: &str, description: &str, tags: &[&str], created: i64) -> Product {
    Product {
        id: id.into(),
        owner_id: "seller".into(),
        created_at: created,
        deleted: false,
        current: ProductVersion {
            version: 1,
            name: name.into(),
            description: description.into(),
            visible: true,
            tag_ids: tags.iter().map(|t| t.to_string()).collect(),
            attributes: Vec::new(),
            media_ids: Vec::new(),
            updated_at: created,
        },
        listing_count: 0,
        listings: BTreeMap::new(),
    }
}

fn listed(mut p: Product, store: &str, currency: &str, price: &str) -> Product {
    let listing = Listing {
        currency: currency.into(),
        price: price.into(),
        valid_from: None,
        valid_until: None,
    };
    p.listings.insert(store.into(), listing);
    p
}

fn with_attrs(mut p: Product, attrs: Vec<(&str, AttrValue)>) -> Product {
    p.current.attributes = attrs.into_iter().map(|(a, v)| (a.to_string(), v)).collect();
    p
}

fn index_of(products: &[Product]) -> NodeIndex {
    let index = NodeIndex::new().unwrap();
    let tree = tree();
    index.set_tags(&tree);
    for p in products {
        index.upsert(p, &tree, 0).unwrap();
    }
    index.commit().unwrap();
    index
}

fn query(params: &[(&str, &str)]) -> SearchQuery {
    let pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    SearchQuery::parse(&pairs).unwrap()
}

fn rates() -> RateSet {
    let rates = [("EUR", "0.5"), ("JPY", "150")]
        .into_iter()
        .map(|(c, r)| (c.to_string(), r.to_string()))
        .collect();
    RateSet::parse(1, "USD", &rates, 0).unwrap()
}

fn pricing(q: &SearchQuery) -> Pricing {
    let amount = |t: &Option<String>| t.as_deref().map(|t| Decimal::from_str(t).unwrap());
    Pricing {
        now: NOW,
        currency: q.currency.clone(),
        rates: rates().parsed(),
        store: q.store.clone(),
        min: amount(&q.min_price),
        max: amount(&q.max_price),
    }
}

fn run(index: &NodeIndex, params: &[(&str, &str)]) -> NodeResult {
    let q = query(params);
    index.search(&q, pricing(&q), None).unwrap()
}

fn ids(result: &NodeResult) -> Vec<&str> {
    result.hits.iter().map(|h| h.product.id.as_str()).collect()
}

fn catalog() -> Vec<Product> {
    vec![
        product("p1", "Run Fast trainers", "Light road shoes", &["shoes"], 10),
        product("p2", "Trail runner", "Grips mud", &["trail"], 20),
        product("p3", "Sun hat", "Wide brim, for runners who burn", &["hats"], 30),
        product("p4", "Café au lait mug", "Ceramic", &[], 40),
        product("p5", "Ice spikes", "For winter running", &["spikes"], 50),
    ]
}

#[test]
fn stemming_finds_run_for_running_and_case_and_accents_do_not_matter() {
    let index = index_of(&catalog());
    let result = run(&index, &[("q", "running")]);
    let mut found = ids(&result);
    found.sort();
    assert_eq!(found, ["p1", "p5"], "run, running");
    let result = run(&index, &[("q", "Runner")]);
    let mut found = ids(&result);
    found.sort();
    assert_eq!(found, ["p2", "p3"], "runner, runners");
    assert_eq!(
        ids(&run(&index, &[("q", "TRAIL")])),
        ["p2", "p5"],
        "tag names are searched too"
    );
    assert_eq!(ids(&run(&index, &[("q", "cafe")])), ["p4"]);
    assert!(
        run(&index, &[("q", "running mug")]).hits.is_empty(),
        "every word must match"
    );
}

#[test]
fn a_match_in_the_name_ranks_above_one_in_the_description() {
    let index = index_of(&catalog());
    let found = run(&index, &[("q", "runners")]);
    assert_eq!(ids(&found)[0], "p2", "name: Trail runner");
    assert!(ids(&found).contains(&"p3"));
    assert!(found.hits[0].position < found.hits[1].position);
}

#[test]
fn a_tag_matches_its_descendants_and_facets_count_the_results() {
    let index = index_of(&catalog());
    let found = run(&index, &[("tag", "shoes")]);
    assert_eq!(ids(&found), ["p5", "p2", "p1"], "newest first without words");
    assert_eq!(found.total, 3);
    let count = |id: &str| found.facets.iter().find(|f| f.tag.id == id).map(|f| f.count);
    assert_eq!(count("shoes"), Some(3));
    assert_eq!(count("trail"), Some(2));
    assert_eq!(count("spikes"), Some(1));
    assert_eq!(count("hats"), None);
    assert_eq!(ids(&run(&index, &[("tag", "spikes")])), ["p5"]);
}

#[test]
fn attribute_filters_match_values_and_numeric_ranges() {
    let index = index_of(&[
        with_attrs(
            product("a", "Boot", "", &[], 1),
            vec![
                ("size", AttrValue::Integer(42)),
                ("color", AttrValue::Enum("Red".into())),
            ],
        ),
        with_attrs(
            product("b", "Boot", "", &[], 2),
            vec![
                ("size", AttrValue::Integer(44)),
                ("color", AttrValue::Enum("Blue".into())),
            ],
        ),
        with_attrs(
            product("c", "Boot", "", &[], 3),
            vec![("weight", AttrValue::Decimal("-1.5".into()))],
        ),
    ]);
    assert_eq!(ids(&run(&index, &[("attr.color", "red")])), ["a"]);
    assert_eq!(ids(&run(&index, &[("attr.size", "44")])), ["b"]);
    assert_eq!(ids(&run(&index, &[("attr.size", "43..44")])), ["b"]);
    assert_eq!(ids(&run(&index, &[("attr.size", "..42")])), ["a"]);
    assert_eq!(ids(&run(&index, &[("attr.size", "40..")])), ["b", "a"]);
    assert_eq!(ids(&run(&index, &[("attr.weight", "-2..0")])), ["c"]);
    assert!(ids(&run(&index, &[("attr.weight", "0..")])).is_empty());
    assert!(ids(&run(&index, &[("attr.size", "42"), ("attr.color", "blue")])).is_empty());
    assert_eq!(ids(&run(&index, &[("q", "red")])), ["a"], "string values are full text");
}

fn priced() -> Vec<Product> {
    let mut expired = listed(product("d", "Lamp", "", &[], 4), "s1", "USD", "1.00");
    if let Some(l) = expired.listings.get_mut("s1") {
        l.valid_until = Some(NOW - 1);
    }
    vec![
        listed(
            listed(product("a", "Lamp", "", &[], 1), "s1", "USD", "30.00"),
            "s2",
            "EUR",
            "10.00",
        ),
        listed(product("b", "Lamp", "", &[], 2), "s1", "USD", "25.50"),
        listed(product("c", "Lamp", "", &[], 3), "s3", "JPY", "1500"),
        expired,
        product("e", "Lamp", "", &[], 5),
    ]
}

#[test]
fn prices_are_the_lowest_current_offer_converted_to_the_asked_currency() {
    let index = index_of(&priced());
    let found = run(&index, &[("q", "lamp"), ("sort", "price_asc")]);
    assert_eq!(
        ids(&found),
        ["c", "a", "b", "d", "e"],
        "10 USD, 20 USD (10 EUR), 25.50; none last"
    );
    let shown = |i: usize| {
        found.hits[i]
            .price
            .as_ref()
            .map(|p| (p.amount.as_str(), p.store_id.as_str()))
    };
    assert_eq!(shown(0), Some(("10.00", "s3")));
    assert_eq!(shown(1), Some(("20.00", "s2")));
    assert_eq!(shown(3), None, "an expired offer is no price");
    let desc = run(&index, &[("q", "lamp"), ("sort", "price_desc")]);
    assert_eq!(ids(&desc), ["b", "a", "c", "d", "e"]);
    let yen = run(
        &index,
        &[("sort", "price_asc"), ("currency", "JPY"), ("max_price", "3000")],
    );
    assert_eq!(ids(&yen), ["c", "a"]);
    assert_eq!(yen.hits[1].price.as_ref().unwrap().amount, "3000");
    assert_eq!(yen.total, 2);
    let range = run(&index, &[("min_price", "20"), ("max_price", "26")]);
    assert_eq!(ids(&range), ["b", "a"]);
    let store = run(&index, &[("store", "s1"), ("sort", "price_asc")]);
    assert_eq!(ids(&store), ["b", "a"], "only what s1 offers now, at s1's price");
    assert_eq!(store.hits[1].price.as_ref().unwrap().amount, "30.00");
}

#[test]
fn a_cursor_pages_through_every_result_once() {
    let products: Vec<Product> = (0..25)
        .map(|i| product(&format!("p{i}"), "Same name", "", &[], i % 3))
        .collect();
    let index = index_of(&products);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("q", "same"), ("limit", "7")];
        if let Some(c) = &cursor {
            params.push(("cursor", c));
        }
        let q = query(&params);
        let page = merge(vec![index.search(&q, pricing(&q), None).unwrap()], q.limit);
        assert_eq!(page.total, 25);
        seen.extend(page.items.iter().map(|h| h.product.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (25, 25));
}

#[test]
fn hidden_deleted_and_moved_away_products_leave_the_index() {
    let mut hidden = product("h", "Lamp", "", &[], 1);
    hidden.current.visible = false;
    let index = index_of(&[
        hidden,
        product("x", "Lamp", "", &[], 2),
        product("y", "Lamp", "", &[], 3),
    ]);
    assert_eq!(ids(&run(&index, &[("q", "lamp")])).len(), 2);
    let mut gone = product("x", "Lamp", "", &[], 2);
    gone.deleted = true;
    index.upsert(&gone, &tree(), 0).unwrap();
    index.commit().unwrap();
    assert_eq!(ids(&run(&index, &[("q", "lamp")])), ["y"]);
    index.remove_shard(0).unwrap();
    index.commit().unwrap();
    assert!(index.is_empty());
}

/// Two halves of a catalog, each with its own history of rewrites, rank
/// exactly like the whole once their statistics are summed.
#[test]
fn split_indexes_with_summed_statistics_rank_like_one() {
    let words = ["red", "blue", "lamp", "desk", "steel", "oak", "bright", "soft"];
    let products: Vec<Product> = (0..60)
        .map(|i| {
            let name = format!("{} {}", words[i % 8], words[(i * 3 + 1) % 8]);
            let description = (0..(i % 5) + 1)
                .map(|k| words[(i + k) % 8])
                .collect::<Vec<_>>()
                .join(" ");
            product(&format!("p{i}"), &name, &description, &[], i as i64)
        })
        .collect();
    let whole = index_of(&products);
    let (left, right): (Vec<_>, Vec<_>) = products.iter().cloned().partition(|p| p.id.len() % 2 == 0);
    let left = index_of(&left);
    let right = index_of(&right);
    // Rewrites leave deleted documents behind in one half only.
    for p in products.iter().filter(|p| p.id.len() % 2 != 0).take(10) {
        right.upsert(p, &tree(), 0).unwrap();
    }
    right.commit().unwrap();
    for text in ["lamp", "red oak", "bright steel desk"] {
        let q = query(&[("q", text), ("limit", "15")]);
        let mut stats = Stats::default();
        stats.add(&left.stats(&q).unwrap());
        stats.add(&right.stats(&q).unwrap());
        let split = merge(
            vec![
                left.search(&q, pricing(&q), Some(&stats)).unwrap(),
                right.search(&q, pricing(&q), Some(&stats)).unwrap(),
            ],
            q.limit,
        );
        let one = merge(vec![whole.search(&q, pricing(&q), None).unwrap()], q.limit);
        assert!(!one.items.is_empty());
        assert_eq!(split.items, one.items, "{text}");
        assert_eq!(split.total, one.total);
    }
}

#[test]
fn a_tree_change_reaches_exactly_the_products_it_changes() {
    use super::indexer::{changed_tags, touches};
    let old = tree();
    let renamed = old.update("trail", Some("Off-road"), None).unwrap();
    let changed = changed_tags(&old, &renamed);
    assert_eq!(changed.iter().collect::<Vec<_>>(), ["trail"]);
    let touched = |tag: &str| touches(&old, &renamed, &changed, tag);
    assert!(touched("trail") && touched("spikes"), "the tag and its descendants");
    assert!(!touched("shoes") && !touched("hats"));
    let moved = old.update("trail", None, Some(Some("hats".into()))).unwrap();
    let changed = changed_tags(&old, &moved);
    assert!(touches(&old, &moved, &changed, "spikes"));
    assert!(!touches(&old, &moved, &changed, "shoes"));
    let unknown = changed_tags(&TagTree::default(), &old);
    assert_eq!(unknown.len(), 4, "a first tree changes every tag");
}

#[test]
fn products_under_a_renamed_tag_are_found_by_its_new_name() {
    let index = index_of(&catalog());
    let renamed = tree().update("shoes", Some("Footwear"), None).unwrap();
    for p in catalog() {
        index.upsert(&p, &renamed, 0).unwrap();
    }
    index.commit().unwrap();
    let found = run(&index, &[("q", "footwear")]);
    let mut found = ids(&found);
    found.sort();
    assert_eq!(found, ["p1", "p2", "p5"]);
    assert_eq!(
        ids(&run(&index, &[("q", "shoes")])),
        ["p1"],
        "only its description still says shoes"
    );
}

#[test]
fn cached_statistics_serve_known_words_while_fresh() {
    use super::stats::StatsCache;
    use std::time::Duration;
    let index = index_of(&catalog());
    let cache = StatsCache::default();
    let lamp = query(&[("q", "running hat")]);
    let gathered = index.stats(&lamp).unwrap();
    let fresh = Duration::from_secs(60);
    cache.put(&gathered, fresh);
    let terms = index.scored_terms(&query(&[("q", "hat")]));
    let known = cache.get(&terms, fresh).expect("a word seen before");
    assert_eq!(known.docs, 5);
    assert_eq!(known.doc_freq.len(), terms.len());
    assert!(known.doc_freq.values().any(|n| *n == 1), "hat: one product");
    assert!(cache.get(&index.scored_terms(&query(&[("q", "mug")])), fresh).is_none());
    assert!(cache.get(&terms, Duration::ZERO).is_none(), "stale");
}
