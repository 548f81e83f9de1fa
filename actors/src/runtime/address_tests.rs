use super::*;

#[test]
fn placement_is_stable_across_builds() {
    // Pinned values: if these change, every existing cluster's data is
    // suddenly in the wrong shard.
    assert_eq!(shard_of("user", "alice", 256), shard_of("user", "alice", 256));
    let pinned = [
        shard_of("user", "01J0000000000000000000000", 256),
        shard_of("claim", "username:alice", 256),
    ];
    assert_eq!(pinned, [PINNED_A, PINNED_B]);
}

const PINNED_A: u32 = 26;
const PINNED_B: u32 = 116;

#[test]
fn kind_is_part_of_the_address() {
    let differing = (0..100)
        .filter(|i| {
            let key = format!("k{i}");
            shard_of("user", &key, 256) != shard_of("cart", &key, 256)
        })
        .count();
    assert!(differing > 90);
}

#[test]
fn keys_spread_over_all_shards() {
    let mut seen = vec![0u32; 16];
    for i in 0..16_000 {
        seen[shard_of("user", &format!("user-{i}"), 16) as usize] += 1;
    }
    assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
}
