use super::network::{Network, Transport, serve};
use super::store::{LogStore, StateMachine};
use super::*;
use crate::cluster::meta::{Command, MemberInfo, Step};
use actors::runtime::Storage;
use futures::future::BoxFuture;
use openraft::BasicNode;
use openraft::testing::{StoreBuilder, Suite};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

struct Fresh;

impl StoreBuilder<MetaRaft, LogStore, StateMachine, Storage> for Fresh {
    async fn build(&self) -> Result<(Storage, LogStore, StateMachine), openraft::StorageError<u64>> {
        let storage = Storage::temporary(4).unwrap();
        let log = LogStore::open(&storage).unwrap();
        let machine = StateMachine::open(&storage, Shared::default()).unwrap();
        Ok((storage, log, machine))
    }
}

/// openraft's own conformance suite for log storage and state machines.
#[test]
fn the_sled_store_passes_openrafts_suite() {
    Suite::test_all(Fresh).unwrap();
}

/// Nodes in one process; a node taken down neither answers nor is heard.
#[derive(Clone, Default)]
struct Local {
    /// The sending node.
    me: String,
    rafts: Arc<RwLock<HashMap<String, Raft>>>,
    down: Arc<RwLock<HashSet<String>>>,
}

impl Transport for Local {
    fn send(&self, to: String, body: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, String>> {
        let this = self.clone();
        Box::pin(async move {
            let down = this.down.read().unwrap().clone();
            if down.contains(&to) || down.contains(&this.me) {
                return Err(format!("{to} is down"));
            }
            let raft = this.rafts.read().unwrap().get(&to).cloned();
            match raft {
                Some(raft) => serve(&raft, &body).await,
                None => Err(format!("{to} is not running")),
            }
        })
    }
}

struct Node {
    storage: Storage,
    shared: Shared,
}

fn info(i: u8) -> MemberInfo {
    MemberInfo {
        id: u64::from(i),
        name: format!("n{i}"),
        cluster_addr: format!("127.0.0.{i}:47100").parse().unwrap(),
        http_addr: format!("127.0.0.{i}:18100").parse().unwrap(),
        voter: false,
    }
}

async fn start(local: &Local, i: u8, node: &Node) -> Raft {
    let log = LogStore::open(&node.storage).unwrap();
    let machine = StateMachine::open(&node.storage, node.shared.clone()).unwrap();
    let network = Network {
        transport: Arc::new(Local {
            me: format!("n{i}"),
            ..local.clone()
        }),
    };
    let raft = Raft::new(u64::from(i), config("shop").unwrap(), network, log, machine)
        .await
        .unwrap();
    local.rafts.write().unwrap().insert(format!("n{i}"), raft.clone());
    raft
}

/// Writes through whichever node leads now (retrying while it is elected).
async fn write(local: &Local, command: Command) -> Response {
    for _ in 0..100 {
        let rafts: Vec<Raft> = local.rafts.read().unwrap().values().cloned().collect();
        for raft in rafts {
            let leader = raft.metrics().borrow().current_leader;
            if leader == Some(raft.metrics().borrow().id)
                && let Ok(written) = raft.client_write(command.clone()).await
            {
                return written.data;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no leader took {command:?}");
}

async fn settled(nodes: &[&Node], until: impl Fn(&crate::cluster::meta::Meta) -> bool) {
    for _ in 0..100 {
        if nodes.iter().all(|n| until(&n.shared.read())) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the nodes did not converge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_apply_the_same_changes_in_the_same_order_and_survive_their_leader() {
    let local = Local::default();
    let nodes: Vec<Node> = (0..3)
        .map(|_| Node {
            storage: Storage::temporary(4).unwrap(),
            shared: Shared::default(),
        })
        .collect();
    let mut rafts = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        rafts.push(start(&local, i as u8 + 1, node).await);
    }
    let voters: BTreeMap<u64, BasicNode> = (1..=3).map(|i| (i, BasicNode::new(format!("n{i}")))).collect();
    rafts[0].initialize(voters).await.unwrap();
    let found = Command::Found {
        cluster: "shop".into(),
        shards: 16,
        members: (1..=3).map(info).collect(),
    };
    assert!(write(&local, found).await.0.is_ok());
    // Two coordinators race to start changes: exactly one wins.
    let join = Command::Join {
        member: info(4),
        cluster: "shop".into(),
        shards: 16,
    };
    let leave = Command::Leave { name: "n3".into() };
    let (a, b) = tokio::join!(write(&local, join), write(&local, leave));
    assert_eq!(
        [a.0.is_ok(), b.0.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    let all: Vec<&Node> = nodes.iter().collect();
    settled(&all, |m| m.change.is_some()).await;
    let first = nodes[0].shared.read().clone();
    for node in &nodes[1..] {
        assert_eq!(*node.shared.read(), first, "every node applied the same");
    }
    // The leader goes down mid-change; the others carry the change on.
    let leader = rafts[0].metrics().borrow().current_leader.unwrap();
    local.down.write().unwrap().insert(format!("n{leader}"));
    let change = first.change.clone().unwrap();
    for shard in change.moves.keys() {
        for step in [Step::Frozen, Step::Copied, Step::Switched, Step::Released] {
            let advance = Command::Advance {
                change: change.id,
                shard: *shard,
                step,
            };
            // Written through a node that is up.
            let up: HashMap<String, Raft> = local
                .rafts
                .read()
                .unwrap()
                .iter()
                .filter(|(name, _)| **name != format!("n{leader}"))
                .map(|(n, r)| (n.clone(), r.clone()))
                .collect();
            let others = Local {
                me: String::new(),
                rafts: Arc::new(RwLock::new(up)),
                down: local.down.clone(),
            };
            assert!(write(&others, advance).await.0.is_ok());
        }
    }
    let alive: Vec<&Node> = (1..=3u64)
        .filter(|i| *i != leader)
        .map(|i| &nodes[i as usize - 1])
        .collect();
    settled(&alive, |m| {
        m.change
            .as_ref()
            .is_some_and(|c| c.moves.values().all(|mv| mv.step == Step::Released))
    })
    .await;
    // The old leader comes back and catches up; after a restart too.
    local.down.write().unwrap().remove(&format!("n{leader}"));
    settled(&all, |m| {
        m.change
            .as_ref()
            .is_some_and(|c| c.moves.values().all(|mv| mv.step == Step::Released))
    })
    .await;
    let back = &nodes[leader as usize - 1];
    let raft = local.rafts.write().unwrap().remove(&format!("n{leader}")).unwrap();
    raft.shutdown().await.unwrap();
    back.shared.set(Default::default());
    start(&local, leader as u8, back).await;
    assert_eq!(
        back.shared.read().change.as_ref().map(|c| c.id),
        Some(change.id),
        "read back from its own disk at once"
    );
    let finish = Command::Finish { change: change.id };
    assert!(write(&local, finish).await.0.is_ok());
    settled(&all, |m| m.change.is_none()).await;
    let last = nodes[0].shared.read().clone();
    for node in &nodes[1..] {
        assert_eq!(*node.shared.read(), last);
    }
    let rafts: Vec<Raft> = local.rafts.read().unwrap().values().cloned().collect();
    for raft in rafts {
        let _ = raft.shutdown().await;
    }
}
