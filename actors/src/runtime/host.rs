//! The shard host: one actor per hosted shard, owning that shard's live
//! entities.
//!
//! - Activation: the first message for an entity spawns its actor, which
//!   rehydrates from storage before it handles anything.
//! - Passivation: a periodic sweep drains entities idle for longer than
//!   `passivate_after`; the live-entity cap drains the least recently used.
//!   Messages arriving while an entity drains are buffered here and replayed
//!   to its next activation, in arrival order.
//! - Restart: an entity that fails is forgotten; its next message activates it
//!   again from its persisted state.
//!
//! The host is the entities' supervisor and overrides ractor's default
//! supervision handler, which would stop the host when any child exits.

use super::address::ShardId;
use super::entity::{Entity, EntityActor, EntityMsg};
use super::metrics::RuntimeMetrics;
use super::storage::Storage;
use crate::error::Error;
use crate::ports::Millis;
use futures::future::BoxFuture;
use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// A type-erased [`EntityMsg`]: the host routes messages of every kind.
pub(crate) type Payload = Box<dyn Any + Send>;

/// A payload decoded from another node, and its encoded reply to come.
pub(crate) type DecodedAsk = (Payload, BoxFuture<'static, Result<Vec<u8>, Error>>);

/// What the host needs to know about one registered kind, without its types.
pub(crate) trait KindOps: Send + Sync {
    fn spawn(&self, key: String, shard: ShardId, supervisor: ActorCell) -> BoxFuture<'_, Result<ActorCell, Error>>;
    /// Sends to a live entity; gives the payload back if the actor is gone.
    fn send(&self, cell: &ActorCell, payload: Payload) -> Result<(), Payload>;
    /// Answers a payload with an error without running it.
    fn reject(&self, payload: Payload, error: Error);
    /// See [`Entity::WAITS_WHILE_MOVING`].
    fn waits_while_moving(&self) -> bool;
    /// For a command that arrived encoded from another node: the payload to
    /// deliver and a future resolving to the encoded `Result<Reply>`.
    fn decode_ask(&self, command: &[u8]) -> Result<DecodedAsk, Error>;
    /// The kind's wake command as a payload, and its reply to come (`Ok`
    /// once handled), if the kind has alarms.
    fn wake(&self, due: Millis) -> Option<(Payload, BoxFuture<'static, Result<(), Error>>)>;
    /// Rewrites the kind's records in `shard` that an older schema wrote
    /// with a set now kept as member records; answers how many.
    fn migrate_members(&self, storage: &Storage, shard: ShardId) -> Result<usize, Error>;
}

pub(crate) struct Kind<E: Entity> {
    pub kind: Arc<E>,
    pub storage: Storage,
}

impl<E: Entity> KindOps for Kind<E> {
    fn spawn(&self, key: String, shard: ShardId, supervisor: ActorCell) -> BoxFuture<'_, Result<ActorCell, Error>> {
        Box::pin(async move {
            let actor = EntityActor {
                kind: self.kind.clone(),
                storage: self.storage.clone(),
                shard,
            };
            let (actor_ref, _) = Actor::spawn_linked(None, actor, key, supervisor)
                .await
                .map_err(|e| Error::internal(format!("activating {}: {e}", E::KIND)))?;
            Ok(actor_ref.get_cell())
        })
    }

    fn send(&self, cell: &ActorCell, payload: Payload) -> Result<(), Payload> {
        let Ok(msg) = payload.downcast::<EntityMsg<E>>() else {
            return Ok(()); // unreachable: payloads are built for their kind
        };
        cell.send_message(*msg).map_err(|e| match e {
            ractor::MessagingErr::SendErr(msg) => Box::new(msg) as Payload,
            _ => unreachable_payload(),
        })
    }

    fn reject(&self, payload: Payload, error: Error) {
        if let Ok(msg) = payload.downcast::<EntityMsg<E>>() {
            let _ = msg.reply.send(Err(error));
        }
    }

    fn waits_while_moving(&self) -> bool {
        E::WAITS_WHILE_MOVING
    }

    fn decode_ask(&self, command: &[u8]) -> Result<DecodedAsk, Error> {
        let command: E::Command = super::storage::decode(command).map_err(|_| {
            Error::unavailable(
                "incompatible_peer",
                format!("this node does not understand that {} command (is it older?)", E::KIND),
                5,
            )
        })?;
        let (reply, answer) = oneshot::channel();
        let payload: Payload = Box::new(EntityMsg::<E> {
            command,
            reply,
            alarm: None,
        });
        let encoded = Box::pin(async move {
            let outcome = answer
                .await
                .unwrap_or_else(|_| Err(Error::unavailable("entity_restarting", "please retry", 1)));
            super::storage::encode(&outcome)
        });
        Ok((payload, encoded))
    }

    fn migrate_members(&self, storage: &Storage, shard: ShardId) -> Result<usize, Error> {
        let mut moved = 0;
        let mut after: Option<String> = None;
        loop {
            let page = storage.scan(shard, E::KIND, after.as_deref(), 500)?;
            let Some((last, _)) = page.last() else {
                return Ok(moved);
            };
            after = Some(last.clone());
            for (key, envelope) in &page {
                if self.migrate_record(storage, shard, key, envelope)? {
                    moved += 1;
                }
            }
        }
    }

    fn wake(&self, due: Millis) -> Option<(Payload, BoxFuture<'static, Result<(), Error>>)> {
        let command = self.kind.wake()?;
        let (reply, answer) = oneshot::channel();
        let payload: Payload = Box::new(EntityMsg::<E> {
            command,
            reply,
            alarm: Some(due),
        });
        let done = Box::pin(async move {
            match answer.await {
                Ok(Err(e)) if e.code() == super::entity::orphan_alarm().code() => Ok(()),
                Ok(outcome) => outcome.map(|_| ()),
                Err(_) => Err(Error::unavailable("entity_restarting", "please retry", 1)),
            }
        });
        Some((payload, done))
    }
}

impl<E: Entity> Kind<E> {
    fn migrate_record(
        &self,
        storage: &Storage,
        shard: ShardId,
        key: &str,
        envelope: &super::storage::Envelope,
    ) -> Result<bool, Error> {
        if envelope.schema_version == E::SCHEMA_VERSION {
            return Ok(false);
        }
        let Some((state, members)) = E::upgrade_members(envelope.schema_version, &envelope.body)? else {
            return Ok(false);
        };
        let due = self.kind.due(&state);
        let body = super::storage::encode(&state)?;
        let write = super::storage::Write {
            record: Some(super::storage::seal(E::SCHEMA_VERSION, &body)),
            alarm: (due, due),
            members,
        };
        storage.write(shard, E::KIND, key, write)?;
        Ok(true)
    }
}

fn unreachable_payload() -> Payload {
    Box::new(())
}

pub(crate) type Kinds = HashMap<&'static str, Arc<dyn KindOps>>;

#[derive(Debug, Clone)]
pub struct HostTunables {
    /// Passivate an entity idle for this long.
    pub passivate_after: Duration,
    /// Most entities live at once in this shard.
    pub max_live: usize,
    /// See `Tunables::hold_while_moving`.
    pub hold_while_moving: Duration,
}

pub struct ShardHost {
    pub(crate) shard: ShardId,
    pub(crate) kinds: Arc<Kinds>,
    pub(crate) tunables: HostTunables,
    pub(crate) metrics: RuntimeMetrics,
}

type Id = (&'static str, String);

enum Entry {
    Live {
        cell: ActorCell,
        last_used: Instant,
    },
    /// Draining for passivation; messages wait here for the next activation.
    Stopping {
        buffer: Vec<Payload>,
    },
}

pub struct HostState {
    entries: HashMap<Id, Entry>,
    by_actor: HashMap<ActorId, Id>,
    live: usize,
    /// Set while the shard is handed off: deliveries wait in `held`.
    frozen: Option<Frozen>,
}

struct Frozen {
    /// What arrived while frozen, and when.
    held: Vec<(Id, Payload, Instant)>,
    /// Answered once every entity has stopped.
    drained: Vec<oneshot::Sender<()>>,
}

fn shard_moving() -> Error {
    Error::unavailable("shard_moving", "this moves to another node now; retry shortly", 2)
}

pub enum HostMsg {
    Deliver {
        kind: &'static str,
        key: String,
        payload: Payload,
    },
    Sweep,
    LiveCount(oneshot::Sender<usize>),
    /// Stop serving: hold new deliveries, drain every entity, then answer.
    Freeze(oneshot::Sender<()>),
    /// Serve again. If the shard `moved`, held deliveries are answered
    /// `wrong_owner` (they did not run) so their callers retry at the new
    /// owner; otherwise they run here.
    Release {
        moved: bool,
    },
    /// Answers what waited too long for a frozen shard.
    ExpireHeld,
}

impl ractor::Message for HostMsg {}

impl Actor for ShardHost {
    type Msg = HostMsg;
    type State = HostState;
    type Arguments = ();

    async fn pre_start(&self, myself: ActorRef<HostMsg>, _: ()) -> Result<HostState, ActorProcessingErr> {
        let period = (self.tunables.passivate_after / 4).clamp(Duration::from_millis(20), Duration::from_secs(30));
        myself.send_interval(period, || HostMsg::Sweep);
        Ok(HostState {
            entries: HashMap::new(),
            by_actor: HashMap::new(),
            live: 0,
            frozen: None,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<HostMsg>,
        msg: HostMsg,
        state: &mut HostState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            HostMsg::Deliver { kind, key, payload } => match &mut state.frozen {
                Some(_) if let Some(ops) = self.kinds.get(kind).filter(|ops| !ops.waits_while_moving()) => {
                    ops.reject(payload, shard_moving())
                }
                Some(frozen) => {
                    if frozen.held.is_empty() {
                        myself.send_after(self.tunables.hold_while_moving, || HostMsg::ExpireHeld);
                    }
                    frozen.held.push(((kind, key), payload, Instant::now()));
                }
                None => self.deliver(&myself, state, (kind, key), payload).await,
            },
            HostMsg::ExpireHeld => self.expire_held(&myself, state),
            HostMsg::Sweep => self.sweep(state),
            HostMsg::Freeze(reply) => {
                let frozen = state.frozen.get_or_insert_with(|| Frozen {
                    held: Vec::new(),
                    drained: Vec::new(),
                });
                frozen.drained.push(reply);
                let live: Vec<Id> = state.entries.keys().cloned().collect();
                for id in live {
                    self.passivate(state, id);
                }
                Self::answer_if_drained(state);
            }
            HostMsg::Release { moved } => {
                if let Some(frozen) = state.frozen.take() {
                    for (id, payload, _) in frozen.held {
                        if moved {
                            if let Some(ops) = self.kinds.get(id.0) {
                                ops.reject(payload, super::router::wrong_owner());
                            }
                        } else {
                            self.deliver(&myself, state, id, payload).await;
                        }
                    }
                }
            }
            HostMsg::LiveCount(reply) => {
                let _ = reply.send(state.live);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<HostMsg>,
        event: SupervisionEvent,
        state: &mut HostState,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, failure) = match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => (cell, None),
            SupervisionEvent::ActorFailed(cell, err) => (cell, Some(err)),
            _ => return Ok(()),
        };
        let Some(id) = state.by_actor.remove(&cell.get_id()) else {
            return Ok(());
        };
        state.live -= 1;
        self.metrics.live_entities.dec();
        if let Some(err) = failure {
            tracing::warn!(shard = self.shard, kind = id.0, error = %err, "entity failed; it restarts from storage on its next message");
        }
        if let Some(Entry::Stopping { buffer }) = state.entries.remove(&id)
            && !buffer.is_empty()
        {
            match &mut state.frozen {
                // Frozen: what waited for this entity now waits for release.
                Some(frozen) => {
                    if frozen.held.is_empty() {
                        myself.send_after(self.tunables.hold_while_moving, || HostMsg::ExpireHeld);
                    }
                    let now = Instant::now();
                    frozen.held.extend(buffer.into_iter().map(|p| (id.clone(), p, now)));
                }
                None => self.activate(&myself, state, id, buffer).await,
            }
        }
        Self::answer_if_drained(state);
        Ok(())
    }
}

impl ShardHost {
    async fn deliver(&self, myself: &ActorRef<HostMsg>, state: &mut HostState, id: Id, payload: Payload) {
        let Some(ops) = self.kinds.get(id.0).cloned() else {
            tracing::error!(kind = id.0, "message for an unregistered kind");
            return;
        };
        match state.entries.get_mut(&id) {
            Some(Entry::Live { cell, last_used }) => {
                *last_used = Instant::now();
                if let Err(payload) = ops.send(cell, payload) {
                    // The actor is exiting; its termination event replays this.
                    state.entries.insert(id, Entry::Stopping { buffer: vec![payload] });
                }
            }
            Some(Entry::Stopping { buffer }) => buffer.push(payload),
            None => self.activate(myself, state, id, vec![payload]).await,
        }
    }

    async fn activate(&self, myself: &ActorRef<HostMsg>, state: &mut HostState, id: Id, payloads: Vec<Payload>) {
        let Some(ops) = self.kinds.get(id.0).cloned() else {
            return;
        };
        if state.live >= self.tunables.max_live {
            self.passivate_least_recently_used(state);
        }
        match ops.spawn(id.1.clone(), self.shard, myself.get_cell()).await {
            Ok(cell) => {
                state.live += 1;
                self.metrics.live_entities.inc();
                self.metrics.activations.inc();
                state.by_actor.insert(cell.get_id(), id.clone());
                for payload in payloads {
                    if let Err(payload) = ops.send(&cell, payload) {
                        ops.reject(payload, Error::internal("entity stopped during activation"));
                    }
                }
                state.entries.insert(
                    id,
                    Entry::Live {
                        cell,
                        last_used: Instant::now(),
                    },
                );
            }
            Err(error) => {
                tracing::error!(shard = self.shard, kind = id.0, %error, "cannot activate entity");
                for payload in payloads {
                    ops.reject(payload, Error::internal("entity cannot be loaded"));
                }
            }
        }
    }

    fn answer_if_drained(state: &mut HostState) {
        if state.entries.is_empty()
            && let Some(frozen) = &mut state.frozen
        {
            for reply in frozen.drained.drain(..) {
                let _ = reply.send(());
            }
        }
    }

    /// While frozen: what waited longer than `hold_while_moving` is
    /// answered 503 `shard_moving` (it did not run; its caller retries).
    fn expire_held(&self, myself: &ActorRef<HostMsg>, state: &mut HostState) {
        let Some(frozen) = &mut state.frozen else {
            return;
        };
        let hold = self.tunables.hold_while_moving;
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut frozen.held)
            .into_iter()
            .partition(|(_, _, since)| since.elapsed() >= hold);
        frozen.held = kept;
        for ((kind, _), payload, _) in expired {
            if let Some(ops) = self.kinds.get(kind) {
                ops.reject(payload, shard_moving());
            }
        }
        if let Some((_, _, oldest)) = frozen.held.first() {
            let left = hold.saturating_sub(oldest.elapsed());
            myself.send_after(left, || HostMsg::ExpireHeld);
        }
    }

    fn sweep(&self, state: &mut HostState) {
        let idle: Vec<Id> = state
            .entries
            .iter()
            .filter_map(|(id, entry)| match entry {
                Entry::Live { last_used, .. } if last_used.elapsed() >= self.tunables.passivate_after => {
                    Some(id.clone())
                }
                _ => None,
            })
            .collect();
        for id in idle {
            self.passivate(state, id);
        }
    }

    fn passivate_least_recently_used(&self, state: &mut HostState) {
        let oldest = state
            .entries
            .iter()
            .filter_map(|(id, entry)| match entry {
                Entry::Live { last_used, .. } => Some((*last_used, id)),
                Entry::Stopping { .. } => None,
            })
            .min_by_key(|(last_used, _)| *last_used)
            .map(|(_, id)| id.clone());
        if let Some(id) = oldest {
            self.passivate(state, id);
        }
    }

    fn passivate(&self, state: &mut HostState, id: Id) {
        if let Some(Entry::Live { cell, .. }) = state.entries.get(&id) {
            // drain: the actor finishes what is queued, then stops.
            if cell.drain().is_ok() {
                self.metrics.passivations.inc();
            }
            state.entries.insert(id, Entry::Stopping { buffer: Vec::new() });
        }
    }
}
