//! The entity contract and the generic actor that runs every entity.
//!
//! A domain implements [`Entity`] once per kind: what its persisted state is,
//! which commands it takes and how it answers them. The runtime supplies the
//! rest — rehydration, persistence, group commit, passivation — so domain
//! actors stay a single `handle` function.

use super::address::ShardId;
use super::storage::{self, Envelope, MemberWrite, Storage, Write};
use crate::error::{Error, Result};
use crate::ports::Millis;
use futures::FutureExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::oneshot;

/// What a handled command does to the entity's persisted state.
#[derive(Debug)]
pub enum Effect<S> {
    /// Nothing changed; the reply is sent at once.
    None,
    /// Replace the state; the reply is sent once it is durable.
    Put(S),
    /// Remove the entity; the reply is sent once that is durable.
    Delete,
    /// Replace the state, but send the reply without waiting for this
    /// write (only for earlier ones): for bookkeeping whose loss in a crash
    /// only means redoing work that is safe to redo (steps already carried
    /// out, idempotently, being struck from a to-do list).
    PutQuietly(S),
}

/// A handled command: the reply and its effect on state. The reply may be an
/// error that still changes state (a failed sign-in is counted).
#[derive(Debug)]
pub struct Outcome<S, R> {
    pub reply: Result<R>,
    pub effect: Effect<S>,
    /// Member records written with the state (see `Storage::members`);
    /// only with an effect that writes.
    pub members: Vec<MemberWrite>,
}

impl<S, R> Outcome<S, R> {
    pub fn read(reply: R) -> Self {
        Self {
            reply: Ok(reply),
            effect: Effect::None,
            members: Vec::new(),
        }
    }
    pub fn write(state: S, reply: R) -> Self {
        Self {
            reply: Ok(reply),
            effect: Effect::Put(state),
            members: Vec::new(),
        }
    }
    /// Persist `state`, then answer with it.
    pub fn put(state: S) -> Self
    where
        S: Clone + Into<R>,
    {
        Self::write(state.clone(), state.into())
    }

    /// Remove the entity, then answer with `reply`.
    pub fn delete(reply: R) -> Self {
        Self {
            reply: Ok(reply),
            effect: Effect::Delete,
            members: Vec::new(),
        }
    }

    /// The same outcome, also writing `members` (see `Storage::members`).
    pub fn with_members(mut self, members: Vec<MemberWrite>) -> Self {
        self.members = members;
        self
    }

    /// Persist `state`; answer without waiting for it (see
    /// [`Effect::PutQuietly`]).
    pub fn write_quietly(state: S, reply: R) -> Self {
        Self {
            reply: Ok(reply),
            effect: Effect::PutQuietly(state),
            members: Vec::new(),
        }
    }

    /// Persist `state`, then answer with `error`.
    pub fn write_err(state: S, error: Error) -> Self {
        Self {
            reply: Err(error),
            effect: Effect::Put(state),
            members: Vec::new(),
        }
    }
}

/// One kind of entity. The implementing value holds the kind's dependencies
/// (ports such as a password hasher) and is shared by all its entities.
pub trait Entity: Send + Sync + Sized + 'static {
    /// The kind name; part of every address and storage key. Never change it.
    const KIND: &'static str;
    /// Version of the encoding of `State` written today.
    const SCHEMA_VERSION: u32 = 1;
    /// While the entity's shard is moving to another node, its commands
    /// wait and then run at the new owner (`true`), or are answered at
    /// once with 503 `shard_moving` and `Retry-After` (`false`: for
    /// clients that retry by themselves, such as tus uploads, whose
    /// streams should not hang while the shard's files are copied).
    const WAITS_WHILE_MOVING: bool = true;

    type State: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;
    /// Clone: in a cluster the router keeps a copy to retry once at a
    /// shard's new owner.
    type Command: Serialize + DeserializeOwned + Clone + Send + 'static;
    type Reply: Serialize + DeserializeOwned + Send + 'static;

    /// Decodes a record written with an older `schema_version`.
    fn upgrade(schema_version: u32, _body: &[u8]) -> Result<Self::State> {
        Err(Error::internal(format!(
            "{}: no upgrade from schema version {schema_version}",
            Self::KIND
        )))
    }

    /// Decodes a record written with an older `schema_version` whose set
    /// now lives in member records: the new state and the members to
    /// write. `None` (the default) leaves the record to [`Entity::upgrade`].
    /// Applied to every such record at start-up (`Runtime::migrate_members`).
    fn upgrade_members(_schema_version: u32, _body: &[u8]) -> Result<Option<(Self::State, Vec<MemberWrite>)>> {
        Ok(None)
    }

    /// When the entity wants to be woken (an alarm), given its state: the
    /// runtime persists the alarm with the state (see `Storage::write`), and
    /// delivers [`Entity::wake`] once that time has passed — also after a
    /// restart, or on the node a shard moved to. Handling the wake must move
    /// `due` past the time it was handled (or clear it).
    fn due(&self, _state: &Self::State) -> Option<Millis> {
        None
    }

    /// The command delivered when an alarm falls due.
    fn wake(&self) -> Option<Self::Command> {
        None
    }

    /// Answers one command. `state` is `None` for an entity never written.
    /// The handler never mutates state in place: it returns the new state as
    /// an [`Effect`], so a failed command cannot leave half a change behind.
    /// `Err` answers the caller without changing anything.
    fn handle(
        &self,
        key: &str,
        state: Option<&Self::State>,
        command: Self::Command,
    ) -> impl Future<Output = Result<Outcome<Self::State, Self::Reply>>> + Send;
}

pub(crate) type ReplyTo<E> = oneshot::Sender<Result<<E as Entity>::Reply>>;

/// A message to an entity actor: one command and where to answer it.
pub struct EntityMsg<E: Entity> {
    pub command: E::Command,
    pub reply: ReplyTo<E>,
    /// For a wake: the due time of the alarm that fired.
    pub alarm: Option<Millis>,
}

// Entity messages are local only (never remotable, see DESIGN.md), which with
// ractor's `cluster` feature is spelled as an empty `Message` impl.
impl<E: Entity> ractor::Message for EntityMsg<E> {}

/// Runs one entity of kind `E`.
pub struct EntityActor<E: Entity> {
    pub kind: Arc<E>,
    pub storage: Storage,
    pub shard: ShardId,
}

pub struct EntityState<E: Entity> {
    key: String,
    value: Option<E::State>,
    /// The sequence number of the last write this state may contain
    /// (see `Storage::is_durable`): nothing is answered from it before that
    /// write is durable.
    last_write: u64,
}

/// The answer to a wake for an alarm its entity no longer wants.
pub(crate) fn orphan_alarm() -> Error {
    Error::conflict("orphan_alarm", "this alarm was left over and is removed")
}

/// Reads an entity's persisted state, upgrading old envelopes.
pub fn load_state<E: Entity>(storage: &Storage, shard: ShardId, key: &str) -> Result<Option<E::State>> {
    storage.load(shard, E::KIND, key)?.map(from_envelope::<E>).transpose()
}

/// Decodes a record of kind `E`, upgrading it if it was written by an older
/// schema version.
pub fn from_envelope<E: Entity>(envelope: Envelope) -> Result<E::State> {
    if envelope.schema_version == E::SCHEMA_VERSION {
        storage::decode(&envelope.body)
    } else {
        E::upgrade(envelope.schema_version, &envelope.body)
    }
}

impl<E: Entity> Actor for EntityActor<E> {
    type Msg = EntityMsg<E>;
    type State = EntityState<E>;
    type Arguments = String;

    async fn pre_start(&self, _myself: ActorRef<Self::Msg>, key: String) -> Result<Self::State, ActorProcessingErr> {
        // What is loaded may include writes not yet flushed.
        let last_write = self.storage.written();
        self.storage.recover(self.shard, E::KIND, &key)?;
        let value = load_state::<E>(&self.storage, self.shard, &key)?;
        Ok(EntityState { key, value, last_write })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(due) = msg.alarm
            && state.value.as_ref().and_then(|s| self.kind.due(s)) != Some(due)
        {
            // An alarm this entity no longer wants (a crash came between
            // the steps of a write): remove it, or it fires on every tick,
            // and do not wake the entity for it.
            if let Err(e) = self.storage.remove_alarm(self.shard, due, E::KIND, &state.key) {
                tracing::warn!(kind = E::KIND, error = %e, "cannot remove an orphan alarm");
            }
            let _ = msg.reply.send(Err(orphan_alarm()));
            return Ok(());
        }
        let handled = AssertUnwindSafe(self.kind.handle(&state.key, state.value.as_ref(), msg.command))
            .catch_unwind()
            .await;
        let outcome = match handled {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                // Refusals, too, may rest on a change not yet durable.
                self.answer(myself, state.last_write, msg.reply, Err(e));
                return Ok(());
            }
            Err(_) => {
                // A bug in a handler: answer this command, then restart the
                // entity in place from storage so that the commands queued
                // behind it are still served.
                tracing::error!(kind = E::KIND, "entity handler panicked; reloading it from storage");
                let _ = msg.reply.send(Err(Error::internal("entity handler panicked")));
                state.value = load_state::<E>(&self.storage, self.shard, &state.key)?;
                return Ok(());
            }
        };
        match self.persist(&state.key, state.value.as_ref(), &outcome.effect, outcome.members) {
            Ok(written) => {
                // What the reply waits for: this write, or for a quiet one
                // the writes before it.
                let mut waits_for = written.unwrap_or(state.last_write);
                match outcome.effect {
                    Effect::None => {}
                    Effect::Put(new) => state.value = Some(new),
                    Effect::PutQuietly(new) => {
                        waits_for = state.last_write;
                        state.value = Some(new);
                    }
                    Effect::Delete => state.value = None,
                }
                state.last_write = written.unwrap_or(state.last_write);
                self.answer(myself, waits_for, msg.reply, outcome.reply);
                Ok(())
            }
            Err(e) => {
                // Memory and disk may now disagree: the write's outcome is
                // unknown, and the entity reloads what storage holds (or, if
                // storage cannot even be read, fails and is restarted).
                tracing::error!(kind = E::KIND, error = %e, "persisting failed; reloading the entity from storage");
                let _ = msg.reply.send(Err(storage_failure()));
                state.value = load_state::<E>(&self.storage, self.shard, &state.key)?;
                Ok(())
            }
        }
    }
}

/// The answer when a change could not be confirmed durable.
fn storage_failure() -> Error {
    Error::unavailable(
        "storage_failure",
        "the change could not be confirmed; check before retrying",
        1,
    )
}

impl<E: Entity> EntityActor<E> {
    /// Writes the new state and moves its alarm (not yet durable); the
    /// write's sequence number, or `None` if nothing was written.
    fn persist(
        &self,
        key: &str,
        old: Option<&E::State>,
        effect: &Effect<E::State>,
        members: Vec<MemberWrite>,
    ) -> Result<Option<u64>> {
        let alarm_before = old.and_then(|s| self.kind.due(s));
        let write = match effect {
            Effect::None if members.is_empty() => return Ok(None),
            Effect::None => {
                return Err(Error::internal(format!(
                    "{}: members written without the state",
                    E::KIND
                )));
            }
            Effect::Put(new) | Effect::PutQuietly(new) => {
                let body = storage::encode(new)?;
                Write {
                    record: Some(storage::seal(E::SCHEMA_VERSION, &body)),
                    alarm: (alarm_before, self.kind.due(new)),
                    members,
                }
            }
            Effect::Delete => Write {
                record: None,
                alarm: (alarm_before, None),
                members,
            },
        };
        self.storage.write(self.shard, E::KIND, key, write).map(Some)
    }

    /// Sends `reply` once write `seq` is durable: at once if it is, else
    /// after the next group commit — without holding up the entity, whose
    /// next commands run meanwhile (their replies wait the same way, so
    /// nothing is ever answered from a change that could still be lost).
    /// A failed flush stops the entity, which then reloads from storage.
    fn answer(&self, myself: ActorRef<EntityMsg<E>>, seq: u64, to: ReplyTo<E>, reply: Result<E::Reply>) {
        if self.storage.is_durable(seq) {
            let _ = to.send(reply);
            return;
        }
        let storage = self.storage.clone();
        tokio::spawn(async move {
            match storage.flushed().await {
                Ok(()) => {
                    let _ = to.send(reply);
                }
                Err(e) => {
                    tracing::error!(kind = E::KIND, error = %e, "a flush failed; reloading the entity from storage");
                    let _ = to.send(Err(storage_failure()));
                    myself.stop(Some("flush failed".into()));
                }
            }
        });
    }
}
