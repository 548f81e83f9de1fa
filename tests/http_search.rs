//! Product search over HTTP: words, tags, attributes, prices, facets,
//! paging, and changes becoming searchable.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long a change may take to become searchable (the index commits
/// every 200 ms; the margin is for a loaded test machine).
const VISIBLE_WITHIN: Duration = Duration::from_secs(5);

/// Searches until `done` holds for the answer; the answer.
pub async fn search_until(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = app.fetch_json_status(&format!("/api/v1/products?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            started.elapsed() < VISIBLE_WITHIN,
            "search for {query} still answers {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

struct Catalog {
    shoes: String,
    trail: String,
    color: String,
    weight: String,
    store: String,
    products: Vec<Value>,
}

/// Tags Shoes > Trail, attributes, four products (one hidden) and a USD
/// store offering two of them.
async fn stock(app: &TestApp, admin: &Session) -> (Session, Catalog) {
    let seller = app.seller(admin, "sella").await;
    let post = |path: &'static str, body: Value| app.call(Method::POST, path, Some(&seller.access), Some(body));
    let created = |res: reqwest::Response| async move {
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()
    };
    let shoes = id(&created(post("/api/v1/tags", json!({"name": "Shoes"})).await).await);
    let trail = id(&created(post("/api/v1/tags", json!({"name": "Trail", "parent_id": shoes})).await).await);
    let color = json!({"name": "Color", "kind": "enum", "values": ["Red", "Blue"]});
    let color = id(&created(post("/api/v1/attributes", color).await).await);
    let weight = json!({"name": "Weight", "kind": "integer", "unit": "g"});
    let weight = id(&created(post("/api/v1/attributes", weight).await).await);
    let specs = [
        json!({"name": "Running shoes", "description": "For the road", "visible": true, "tag_ids": [trail],
               "attributes": [{"attribute_id": color, "value": "Red"}, {"attribute_id": weight, "value": 300}]}),
        json!({"name": "Run club cap", "description": "Blue cotton", "visible": true,
               "attributes": [{"attribute_id": color, "value": "Blue"}, {"attribute_id": weight, "value": 80}]}),
        json!({"name": "Hidden runner", "description": "Not yet", "visible": false}),
        json!({"name": "Mug", "description": "Ceramic", "visible": true}),
    ];
    let mut products = Vec::new();
    for spec in specs {
        products.push(created(post("/api/v1/products", spec).await).await);
    }
    let store = json!({"name": "Depot", "currency": "USD", "timezone": "UTC"});
    let store = id(&created(post("/api/v1/stores", store).await).await);
    for (product, price) in [(&products[0], "80.00"), (&products[1], "20.00")] {
        let path = format!("/api/v1/stores/{store}/offers/{}", id(product));
        let res = app
            .call(Method::PUT, &path, Some(&seller.access), Some(json!({"price": price})))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let rates = json!({"base": "USD", "rates": {"EUR": "0.5"}});
    let res = app
        .call(Method::PUT, "/api/v1/fx-rates", Some(&admin.access), Some(rates))
        .await;
    assert!(res.status().is_success());
    let catalog = Catalog {
        shoes,
        trail,
        color,
        weight,
        store,
        products,
    };
    (seller, catalog)
}

#[tokio::test]
async fn search_finds_by_words_tags_attributes_and_prices() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let (_, c) = stock(&app, &admin).await;
    let both = search_until(&app, "q=running", |b| {
        b["total"] == 2 && !b["items"][0]["price"].is_null()
    })
    .await;
    assert!(names(&both).contains(&"Run club cap".to_string()), "running finds run");
    assert_eq!(
        names(&search_until(&app, "q=RUN&sort=price_asc", |_| true).await),
        ["Run club cap", "Running shoes"]
    );
    assert_eq!(
        search_until(&app, "q=hidden", |_| true).await["total"],
        0,
        "invisible products are not found"
    );

    // Tag names and ancestry follow the tag tree within a moment.
    let tagged = search_until(&app, &format!("tag={}", c.shoes), |b| b["total"] == 1).await;
    assert_eq!(names(&tagged), ["Running shoes"], "a tag matches its descendants");
    let both = search_until(&app, "q=running", |_| true).await;
    let facet = |body: &Value, tag: &str| {
        body["facets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == tag)
            .map(|f| f["count"].as_u64().unwrap())
    };
    assert_eq!((facet(&both, &c.shoes), facet(&both, &c.trail)), (Some(1), Some(1)));

    let red = search_until(&app, &format!("attr.{}=red", c.color), |_| true).await;
    assert_eq!(names(&red), ["Running shoes"]);
    let light = search_until(&app, &format!("attr.{}=..100", c.weight), |_| true).await;
    assert_eq!(names(&light), ["Run club cap"]);

    let dear = search_until(&app, "min_price=50", |_| true).await;
    assert_eq!(names(&dear), ["Running shoes"]);
    let euro = search_until(&app, "q=cap&currency=EUR", |_| true).await;
    assert_eq!(
        euro["items"][0]["price"],
        json!({"amount": "10.00", "currency": "EUR", "store_id": c.store})
    );
    let desc = search_until(&app, &format!("store={}&sort=price_desc", c.store), |_| true).await;
    assert_eq!(names(&desc), ["Running shoes", "Run club cap"]);

    let first = search_until(&app, "sort=newest&limit=2", |_| true).await;
    assert_eq!(first["total"], 3);
    assert_eq!(names(&first), ["Mug", "Run club cap"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = search_until(&app, &format!("sort=newest&limit=2&cursor={cursor}"), |_| true).await;
    assert_eq!(names(&second), ["Running shoes"]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn bad_search_parameters_are_named() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .fetch_json_status("/api/v1/products?sort=cheap&limit=500&colour=red&attr.x=5..1&currency=ABC")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = body["error"]["fields"].as_object().unwrap();
    let mut named: Vec<&String> = fields.keys().collect();
    named.sort();
    assert_eq!(named, ["attr.x", "colour", "currency", "limit", "sort"]);
}

#[tokio::test]
async fn changes_become_searchable_and_survive_a_restart() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let (seller, c) = stock(&app, &admin).await;
    search_until(&app, "q=mug", |b| b["total"] == 1).await;
    let mug = format!("/api/v1/products/{}", id(&c.products[3]));
    let patch = |body: Value, version: &str| {
        app.client
            .patch(app.url(&mug))
            .bearer_auth(&seller.access)
            .header("If-Match", version.to_string())
            .json(&body)
            .send()
    };
    assert_eq!(
        patch(json!({"name": "Teapot"}), "1").await.unwrap().status(),
        StatusCode::OK
    );
    search_until(&app, "q=teapot", |b| b["total"] == 1).await;
    assert_eq!(search_until(&app, "q=mug", |_| true).await["total"], 0);
    assert_eq!(
        patch(json!({"visible": false}), "2").await.unwrap().status(),
        StatusCode::OK
    );
    search_until(&app, "q=teapot", |b| b["total"] == 0).await;

    // Renaming a tag reaches the products under it.
    let rename = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tags/{}", c.shoes),
            Some(&seller.access),
            Some(json!({"name": "Footwear"})),
        )
        .await;
    assert_eq!(rename.status(), StatusCode::OK);
    search_until(&app, "q=footwear", |b| names(b) == ["Running shoes"]).await;

    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/stores/{}/offers/{}", c.store, id(&c.products[0])),
            Some(&seller.access),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    search_until(&app, "min_price=1", |b| names(b) == ["Run club cap"]).await;

    let app = app.restart().await;
    let rebuilt = search_until(&app, "sort=newest", |b| b["total"] == 2).await;
    assert_eq!(
        names(&rebuilt),
        ["Run club cap", "Running shoes"],
        "rebuilt from storage at start-up"
    );
    let footwear = search_until(&app, "q=footwear", |_| true).await;
    assert_eq!(names(&footwear), ["Running shoes"]);
}
