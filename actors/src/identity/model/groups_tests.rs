use super::*;
use proptest::prelude::*;

const NOW: Millis = 1_000_000;

/// company ─ sales ─ north
///         └ tech
/// other
fn tree() -> Tree {
    let t = Tree::default();
    let t = t.add("company", None).unwrap();
    let t = t.add("sales", Some("company")).unwrap();
    let t = t.add("north", Some("sales")).unwrap();
    let t = t.add("tech", Some("company")).unwrap();
    t.add("other", None).unwrap()
}

fn grant(role: &str, expires_at: Option<Millis>) -> Grant {
    Grant {
        role: role.into(),
        expires_at,
    }
}

fn quota(name: &str, limit: u64, expires_at: Option<Millis>) -> QuotaGrant {
    QuotaGrant {
        name: name.into(),
        limit,
        expires_at,
    }
}

#[test]
fn the_tree_knows_ancestors_and_subtrees() {
    let t = tree();
    assert_eq!(t.ancestors("north"), ["sales", "company"]);
    assert!(t.ancestors("company").is_empty());
    assert!(t.within("north", "company") && t.within("north", "north") && !t.within("company", "north"));
    assert_eq!(
        t.subtree("sales"),
        ["north", "sales"].map(String::from).into_iter().collect()
    );
    assert!(t.add("x", Some("nope")).is_err());
}

#[test]
fn a_group_moves_with_its_subtree_never_under_itself() {
    let t = tree();
    let moved = t.move_to("sales", Some("tech")).unwrap();
    assert_eq!(moved.ancestors("north"), ["sales", "tech", "company"]);
    for parent in ["sales", "north"] {
        let err = t.move_to("sales", Some(parent)).unwrap_err();
        assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    }
    assert!(t.move_to("sales", Some("nope")).is_err());
    assert!(t.move_to("nope", None).is_err());
    assert_eq!(t.move_to("sales", None).unwrap().ancestors("north"), ["sales"]);
}

#[test]
fn a_deleted_group_hands_its_children_to_its_parent_and_comes_back_where_it_was() {
    let t = tree();
    let node = t.nodes["sales"].clone();
    let without = t.remove("sales").unwrap();
    assert_eq!(without.ancestors("north"), ["company"]);
    assert!(without.remove("sales").is_err());
    let back = without.restore("sales", node.clone());
    assert_eq!(back.ancestors("sales"), ["company"]);
    // Its old parent gone meanwhile: back at the top level.
    let orphaned = without.remove("company").unwrap().restore("sales", node);
    assert!(orphaned.ancestors("sales").is_empty());
}

#[test]
fn effective_access_adds_every_ancestors_unexpired_grants_and_the_largest_quota() {
    let mut t = tree();
    t.nodes.get_mut("company").unwrap().roles = vec![grant("viewer", None), grant("old", Some(NOW))];
    t.nodes.get_mut("company").unwrap().quotas = vec![quota("max_stores", 5, None)];
    t.nodes.get_mut("sales").unwrap().roles = vec![grant("seller", Some(NOW + 1))];
    t.nodes.get_mut("sales").unwrap().quotas =
        vec![quota("max_stores", 9, Some(NOW - 1)), quota("max_products", 50, None)];
    t.nodes.get_mut("other").unwrap().roles = vec![grant("auditor", None)];
    let own = [
        grant("customer", None),
        grant("viewer", None),
        grant("gone", Some(NOW - 5)),
    ];
    let own_quotas = [quota("max_stores", 3, None), quota("max_products", 70, None)];
    let e = effective(&own, &own_quotas, &["north".into()], &t, NOW);
    assert_eq!(e.role_names(), ["customer", "seller", "viewer"]);
    assert_eq!(
        e.roles["viewer"],
        [Source::Own, Source::Group("company".into())].into_iter().collect()
    );
    assert_eq!(e.roles["seller"], [Source::Group("sales".into())].into_iter().collect());
    // The expired 9 does not count; the company's 5 beats the own 3.
    assert_eq!(e.quotas["max_stores"], (5, Source::Group("company".into())));
    assert_eq!(e.quotas["max_products"], (70, Source::Own));
    // A moment later the sales grant expired.
    assert!(
        !effective(&own, &own_quotas, &["north".into()], &t, NOW + 1)
            .roles
            .contains_key("seller")
    );
    // Groups that do not exist (deleted) give nothing.
    assert_eq!(effective(&[], &[], &["nope".into()], &t, NOW), Effective::default());
}

fn delegate(member_of: &[&str], permissions: &[&str], quotas: &[(&str, u64)]) -> Actor {
    Actor {
        admin: false,
        delegate: true,
        member_of: member_of.iter().map(|s| s.to_string()).collect(),
        permissions: permissions.iter().map(|s| s.to_string()).collect(),
        quotas: quotas.iter().map(|(n, l)| (n.to_string(), *l)).collect(),
    }
}

fn perms(role: &str) -> Option<BTreeSet<String>> {
    match role {
        "viewer" => Some(["cart:use"].map(String::from).into_iter().collect()),
        "seller" => Some(["cart:use", "store:create"].map(String::from).into_iter().collect()),
        "admin" => Some(["identity:admin"].map(String::from).into_iter().collect()),
        _ => None,
    }
}

#[test]
fn a_delegate_manages_only_inside_their_groups_subtrees() {
    let t = tree();
    let ann = delegate(&["sales"], &["cart:use"], &[]);
    assert!(ann.may_manage(&t, "sales").is_ok() && ann.may_manage(&t, "north").is_ok());
    assert!(ann.may_manage(&t, "tech").is_err() && ann.may_manage(&t, "company").is_err());
    assert!(ann.may_create(&t, Some("north")).is_ok());
    assert!(ann.may_create(&t, Some("tech")).is_err() && ann.may_create(&t, None).is_err());
    // Below their own group they restructure; their own group they do not.
    assert!(ann.may_delete(&t, "north").is_ok());
    assert!(ann.may_delete(&t, "sales").is_err());
    assert!(ann.may_move(&t, "north", Some("sales")).is_ok());
    assert!(
        ann.may_move(&t, "north", Some("tech")).is_err(),
        "never out of their subtree"
    );
    assert!(ann.may_move(&t, "north", None).is_err());
    // Without identity:groups, membership alone gives nothing.
    let plain = Actor {
        delegate: false,
        ..ann.clone()
    };
    assert!(plain.may_manage(&t, "north").is_err());
    let root = Actor { admin: true, ..plain };
    assert!(root.may_move(&t, "company", Some("other")).is_ok() && root.may_create(&t, None).is_ok());
}

#[test]
fn nobody_grants_a_permission_or_quota_they_lack() {
    let ann = delegate(&["sales"], &["cart:use"], &[("max_stores", 3)]);
    assert!(
        ann.may_grant(&[grant("viewer", None)], perms, &[quota("max_stores", 3, None)])
            .is_ok()
    );
    let err = ann.may_grant(&[grant("seller", None)], perms, &[]).unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert!(ann.may_grant(&[], perms, &[quota("max_stores", 4, None)]).is_err());
    assert!(
        ann.may_grant(&[], perms, &[quota("max_products", 1, None)]).is_err(),
        "a quota they lack"
    );
    assert!(matches!(
        ann.may_grant(&[grant("nope", None)], perms, &[]),
        Err(Error::Validation { .. })
    ));
}

/// One random operation on groups `0..8` (as names `g0`…), by actor `by`.
#[derive(Debug, Clone)]
enum Op {
    Add(usize, Option<usize>),
    Move(usize, Option<usize>),
    Remove(usize),
    Grant(usize, &'static str, u64),
}

fn op() -> impl Strategy<Value = (usize, Op)> {
    let g = 0usize..8;
    let parent = proptest::option::of(0usize..8);
    let role = prop_oneof![Just("viewer"), Just("seller"), Just("admin")];
    (
        0usize..4,
        prop_oneof![
            (g.clone(), parent.clone()).prop_map(|(a, b)| Op::Add(a, b)),
            (g.clone(), parent).prop_map(|(a, b)| Op::Move(a, b)),
            g.clone().prop_map(Op::Remove),
            (g, role, 0u64..10).prop_map(|(a, r, q)| Op::Grant(a, r, q)),
        ],
    )
}

fn name(i: usize) -> String {
    format!("g{i}")
}

proptest! {
    /// Whatever delegates attempt, the tree keeps no cycle and no orphan,
    /// nobody acts outside their subtrees, and every grant made is within
    /// what its granter holds.
    #[test]
    fn delegated_operations_stay_inside_their_reach_and_their_granters_means(
        ops in proptest::collection::vec(op(), 1..60),
        seats in proptest::collection::vec((0usize..8, proptest::bool::ANY, 0u64..10), 4),
    ) {
        let mut t = Tree::default().add("g0", None).unwrap();
        let actors: Vec<Actor> = seats
            .iter()
            .map(|(g, seller, q)| {
                let ps: &[&str] = if *seller { &["cart:use", "store:create"] } else { &["cart:use"] };
                delegate(&[&name(*g)], ps, &[("max_stores", *q)])
            })
            .collect();
        for (by, op) in ops {
            let actor = &actors[by];
            match op {
                Op::Add(g, parent) => {
                    let parent = parent.map(name);
                    if t.nodes.contains_key(&name(g)) || actor.may_create(&t, parent.as_deref()).is_err() {
                        continue;
                    }
                    prop_assert!(parent.as_ref().is_some_and(|p| actor.reaches(&t, p)));
                    if let Ok(next) = t.add(&name(g), parent.as_deref()) {
                        t = next;
                    }
                }
                Op::Move(g, parent) => {
                    let parent = parent.map(name);
                    if !t.nodes.contains_key(&name(g)) || actor.may_move(&t, &name(g), parent.as_deref()).is_err() {
                        continue;
                    }
                    prop_assert!(actor.reaches(&t, &name(g)) && !actor.member_of.contains(&name(g)));
                    if let Ok(next) = t.move_to(&name(g), parent.as_deref()) {
                        t = next;
                        prop_assert!(actor.reaches(&t, &name(g)), "moved out of reach");
                    }
                }
                Op::Remove(g) => {
                    if !t.nodes.contains_key(&name(g)) || actor.may_delete(&t, &name(g)).is_err() {
                        continue;
                    }
                    prop_assert!(actor.reaches(&t, &name(g)) && !actor.member_of.contains(&name(g)));
                    t = t.remove(&name(g)).unwrap();
                }
                Op::Grant(g, role, limit) => {
                    let roles = [grant(role, None)];
                    let quotas = [quota("max_stores", limit, None)];
                    if !t.nodes.contains_key(&name(g)) || actor.may_manage(&t, &name(g)).is_err() || actor.may_grant(&roles, perms, &quotas).is_err() {
                        continue;
                    }
                    prop_assert!(actor.reaches(&t, &name(g)));
                    prop_assert!(perms(role).unwrap().is_subset(&actor.permissions));
                    prop_assert!(limit <= actor.quotas["max_stores"]);
                    let node = t.nodes.get_mut(&name(g)).unwrap();
                    node.roles.extend(roles);
                    node.quotas.extend(quotas);
                }
            }
            // No orphan, no cycle.
            for (id, node) in &t.nodes {
                if let Some(p) = &node.parent {
                    prop_assert!(t.nodes.contains_key(p), "{id} is an orphan");
                }
                let mut at = node.parent.clone();
                for _ in 0..=t.nodes.len() {
                    match at {
                        Some(p) => {
                            prop_assert!(p != *id, "{id} is its own ancestor");
                            at = t.nodes[&p].parent.clone();
                        }
                        None => break,
                    }
                }
                prop_assert!(at.is_none(), "a cycle above {id}");
            }
        }
        // Nobody's effective access holds more than some delegate had.
        let most_stores = actors.iter().map(|a| a.quotas["max_stores"]).max().unwrap_or(0);
        for id in t.nodes.keys() {
            let e = effective(&[], &[], std::slice::from_ref(id), &t, NOW);
            prop_assert!(!e.roles.contains_key("admin"), "nobody delegated identity:admin");
            prop_assert!(e.quotas.get("max_stores").is_none_or(|(l, _)| *l <= most_stores));
        }
    }
}

fn admin() -> Actor {
    Actor {
        admin: true,
        delegate: false,
        member_of: Vec::new(),
        permissions: BTreeSet::new(),
        quotas: BTreeMap::new(),
    }
}

fn create(id: &str, parent: Option<&str>) -> GroupChange {
    GroupChange::Create {
        id: id.into(),
        name: format!("Group {id}"),
        parent: parent.map(str::to_string),
    }
}

/// A book with `groups` (id, parent) created by an administrator.
fn book_of(groups: &[(&str, Option<&str>)]) -> GroupBook {
    groups.iter().fold(GroupBook::default(), |book, (id, parent)| {
        book.apply(&admin(), &create(id, *parent), NOW).unwrap()
    })
}

#[test]
fn the_book_keeps_names_and_deleted_groups_restorable_for_thirty_days() {
    let root = admin();
    let book = book_of(&[("company", None), ("sales", Some("company")), ("north", Some("sales"))]);
    assert_eq!(book.info["sales"].name, "Group sales");
    assert_eq!(book.children("company"), ["sales"]);
    let renamed = book
        .apply(
            &root,
            &GroupChange::Rename {
                id: "sales".into(),
                name: "  Sales EU ".into(),
            },
            NOW + 1,
        )
        .unwrap();
    assert_eq!(
        (renamed.info["sales"].name.as_str(), renamed.info["sales"].updated_at),
        ("Sales EU", NOW + 1)
    );
    assert!(
        book.apply(
            &root,
            &GroupChange::Rename {
                id: "sales".into(),
                name: " ".into()
            },
            NOW
        )
        .is_err()
    );
    let roles = GroupChange::Roles {
        id: "sales".into(),
        roles: vec![grant("seller", None)],
    };
    let with_roles = book.apply(&root, &roles, NOW).unwrap();
    let gone = with_roles
        .apply(&root, &GroupChange::Delete { id: "sales".into() }, NOW + 10)
        .unwrap();
    assert_eq!(gone.tree.ancestors("north"), ["company"], "its child moved up");
    assert!(!gone.info.contains_key("sales") && gone.deleted.contains_key("sales"));
    // Within thirty days it comes back with its roles, under its parent.
    let back = gone
        .apply(&root, &GroupChange::Restore { id: "sales".into() }, NOW + RETENTION)
        .unwrap();
    assert_eq!(back.tree.nodes["sales"].roles, [grant("seller", None)]);
    assert_eq!(back.tree.ancestors("sales"), ["company"]);
    assert_eq!(back.info["sales"].name, "Group sales");
    // After that it is gone for good.
    let late = gone.apply(
        &root,
        &GroupChange::Restore { id: "sales".into() },
        NOW + 10 + RETENTION,
    );
    assert!(matches!(late, Err(Error::NotFound { .. })));
    assert!(gone.purged(NOW + 10 + RETENTION).deleted.is_empty());
    for missing in [
        GroupChange::Delete { id: "nope".into() },
        GroupChange::Move {
            id: "nope".into(),
            parent: None,
        },
    ] {
        assert!(matches!(book.apply(&root, &missing, NOW), Err(Error::NotFound { .. })));
    }
}

#[test]
fn the_book_applies_the_delegation_rule() {
    let book = book_of(&[("company", None), ("sales", Some("company")), ("tech", Some("company"))]);
    let ann = delegate(&["sales"], &["cart:use"], &[]);
    let team = book.apply(&ann, &create("team", Some("sales")), NOW).unwrap();
    assert!(matches!(
        book.apply(&ann, &create("x", Some("tech")), NOW),
        Err(Error::Forbidden { .. })
    ));
    assert!(book.apply(&ann, &create("x", None), NOW).is_err());
    assert!(
        team.apply(
            &ann,
            &GroupChange::Move {
                id: "team".into(),
                parent: Some("tech".into())
            },
            NOW
        )
        .is_err()
    );
    assert!(
        team.apply(&ann, &GroupChange::Delete { id: "sales".into() }, NOW)
            .is_err()
    );
    let gone = team
        .apply(&ann, &GroupChange::Delete { id: "team".into() }, NOW)
        .unwrap();
    assert!(
        gone.apply(&ann, &GroupChange::Restore { id: "team".into() }, NOW)
            .is_ok()
    );
    let bob = delegate(&["tech"], &["cart:use"], &[]);
    assert!(
        gone.apply(&bob, &GroupChange::Restore { id: "team".into() }, NOW)
            .is_err(),
        "outside his reach"
    );
}
