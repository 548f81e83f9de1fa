use super::*;
use crate::access::{AccessTable, Rule};
use axum::http::Method;

fn table() -> AccessTable {
    let (_, doc) = all().split_for_parts();
    let (table, problems) = AccessTable::from_openapi(&doc);
    assert!(
        problems.is_empty(),
        "routes without a usable access rule: {problems:#?}"
    );
    table
}

#[test]
fn every_route_declares_an_access_rule() {
    let (_, doc) = all().split_for_parts();
    let operations: usize = doc
        .paths
        .paths
        .values()
        .map(|item| {
            [
                &item.get,
                &item.post,
                &item.put,
                &item.delete,
                &item.patch,
                &item.head,
                &item.options,
            ]
            .iter()
            .filter(|o| o.is_some())
            .count()
        })
        .sum();
    assert_eq!(table().len(), operations, "one rule per routed operation");
    assert!(operations > 70, "the whole table is walked ({operations} operations)");
}

#[test]
fn shopping_needs_the_shopping_permissions() {
    let table = table();
    let needs = |method: Method, path: &str| table.rule(&method, path).cloned();
    let permission = |p: &str| Some(Rule::Permission(p.to_string()));
    for (method, path) in [
        (Method::GET, "/api/v1/cart"),
        (Method::DELETE, "/api/v1/cart"),
        (Method::PUT, "/api/v1/cart/items"),
        (Method::DELETE, "/api/v1/cart/items/{line_id}"),
    ] {
        assert_eq!(needs(method, path), permission("cart:use"), "{path}");
    }
    assert_eq!(needs(Method::POST, "/api/v1/orders"), permission("order:create"));
    assert_eq!(
        needs(Method::POST, "/api/v1/orders/{id}/returns"),
        permission("return:create")
    );
    assert_eq!(needs(Method::POST, "/api/v1/products"), permission("catalog:write"));
    assert_eq!(needs(Method::POST, "/api/v1/stores"), permission("store:create"));
    assert_eq!(needs(Method::PUT, "/api/v1/fx-rates"), permission("fx:admin"));
    assert_eq!(needs(Method::GET, "/api/v1/users"), permission("identity:admin"));
    assert_eq!(needs(Method::GET, "/api/v1/cluster"), permission("cluster:admin"));
    assert_eq!(needs(Method::GET, "/api/v1/orders/{id}"), Some(Rule::Signed));
    assert_eq!(needs(Method::GET, "/api/v1/products/{id}"), Some(Rule::Optional));
    assert_eq!(
        needs(Method::HEAD, "/api/v1/products"),
        Some(Rule::Public),
        "HEAD is GET's"
    );
    assert_eq!(needs(Method::POST, "/api/v1/auth/login"), Some(Rule::Public));
    assert_eq!(needs(Method::GET, "/api/openapi.json"), Some(Rule::Public));
    assert_eq!(needs(Method::PATCH, "/api/v1/orders"), None, "not a route");
}
