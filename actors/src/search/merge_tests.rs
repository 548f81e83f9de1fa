use super::*;
use crate::catalog::model::TagRef;
use crate::search::document::Summary;
use crate::search::query::Position;

fn hit(id: &str, rank: i128) -> Hit {
    Hit {
        position: Position {
            rank,
            key: crate::search::document::key_of(id),
        },
        product: Summary {
            id: id.into(),
            owner_id: "o".into(),
            version: 1,
            name: id.into(),
            description: String::new(),
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
        },
        price: None,
    }
}

fn facet(id: &str, count: u64) -> Facet {
    Facet {
        tag: TagRef {
            id: id.into(),
            name: id.to_uppercase(),
        },
        count,
    }
}

fn node(hits: Vec<Hit>, total: u64, remaining: u64, facets: Vec<Facet>) -> NodeResult {
    NodeResult {
        hits,
        total,
        remaining,
        facets,
    }
}

#[test]
fn the_best_hits_of_all_nodes_in_order_with_summed_totals_and_facets() {
    let page = merge(
        vec![
            node(
                vec![hit("a", 1), hit("c", 5)],
                10,
                10,
                vec![facet("t1", 4), facet("t2", 1)],
            ),
            node(
                vec![hit("b", 2), hit("d", 3)],
                7,
                7,
                vec![facet("t1", 2), facet("t3", 3)],
            ),
        ],
        3,
    );
    let ids: Vec<_> = page.items.iter().map(|h| h.product.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "d"]);
    assert_eq!(page.total, 17);
    assert_eq!(page.next_cursor, Some(page.items[2].position.encode()));
    assert_eq!(page.facets, vec![facet("t1", 6), facet("t3", 3), facet("t2", 1)]);
}

#[test]
fn the_last_page_has_no_cursor_and_a_product_two_nodes_report_counts_once() {
    let page = merge(
        vec![
            node(vec![hit("a", 1), hit("b", 2)], 2, 2, vec![]),
            node(vec![hit("a", 1)], 1, 1, vec![]),
        ],
        5,
    );
    let ids: Vec<_> = page.items.iter().map(|h| h.product.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(page.next_cursor, None);
    let exact = merge(vec![node(vec![hit("a", 1), hit("b", 2)], 2, 2, vec![])], 2);
    assert_eq!(exact.next_cursor, None, "nothing after the last hit");
}
