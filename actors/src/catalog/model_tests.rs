use super::*;
use proptest::prelude::*;

/// clothing ─┬─ shoes ── running
///           └─ hats
/// books
fn tree() -> TagTree {
    let t = TagTree::default();
    let t = t.create("clothing".into(), "Clothing", None, 1).unwrap();
    let t = t.create("shoes".into(), "Shoes", Some("clothing".into()), 2).unwrap();
    let t = t.create("running".into(), "Running", Some("shoes".into()), 3).unwrap();
    let t = t.create("hats".into(), "Hats", Some("clothing".into()), 4).unwrap();
    t.create("books".into(), "Books", None, 5).unwrap()
}

fn names(tags: &[TagNode]) -> Vec<&str> {
    tags.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn views_show_ancestors_and_children_to_a_depth() {
    let t = tree();
    let running = t.view("running", 1).unwrap();
    let chain: Vec<&str> = running.ancestors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(chain, ["Clothing", "Shoes"]);
    assert_eq!(running.parent_id.as_deref(), Some("shoes"));
    let clothing = t.view("clothing", 1).unwrap();
    assert_eq!(names(&clothing.children), ["Hats", "Shoes"]);
    assert!(clothing.children[1].children.is_empty(), "depth 1 stops at children");
    let deep = t.view("clothing", 2).unwrap();
    assert_eq!(names(&deep.children[1].children), ["Running"]);
    assert_eq!(names(&t.roots(0)), ["Books", "Clothing"]);
    assert_eq!(t.view("nope", 1).unwrap_err().code(), "not_found");
}

#[test]
fn names_are_checked_and_unique_among_siblings() {
    let t = tree();
    assert!(matches!(
        t.create("x".into(), " ", None, 9).unwrap_err(),
        Error::Validation { .. }
    ));
    assert!(t.create("x".into(), &"n".repeat(65), None, 9).is_err());
    assert_eq!(
        t.create("x".into(), "SHOES", Some("clothing".into()), 9)
            .unwrap_err()
            .code(),
        "tag_exists"
    );
    assert!(
        t.create("x".into(), "Shoes", Some("books".into()), 9).is_ok(),
        "the same name elsewhere is fine"
    );
    assert_eq!(
        t.create("x".into(), "Toys", Some("ghost".into()), 9)
            .unwrap_err()
            .code(),
        "validation_failed"
    );
}

#[test]
fn a_move_takes_the_whole_subtree_and_ids_stay() {
    let t = tree().update("shoes", None, Some(Some("books".into()))).unwrap();
    let running = t.view("running", 1).unwrap();
    let chain: Vec<&str> = running.ancestors.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(chain, ["books", "shoes"]);
    let root = tree().update("shoes", Some("Footwear"), Some(None)).unwrap();
    assert_eq!(root.view("shoes", 1).unwrap().parent_id, None);
    assert_eq!(root.get("shoes").unwrap().name, "Footwear");
}

#[test]
fn a_tag_cannot_move_under_itself_or_its_descendants() {
    let t = tree();
    for target in ["shoes", "running"] {
        let err = t.update("shoes", None, Some(Some(target.into()))).unwrap_err();
        assert!(
            matches!(&err, Error::Validation { fields } if fields.contains_key("parent_id")),
            "{target}"
        );
    }
    assert!(
        t.update("shoes", None, Some(Some("hats".into()))).is_ok(),
        "a sibling is fine"
    );
}

#[test]
fn deleting_a_tag_moves_its_children_up() {
    let t = tree().delete("shoes").unwrap();
    assert_eq!(t.get("running").unwrap().parent.as_deref(), Some("clothing"));
    let root = tree().delete("clothing").unwrap();
    assert_eq!(names(&root.roots(0)), ["Books", "Hats", "Shoes"]);
    assert!(tree().delete("ghost").is_err());
}

#[test]
fn nesting_is_bounded() {
    let mut t = TagTree::default();
    let mut parent = None;
    for i in 0..MAX_DEPTH {
        t = t.create(format!("t{i}"), "level", parent.clone(), 0).unwrap();
        parent = Some(format!("t{i}"));
    }
    assert!(t.create("deeper".into(), "level", parent, 0).is_err());
    let other = t.create("o1".into(), "other", None, 0).unwrap();
    let other = other.create("o2".into(), "other", Some("o1".into()), 0).unwrap();
    // o1 with its child o2 under t13 sits at depths 15 and 16; under t14
    // o2 would be at 17: the moved subtree's depth counts.
    assert!(other.update("o1", None, Some(Some("t13".into()))).is_ok());
    assert!(other.update("o1", None, Some(Some("t14".into()))).is_err());
}

proptest! {
    /// No sequence of creates, moves and deletes ever makes a cycle or an
    /// orphan: every tag reaches a root through existing parents.
    #[test]
    fn the_tree_stays_a_forest(ops in proptest::collection::vec((0u8..3, 0usize..12, 0usize..13), 1..60)) {
        let mut t = TagTree::default();
        for (i, (op, a, b)) in ops.into_iter().enumerate() {
            let ids: Vec<String> = t.tags.keys().cloned().collect();
            let pick = |n: usize| ids.get(n % ids.len().max(1)).cloned();
            let next = match op {
                0 => t.create(format!("t{i}"), &format!("tag {i}"), if b == 12 { None } else { pick(b) }, 0),
                1 => match pick(a) {
                    Some(id) => t.update(&id, None, Some(if b == 12 { None } else { pick(b) })),
                    None => continue,
                },
                _ => match pick(a) {
                    Some(id) => t.delete(&id),
                    None => continue,
                },
            };
            if let Ok(next) = next {
                t = next;
            }
            for tag in t.tags.values() {
                let chain = t.ancestors(&tag.id);
                prop_assert!(chain.len() < MAX_DEPTH);
                prop_assert!(chain.iter().all(|a| a.id != tag.id), "no cycle");
                if let Some(parent) = &tag.parent {
                    prop_assert!(t.tags.contains_key(parent), "no orphan");
                }
            }
        }
    }
}
