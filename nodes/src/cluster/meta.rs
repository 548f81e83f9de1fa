//! The cluster's metadata as one replicated state machine (issue 16):
//! members with their identities, the shard count and cluster name, the
//! owner of every shard, the membership change in progress with the step
//! each of its shard moves has reached, and every node's public signing
//! keys. Pure: [`Meta::apply`] decides every command the same way on every
//! node, so applied in log order (Raft's) all nodes agree, and a refusal
//! changes nothing.
//!
//! Rules:
//! - One change at a time: a join or a leave while another is in progress
//!   is refused, naming the one in progress.
//! - A shard move goes planned → frozen → copied → switched → released,
//!   one step at a time; its owner changes only at `switched` (and the
//!   epoch with it). The source lets go of its copy only after that.
//! - Aborting drops every move not yet switched (those shards stay with
//!   their source, data intact); switched moves still get released. A
//!   joiner keeps the shards already switched to it, so no shard is ever
//!   routed to a non-member; a joiner left with none is no member.
//! - Joining checks the cluster name and shard count, and the node's
//!   identity: a name already taken by another identity (a wiped data
//!   directory) is refused.
//! - Voters are the first five members; later ones are learners.

use super::table::Member;
use actors::runtime::ShardId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Most voters; later members are learners (they still own shards).
pub const MAX_VOTERS: usize = 5;

/// A node's identity: created at its first start, kept in its data
/// directory; the Raft node id.
pub type NodeId = u64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub id: NodeId,
    pub name: String,
    pub cluster_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub voter: bool,
}

impl MemberInfo {
    pub fn member(&self) -> Member {
        Member {
            name: self.name.clone(),
            cluster_addr: self.cluster_addr,
            http_addr: self.http_addr,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Step {
    Planned,
    /// The source stopped serving the shard.
    Frozen,
    /// The receiver holds a verified copy.
    Copied,
    /// The receiver owns it.
    Switched,
    /// The source let go of its copy.
    Released,
}

impl Step {
    /// The step after this one.
    pub fn next(self) -> Option<Step> {
        match self {
            Step::Planned => Some(Step::Frozen),
            Step::Frozen => Some(Step::Copied),
            Step::Copied => Some(Step::Switched),
            Step::Switched => Some(Step::Released),
            Step::Released => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Join(String),
    Leave(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub id: u64,
    pub kind: ChangeKind,
    pub moves: BTreeMap<ShardId, Move>,
    /// Aborted: only the switched moves remain, to be released.
    pub aborted: bool,
}

impl Change {
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            ChangeKind::Join(name) => format!("the join of {name}"),
            ChangeKind::Leave(name) => format!("the leave of {name}"),
        };
        let switched = self.moves.values().filter(|m| m.step >= Step::Switched).count();
        format!(
            "{what} (change {}, {switched} of {} shard moves switched{})",
            self.id,
            self.moves.len(),
            if self.aborted { ", aborting" } else { "" }
        )
    }
}

/// A public key that verifies tokens a node signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub kid: String,
    pub key: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub cluster: String,
    pub shards: u32,
    /// By name.
    pub members: BTreeMap<String, MemberInfo>,
    /// `owners[shard]`: a member's name (empty before the founding).
    pub owners: Vec<String>,
    /// Bumped whenever an owner or the members change.
    pub epoch: u64,
    pub change: Option<Change>,
    pub last_change: u64,
    /// By node name; kept after a node leaves (its tokens stay valid).
    pub keys: BTreeMap<String, Vec<PublicKey>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// The first members form the cluster (once).
    Found {
        cluster: String,
        shards: u32,
        members: Vec<MemberInfo>,
    },
    /// A node asks to join; it states what it was configured with.
    Join {
        member: MemberInfo,
        cluster: String,
        shards: u32,
    },
    Leave {
        name: String,
    },
    /// A move of the change in progress reached `step`.
    Advance {
        change: u64,
        shard: ShardId,
        step: Step,
    },
    /// The operator gives up the change in progress.
    Abort {
        change: u64,
    },
    /// Every move of the change is released: the change ends.
    Finish {
        change: u64,
    },
    /// A node's current public keys.
    PublishKeys {
        node: String,
        keys: Vec<PublicKey>,
    },
    /// An existing cluster's table, taken over on the first start of a
    /// version with Raft (once; like `Found`, but with today's owners).
    Import {
        cluster: String,
        members: Vec<MemberInfo>,
        owners: Vec<String>,
        epoch: u64,
    },
}

/// What applying a command answered: the change it started, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
    /// Nothing to do (a repeat).
    Unchanged,
    Started(u64),
}

impl Applied {
    /// The change a join or leave started (or repeated), 0 for other
    /// answers.
    pub fn change(&self) -> u64 {
        match self {
            Applied::Started(change) => *change,
            _ => 0,
        }
    }
}

/// Why a command was refused; the same on every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused(pub String);

/// How a refusal for another change in progress ends.
const BUSY: &str = "is in progress; wait for it or abort it (node cluster abort)";

impl Refused {
    /// Refused only because another change is in progress.
    pub fn busy(&self) -> bool {
        self.0.ends_with(BUSY)
    }
}

fn refused<T>(why: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(why.into()))
}

fn score(member: &str, shard: ShardId) -> u64 {
    let mut bytes = member.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(&shard.to_be_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Rendezvous hashing: the name among `names` that scores highest.
fn winner<'a>(names: impl Iterator<Item = &'a String>, shard: ShardId) -> Option<&'a String> {
    names.max_by_key(|name| score(name, shard))
}

impl Meta {
    pub fn founded(&self) -> bool {
        !self.members.is_empty()
    }

    /// Where `shard`'s commands go now.
    pub fn owner(&self, shard: ShardId) -> &str {
        self.owners.get(shard as usize).map_or("", String::as_str)
    }

    pub fn voters(&self) -> impl Iterator<Item = &MemberInfo> {
        self.members.values().filter(|m| m.voter)
    }

    /// `command` applied: the next state and its answer, or why it was
    /// refused (nothing changed).
    pub fn apply(&self, command: &Command) -> Result<(Meta, Applied), Refused> {
        let mut next = self.clone();
        let applied = match command {
            Command::Found {
                cluster,
                shards,
                members,
            } => {
                if self.founded() {
                    return match self.cluster == *cluster && self.shards == *shards {
                        true => Ok((next, Applied::Unchanged)),
                        false => refused(format!(
                            "this cluster is {:?} with {} shards already",
                            self.cluster, self.shards
                        )),
                    };
                }
                if members.is_empty() || *shards == 0 {
                    return refused("a cluster is founded by at least one member, with shards");
                }
                next.cluster = cluster.clone();
                next.shards = *shards;
                for (i, member) in members.iter().enumerate() {
                    let member = MemberInfo {
                        voter: i < MAX_VOTERS,
                        ..member.clone()
                    };
                    next.members.insert(member.name.clone(), member);
                }
                next.owners = (0..*shards)
                    .map(|s| winner(next.members.keys(), s).cloned().unwrap_or_default())
                    .collect();
                next.epoch = 1;
                Applied::Done
            }
            Command::Import {
                cluster,
                members,
                owners,
                epoch,
            } => {
                if self.founded() {
                    return Ok((next, Applied::Unchanged));
                }
                let named = |o: &String| members.iter().any(|m| &m.name == o);
                if members.is_empty() || owners.is_empty() || !owners.iter().all(named) {
                    return refused("an imported table names owners that are not its members");
                }
                next.cluster = cluster.clone();
                next.shards = owners.len() as u32;
                for (i, member) in members.iter().enumerate() {
                    let member = MemberInfo {
                        voter: i < MAX_VOTERS,
                        ..member.clone()
                    };
                    next.members.insert(member.name.clone(), member);
                }
                next.owners = owners.clone();
                next.epoch = *epoch;
                Applied::Done
            }
            Command::Join {
                member,
                cluster,
                shards,
            } => return self.join(member, cluster, *shards),
            Command::Leave { name } => return self.leave(name),
            Command::Advance { change, shard, step } => return self.advance(*change, *shard, *step),
            Command::Abort { change } => return self.abort(*change),
            Command::Finish { change } => return self.finish(*change),
            Command::PublishKeys { node, keys } => {
                if !self.members.contains_key(node) {
                    return refused(format!("{node} is not a member"));
                }
                if self.keys.get(node) == Some(keys) {
                    return Ok((next, Applied::Unchanged));
                }
                next.keys.insert(node.clone(), keys.clone());
                Applied::Done
            }
        };
        Ok((next, applied))
    }

    fn in_progress(&self) -> Result<(), Refused> {
        match &self.change {
            Some(change) => refused(format!("{} {BUSY}", change.describe())),
            None => Ok(()),
        }
    }

    fn start(&self, next: &mut Meta, kind: ChangeKind, moves: BTreeMap<ShardId, Move>) -> Applied {
        next.last_change = self.last_change + 1;
        next.change = Some(Change {
            id: next.last_change,
            kind,
            moves,
            aborted: false,
        });
        Applied::Started(next.last_change)
    }

    fn join(&self, member: &MemberInfo, cluster: &str, shards: u32) -> Result<(Meta, Applied), Refused> {
        if !self.founded() {
            return refused("the cluster is not founded yet");
        }
        if cluster != self.cluster || shards != self.shards {
            return refused(format!(
                "{} is configured for cluster {cluster:?} with {shards} shards, but this cluster is {:?} with {} \
                 shards: fix its cluster.toml (the shard count never changes)",
                member.name, self.cluster, self.shards
            ));
        }
        if let Some(known) = self.members.get(&member.name) {
            if known.id != member.id {
                return refused(format!(
                    "{} is a member with another identity: its data directory is not the member's (wiped or \
                     replaced); restore that directory, or join this node under a new name",
                    member.name
                ));
            }
            return match (&self.change, known.cluster_addr == member.cluster_addr) {
                (Some(c), _) if c.kind == ChangeKind::Join(member.name.clone()) => {
                    Ok((self.clone(), Applied::Started(c.id)))
                }
                (_, true) => Ok((self.clone(), Applied::Unchanged)),
                (_, false) => refused(format!("{} is a member with another address", member.name)),
            };
        }
        if let Some(other) = self.members.values().find(|m| m.id == member.id) {
            return refused(format!("this node's identity is {}'s", other.name));
        }
        self.in_progress()?;
        let mut next = self.clone();
        let voter = self.voters().count() < MAX_VOTERS;
        next.members.insert(
            member.name.clone(),
            MemberInfo {
                voter,
                ..member.clone()
            },
        );
        let moves = (0..self.shards)
            .filter(|&s| winner(next.members.keys(), s) == Some(&member.name))
            .map(|s| {
                let from = self.owner(s).to_string();
                (
                    s,
                    Move {
                        from,
                        to: member.name.clone(),
                        step: Step::Planned,
                    },
                )
            })
            .collect();
        next.epoch += 1;
        let applied = self.start(&mut next, ChangeKind::Join(member.name.clone()), moves);
        Ok((next, applied))
    }

    fn leave(&self, name: &str) -> Result<(Meta, Applied), Refused> {
        if !self.members.contains_key(name) {
            return refused(format!("{name} is not a member"));
        }
        if let Some(c) = &self.change
            && c.kind == ChangeKind::Leave(name.to_string())
        {
            return Ok((self.clone(), Applied::Started(c.id)));
        }
        self.in_progress()?;
        if self.members.len() == 1 {
            return refused("the last member of a cluster cannot leave it");
        }
        let mut next = self.clone();
        let rest: Vec<&String> = self.members.keys().filter(|n| *n != name).collect();
        let moves = (0..self.shards)
            .filter(|&s| self.owner(s) == name)
            .filter_map(|s| {
                let to = winner(rest.iter().copied(), s)?.clone();
                Some((
                    s,
                    Move {
                        from: name.to_string(),
                        to,
                        step: Step::Planned,
                    },
                ))
            })
            .collect();
        let applied = self.start(&mut next, ChangeKind::Leave(name.to_string()), moves);
        Ok((next, applied))
    }

    fn current(&self, id: u64) -> Result<&Change, Refused> {
        match &self.change {
            Some(change) if change.id == id => Ok(change),
            Some(change) => refused(format!("change {id} is over; {} is in progress", change.describe())),
            None => refused(format!("change {id} is over")),
        }
    }

    fn advance(&self, id: u64, shard: ShardId, step: Step) -> Result<(Meta, Applied), Refused> {
        let change = self.current(id)?;
        let Some(moving) = change.moves.get(&shard) else {
            return refused(format!("shard {shard} does not move in change {id}"));
        };
        if moving.step == step {
            return Ok((self.clone(), Applied::Unchanged));
        }
        if moving.step.next() != Some(step) {
            return refused(format!(
                "shard {shard} is {:?}; it cannot go to {step:?} from there",
                moving.step
            ));
        }
        if change.aborted && step < Step::Released {
            return refused(format!("change {id} was aborted; shard {shard} only gets released"));
        }
        let mut next = self.clone();
        if step == Step::Switched {
            next.owners[shard as usize] = moving.to.clone();
            next.epoch += 1;
        }
        if let Some(change) = next.change.as_mut()
            && let Some(m) = change.moves.get_mut(&shard)
        {
            m.step = step;
        }
        Ok((next, Applied::Done))
    }

    fn abort(&self, id: u64) -> Result<(Meta, Applied), Refused> {
        let change = self.current(id)?;
        if change.aborted {
            return Ok((self.clone(), Applied::Unchanged));
        }
        let mut next = self.clone();
        let mut aborted = change.clone();
        aborted.aborted = true;
        aborted.moves.retain(|_, m| m.step >= Step::Switched);
        if let ChangeKind::Join(name) = &change.kind
            && !next.owners.contains(name)
        {
            next.members.remove(name);
            next.epoch += 1;
        }
        next.change = Some(aborted);
        Ok((next, Applied::Done))
    }

    fn finish(&self, id: u64) -> Result<(Meta, Applied), Refused> {
        let change = self.current(id)?;
        if let Some((shard, m)) = change.moves.iter().find(|(_, m)| m.step != Step::Released) {
            return refused(format!("shard {shard} is {:?}, not released yet", m.step));
        }
        let mut next = self.clone();
        if let ChangeKind::Leave(name) = &change.kind
            && !change.aborted
        {
            next.members.remove(name);
            next.epoch += 1;
            // The first members vote: a learner takes the leaver's place.
            let voters = next.voters().count();
            for member in next
                .members
                .values_mut()
                .filter(|m| !m.voter)
                .take(MAX_VOTERS - voters.min(MAX_VOTERS))
            {
                member.voter = true;
            }
        }
        next.change = None;
        Ok((next, Applied::Done))
    }
}

#[cfg(test)]
#[path = "meta_tests.rs"]
mod tests;
