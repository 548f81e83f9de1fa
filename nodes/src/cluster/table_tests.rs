use super::*;

fn names(n: usize) -> Vec<Member> {
    (1..=n).map(member).collect()
}

fn member(i: usize) -> Member {
    Member {
        name: format!("n{i}"),
        cluster_addr: format!("127.0.0.{i}:4700").parse().unwrap(),
        http_addr: format!("127.0.0.{i}:8080").parse().unwrap(),
    }
}

#[test]
fn every_shard_has_an_owner_and_the_spread_is_even() {
    let table = ShardTable::compute(1, &names(3), 256);
    let counts = table.counts();
    assert_eq!(counts.values().sum::<usize>(), 256);
    assert!(counts.values().all(|&c| (60..=110).contains(&c)), "{counts:?}");
}

#[test]
fn the_table_does_not_depend_on_the_order_members_are_listed() {
    let a = ShardTable::compute(1, &[member(2), member(1), member(3)], 64);
    let b = ShardTable::compute(1, &names(3), 64);
    assert_eq!(a, b);
}

#[test]
fn a_join_moves_only_shards_to_the_newcomer() {
    let before = ShardTable::compute(1, &names(3), 256);
    let after = before.with_member(member(4));
    assert_eq!(after.epoch, 2);
    let moves = before.moves_to(&after);
    assert!(moves.iter().all(|(_, _, to)| to == "n4"));
    assert_eq!(moves.len(), after.counts()["n4"]);
    assert!(
        (40..=90).contains(&moves.len()),
        "about a quarter moves: {}",
        moves.len()
    );
}

#[test]
fn a_leave_moves_only_the_leavers_shards() {
    let before = ShardTable::compute(1, &names(4), 256);
    let after = before.without_member("n4");
    assert!(!after.has("n4"));
    let moves = before.moves_to(&after);
    assert!(moves.iter().all(|(_, from, _)| from == "n4"));
    assert_eq!(moves.len(), before.counts()["n4"]);
}

#[tokio::test]
async fn the_table_persists_and_only_newer_epochs_are_adopted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), 16, Default::default()).unwrap();
        let store = TableStore::open(&storage, "n1").unwrap();
        assert!(store.current().is_none(), "no table before founding or joining");
        assert_eq!(store.owner(3), Owner::Remote(String::new()));
        assert!(store.adopt(ShardTable::compute(2, &names(3), 16)).unwrap());
        assert!(!store.adopt(ShardTable::compute(2, &names(1), 16)).unwrap());
    }
    let storage = Storage::open(dir.path(), 16, Default::default()).unwrap();
    let store = TableStore::open(&storage, "n1").unwrap();
    let table = store.current().unwrap();
    assert_eq!((table.epoch, table.members.len()), (2, 3));
    let local = (0..16).filter(|&s| store.owner(s) == Owner::Local).count();
    assert_eq!(local, table.counts()["n1"]);
}

#[tokio::test]
async fn moving_shards_are_remembered_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = Storage::open(dir.path(), 16, Default::default()).unwrap();
        let store = TableStore::open(&storage, "n1").unwrap();
        store.set_moving(3, true).unwrap();
        store.set_moving(5, true).unwrap();
        store.set_moving(5, false).unwrap();
        assert!(!store.wait_for_epoch(1, std::time::Duration::from_millis(10)).await);
        store.adopt(ShardTable::compute(1, &names(2), 16)).unwrap();
        assert!(store.wait_for_epoch(1, std::time::Duration::from_millis(10)).await);
    }
    let storage = Storage::open(dir.path(), 16, Default::default()).unwrap();
    assert_eq!(TableStore::open(&storage, "n1").unwrap().moving(), [3]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Adding one member moves shards only to it, and removing it again
        /// restores the original table exactly.
        #[test]
        fn join_then_leave_is_the_identity(size in 1usize..8, shards in 1u32..300) {
            let before = ShardTable::compute(1, &names(size), shards);
            let newcomer = format!("n{}", size + 1);
            let joined = before.with_member(member(size + 1));
            let only_to_newcomer = before.moves_to(&joined).iter().all(|(_, _, to)| *to == newcomer);
            prop_assert!(only_to_newcomer);
            let left = joined.without_member(&newcomer);
            prop_assert_eq!(left.owners, before.owners);
        }
    }
}
