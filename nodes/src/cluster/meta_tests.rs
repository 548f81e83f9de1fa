use super::*;
use proptest::prelude::*;

fn node(i: u8) -> MemberInfo {
    MemberInfo {
        id: 1000 + u64::from(i),
        name: format!("n{i}"),
        cluster_addr: format!("127.0.0.{i}:47100").parse().unwrap(),
        http_addr: format!("127.0.0.{i}:18100").parse().unwrap(),
        voter: false,
    }
}

fn founded(n: u8) -> Meta {
    let found = Command::Found {
        cluster: "shop".into(),
        shards: 64,
        members: (1..=n).map(node).collect(),
    };
    Meta::default().apply(&found).unwrap().0
}

fn apply(meta: &Meta, command: Command) -> (Meta, Applied) {
    meta.apply(&command).unwrap_or_else(|e| panic!("{command:?}: {}", e.0))
}

fn join(meta: &Meta, i: u8) -> (Meta, u64) {
    let command = Command::Join {
        member: node(i),
        cluster: "shop".into(),
        shards: 64,
    };
    match apply(meta, command) {
        (next, Applied::Started(id)) => (next, id),
        other => panic!("{other:?}"),
    }
}

/// Every move of the change through every step, then the end.
fn complete(mut meta: Meta, id: u64) -> Meta {
    let shards: Vec<ShardId> = meta.change.as_ref().unwrap().moves.keys().copied().collect();
    for shard in shards {
        for step in [Step::Frozen, Step::Copied, Step::Switched, Step::Released] {
            meta = apply(
                &meta,
                Command::Advance {
                    change: id,
                    shard,
                    step,
                },
            )
            .0;
        }
    }
    apply(&meta, Command::Finish { change: id }).0
}

fn refusal(meta: &Meta, command: Command) -> String {
    meta.apply(&command).unwrap_err().0
}

#[test]
fn founding_spreads_the_shards_once() {
    let meta = founded(3);
    assert_eq!((meta.epoch, meta.owners.len()), (1, 64));
    for i in 1..=3 {
        assert!(meta.owners.contains(&format!("n{i}")), "n{i} owns shards");
    }
    assert!(meta.voters().count() == 3);
    let again = Command::Found {
        cluster: "shop".into(),
        shards: 64,
        members: vec![node(9)],
    };
    assert_eq!(apply(&meta, again).1, Applied::Unchanged, "a founder starting again");
    let other = Command::Found {
        cluster: "shop".into(),
        shards: 32,
        members: vec![node(9)],
    };
    assert!(refusal(&meta, other).contains("64 shards already"));
}

#[test]
fn a_join_moves_only_what_the_joiner_wins_and_owners_switch_one_by_one() {
    let meta = founded(3);
    let (joining, id) = join(&meta, 4);
    let change = joining.change.clone().unwrap();
    assert!(!change.moves.is_empty() && change.moves.len() < 40);
    assert!(change.moves.values().all(|m| m.to == "n4" && m.step == Step::Planned));
    assert_eq!(joining.owners, meta.owners, "nothing switched yet");
    assert!(joining.members.contains_key("n4"));
    assert_eq!(joining.epoch, meta.epoch + 1, "the members changed");
    let (&shard, moving) = change.moves.iter().next().unwrap();
    let advance = |step| Command::Advance {
        change: id,
        shard,
        step,
    };
    // Forward, one step at a time; a repeat changes nothing.
    assert!(refusal(&joining, advance(Step::Switched)).contains("cannot go to Switched"));
    let frozen = apply(&joining, advance(Step::Frozen)).0;
    assert_eq!(apply(&frozen, advance(Step::Frozen)).1, Applied::Unchanged);
    let copied = apply(&frozen, advance(Step::Copied)).0;
    assert_eq!(copied.owner(shard), moving.from, "still the source's until switched");
    let switched = apply(&copied, advance(Step::Switched)).0;
    assert_eq!((switched.owner(shard), switched.epoch), ("n4", joining.epoch + 1));
    assert!(refusal(&switched, Command::Finish { change: id }).contains("not released"));
    let done = complete(joining.clone(), id);
    assert!(done.change.is_none());
    for (s, m) in &change.moves {
        assert_eq!(done.owner(*s), m.to);
    }
    assert_eq!(done.epoch, joining.epoch + change.moves.len() as u64);
}

#[test]
fn one_change_at_a_time_whoever_asks() {
    let meta = founded(3);
    let (joining, id) = join(&meta, 4);
    let why = refusal(&joining, Command::Leave { name: "n3".into() });
    assert!(why.contains("the join of n4") && why.contains("in progress"), "{why}");
    let why = refusal(
        &joining,
        Command::Join {
            member: node(5),
            cluster: "shop".into(),
            shards: 64,
        },
    );
    assert!(why.contains("in progress"), "{why}");
    // The same join asked again answers the change in progress.
    assert_eq!(
        apply(
            &joining,
            Command::Join {
                member: node(4),
                cluster: "shop".into(),
                shards: 64
            }
        )
        .1,
        Applied::Started(id)
    );
    let done = complete(joining.clone(), id);
    let (leaving, leave) = match apply(&done, Command::Leave { name: "n3".into() }) {
        (next, Applied::Started(leave)) => (next, leave),
        other => panic!("{other:?}"),
    };
    assert!(refusal(&leaving, Command::Leave { name: "n2".into() }).contains("the leave of n3"));
    let left = complete(leaving, leave);
    assert!(!left.members.contains_key("n3"));
    assert!(!left.owners.iter().any(|o| o == "n3"));
    assert!(
        refusal(
            &left,
            Command::Advance {
                change: id,
                shard: 0,
                step: Step::Frozen
            }
        )
        .contains("is over")
    );
}

#[test]
fn joining_checks_name_shards_and_identity() {
    let meta = founded(2);
    let wrong_shards = Command::Join {
        member: node(3),
        cluster: "shop".into(),
        shards: 32,
    };
    assert!(refusal(&meta, wrong_shards).contains("the shard count never changes"));
    let wrong_cluster = Command::Join {
        member: node(3),
        cluster: "other".into(),
        shards: 64,
    };
    assert!(refusal(&meta, wrong_cluster).contains("\"other\""));
    // n2 wiped: a new identity under the member's name.
    let wiped = Command::Join {
        member: MemberInfo { id: 7, ..node(2) },
        cluster: "shop".into(),
        shards: 64,
    };
    assert!(refusal(&meta, wiped).contains("another identity"));
    let same = Command::Join {
        member: node(2),
        cluster: "shop".into(),
        shards: 64,
    };
    assert_eq!(apply(&meta, same).1, Applied::Unchanged, "a member restarting");
    let stolen = Command::Join {
        member: MemberInfo {
            name: "n9".into(),
            ..node(2)
        },
        cluster: "shop".into(),
        shards: 64,
    };
    assert!(refusal(&meta, stolen).contains("identity is n2's"));
}

#[test]
fn an_abort_returns_unmoved_shards_and_never_routes_to_a_non_member() {
    let meta = founded(3);
    let (joining, id) = join(&meta, 4);
    let moves: Vec<ShardId> = joining.change.as_ref().unwrap().moves.keys().copied().collect();
    // Nothing switched: the joiner goes, every shard stays with its source.
    let aborted = apply(&joining, Command::Abort { change: id }).0;
    assert!(!aborted.members.contains_key("n4"));
    assert_eq!(aborted.owners, meta.owners);
    let over = apply(&aborted, Command::Finish { change: id }).0;
    assert!(over.change.is_none());
    // One switched: the joiner keeps it (and stays a member); it is released.
    let (joining, id) = join(&over, 4);
    let first = moves[0];
    let mut partly = joining;
    for step in [Step::Frozen, Step::Copied, Step::Switched] {
        partly = apply(
            &partly,
            Command::Advance {
                change: id,
                shard: first,
                step,
            },
        )
        .0;
    }
    partly = apply(
        &partly,
        Command::Advance {
            change: id,
            shard: moves[1],
            step: Step::Frozen,
        },
    )
    .0;
    let aborted = apply(&partly, Command::Abort { change: id }).0;
    assert!(aborted.members.contains_key("n4"));
    assert_eq!(aborted.owner(first), "n4");
    assert_eq!(aborted.owner(moves[1]), meta.owner(moves[1]), "back to its source");
    assert!(
        refusal(
            &aborted,
            Command::Advance {
                change: id,
                shard: moves[1],
                step: Step::Copied
            }
        )
        .contains("does not move")
    );
    let released = apply(
        &aborted,
        Command::Advance {
            change: id,
            shard: first,
            step: Step::Released,
        },
    )
    .0;
    let over = apply(&released, Command::Finish { change: id }).0;
    assert!(over.change.is_none());
    assert!(over.owners.iter().all(|o| over.members.contains_key(o)));
}

#[test]
fn the_last_member_cannot_leave_and_learners_vote_when_a_voter_leaves() {
    let one = founded(1);
    assert!(refusal(&one, Command::Leave { name: "n1".into() }).contains("last member"));
    let mut meta = founded(5);
    let (joined, id) = join(&meta, 6);
    meta = complete(joined, id);
    assert!(!meta.members["n6"].voter, "a sixth member learns");
    let (leaving, id) = match apply(&meta, Command::Leave { name: "n1".into() }) {
        (next, Applied::Started(id)) => (next, id),
        other => panic!("{other:?}"),
    };
    let left = complete(leaving, id);
    assert!(left.members["n6"].voter);
    assert_eq!(left.voters().count(), 5);
}

#[test]
fn keys_are_published_by_members_and_outlive_their_node() {
    let meta = founded(2);
    let keys = vec![PublicKey {
        kid: "k1".into(),
        key: vec![1, 2, 3],
    }];
    let publish = Command::PublishKeys {
        node: "n2".into(),
        keys: keys.clone(),
    };
    let with = apply(&meta, publish.clone()).0;
    assert_eq!(with.keys["n2"], keys);
    assert_eq!(apply(&with, publish).1, Applied::Unchanged);
    assert!(
        refusal(
            &with,
            Command::PublishKeys {
                node: "n9".into(),
                keys: vec![]
            }
        )
        .contains("not a member")
    );
    let (leaving, id) = match apply(&with, Command::Leave { name: "n2".into() }) {
        (next, Applied::Started(id)) => (next, id),
        other => panic!("{other:?}"),
    };
    let left = complete(leaving, id);
    assert_eq!(left.keys["n2"], keys, "tokens n2 signed still verify");
}

fn command_strategy() -> impl Strategy<Value = (u8, u8, u8)> {
    (0u8..6, 1u8..7, 0u8..64)
}

proptest! {
    /// Whatever arrives in whatever order: every shard is owned by a
    /// member, at most one change runs, owners change only at a switch,
    /// and a refusal changes nothing.
    #[test]
    fn no_sequence_routes_a_shard_to_a_non_member(ops in proptest::collection::vec(command_strategy(), 1..120)) {
        let mut meta = founded(2);
        for (op, who, shard) in ops {
            let change = meta.change.as_ref().map_or(meta.last_change, |c| c.id);
            let steps = [Step::Frozen, Step::Copied, Step::Switched, Step::Released];
            let command = match op {
                0 => Command::Join { member: node(who), cluster: "shop".into(), shards: 64 },
                1 => Command::Leave { name: format!("n{who}") },
                2 => {
                    // The next step of some move of the change, if any.
                    let target = meta.change.as_ref().and_then(|c| {
                        c.moves.iter().nth(usize::from(shard) % c.moves.len().max(1)).map(|(s, m)| (*s, m.step))
                    });
                    match target.and_then(|(s, step)| step.next().map(|n| (s, n))) {
                        Some((s, next)) => Command::Advance { change, shard: s, step: next },
                        None => Command::Advance { change, shard: u32::from(shard), step: steps[usize::from(who) % 4] },
                    }
                }
                3 => Command::Abort { change },
                4 => Command::Finish { change },
                _ => Command::Advance { change, shard: u32::from(shard), step: steps[usize::from(who) % 4] },
            };
            if let Ok((next, _)) = meta.apply(&command) {
                for s in 0..64u32 {
                    if next.owner(s) != meta.owner(s) {
                        let switch = matches!(command, Command::Advance { step: Step::Switched, shard, .. } if shard == s);
                        prop_assert!(switch, "shard {} changed owner on {:?}", s, command);
                        prop_assert_eq!(next.epoch, meta.epoch + 1);
                    }
                }
                meta = next;
            }
            prop_assert!(meta.owners.iter().all(|o| meta.members.contains_key(o)), "{:?}", meta.owners);
            prop_assert!(meta.voters().count() <= MAX_VOTERS);
            if let Some(c) = &meta.change {
                prop_assert!(c.moves.values().all(|m| meta.members.contains_key(&m.from) || m.step >= Step::Switched));
            }
        }
    }
}

#[test]
fn an_existing_table_is_imported_once_with_its_owners() {
    let owners: Vec<String> = (0..64).map(|s| format!("n{}", 1 + s % 2)).collect();
    let import = Command::Import {
        cluster: "shop".into(),
        members: vec![node(1), node(2)],
        owners: owners.clone(),
        epoch: 7,
    };
    let (meta, applied) = Meta::default().apply(&import).unwrap();
    assert_eq!((applied, meta.epoch, meta.shards), (Applied::Done, 7, 64));
    assert_eq!(meta.owners, owners);
    assert_eq!(meta.apply(&import).unwrap().1, Applied::Unchanged);
    let bad = Command::Import {
        cluster: "shop".into(),
        members: vec![node(1)],
        owners,
        epoch: 7,
    };
    assert!(refusal(&Meta::default(), bad).contains("not its members"));
}
