//! A variant job's bookkeeping: queued → running → succeeded | failed,
//! with progress, a lease that lets a job interrupted by a crash resume,
//! and a bound on how often it is tried. Pure; the job entity and its
//! worker (`actor.rs`) do the work.

use super::variants::Spec;
use crate::ports::Millis;
use serde::{Deserialize, Serialize};

/// A running job not heard of for this long is resumed (it was cut short
/// by a crash or a hand-off); its worker reports at least this often.
pub const LEASE: Millis = 15_000;
/// Runs of one job at most (each interrupted run counts).
pub const MAX_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub media_id: String,
    /// Who asked (the owner for the default variants).
    pub requested_by: String,
    /// The asset's owner.
    pub owner: String,
    pub specs: Vec<Spec>,
    pub status: JobStatus,
    /// 0–100.
    pub progress: u8,
    pub error: Option<String>,
    pub attempts: u32,
    pub created_at: Millis,
    /// When its last run began.
    pub started_at: Option<Millis>,
    pub updated_at: Millis,
}

impl Job {
    pub fn new(media_id: &str, requested_by: &str, owner: &str, specs: Vec<Spec>, now: Millis) -> Self {
        Self {
            media_id: media_id.into(),
            requested_by: requested_by.into(),
            owner: owner.into(),
            specs,
            status: JobStatus::Queued,
            progress: 0,
            error: None,
            attempts: 0,
            created_at: now,
            started_at: None,
            updated_at: now,
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self.status, JobStatus::Succeeded | JobStatus::Failed)
    }

    /// When an unfinished job is looked at again (see [`LEASE`]).
    pub fn due(&self) -> Option<Millis> {
        (!self.is_final()).then_some(self.updated_at + LEASE)
    }

    /// Who may read it: whoever asked, and the asset's owner.
    pub fn may_see(&self, caller: &str) -> bool {
        self.requested_by == caller || self.owner == caller
    }

    /// A worker starts a run (another attempt); unchanged when final.
    pub fn started(&self, now: Millis) -> Self {
        if self.is_final() {
            return self.clone();
        }
        Self {
            status: JobStatus::Running,
            progress: 0,
            attempts: self.attempts + 1,
            started_at: Some(now),
            updated_at: now,
            ..self.clone()
        }
    }

    /// `done` of `total` variants made; progress never goes back.
    pub fn progressed(&self, done: usize, total: usize, now: Millis) -> Self {
        if self.status != JobStatus::Running {
            return self.clone();
        }
        let percent = match total {
            0 => 100,
            _ => (done.min(total) * 100 / total) as u8,
        };
        Self {
            progress: self.progress.max(percent),
            updated_at: now,
            ..self.clone()
        }
    }

    pub fn succeeded(&self, now: Millis) -> Self {
        if self.is_final() {
            return self.clone();
        }
        Self {
            status: JobStatus::Succeeded,
            progress: 100,
            error: None,
            updated_at: now,
            ..self.clone()
        }
    }

    pub fn failed(&self, error: &str, now: Millis) -> Self {
        if self.is_final() {
            return self.clone();
        }
        Self {
            status: JobStatus::Failed,
            error: Some(error.into()),
            updated_at: now,
            ..self.clone()
        }
    }

    /// Its lease renewed: a worker is still on it here.
    pub fn touched(&self, now: Millis) -> Self {
        Self {
            updated_at: now,
            ..self.clone()
        }
    }

    /// What its alarm means when no worker here is on it: run it (again),
    /// or — tried [`MAX_ATTEMPTS`] times already — give up.
    pub fn resumed(&self, now: Millis) -> Resume {
        match (self.is_final(), self.attempts >= MAX_ATTEMPTS) {
            (true, _) => Resume::Nothing,
            (false, true) => {
                Resume::GiveUp(self.failed(&format!("interrupted {} times; not tried again", self.attempts), now))
            }
            (false, false) => Resume::Run(self.touched(now)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    Nothing,
    Run(Job),
    GiveUp(Job),
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
