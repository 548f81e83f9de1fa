use super::*;
use crate::media::variants::{Fit, Format};

fn job() -> Job {
    let spec = Spec {
        name: "thumb".into(),
        width: 10,
        height: 10,
        fit: Fit::Cover,
        format: Format::Png,
        quality: None,
    };
    Job::new("m_1", "asker", "owner", vec![spec], 1_000)
}

#[test]
fn a_job_goes_from_queued_through_running_to_succeeded() {
    let queued = job();
    assert_eq!(
        (queued.status, queued.progress, queued.due()),
        (JobStatus::Queued, 0, Some(1_000 + LEASE))
    );
    let running = queued.started(2_000);
    assert_eq!((running.status, running.attempts), (JobStatus::Running, 1));
    assert_eq!((queued.started_at, running.started_at), (None, Some(2_000)));
    let half = running.progressed(1, 2, 3_000);
    assert_eq!((half.progress, half.due()), (50, Some(3_000 + LEASE)));
    // Progress never goes back, and is only counted while running.
    assert_eq!(half.progressed(0, 2, 3_500).progress, 50);
    assert_eq!(queued.progressed(2, 2, 3_500).progress, 0);
    let done = half.succeeded(4_000);
    assert_eq!(
        (done.status, done.progress, done.due()),
        (JobStatus::Succeeded, 100, None)
    );
    // Final stays final.
    assert_eq!(done.failed("late", 5_000), done);
    assert_eq!(done.started(5_000), done);
    assert_eq!(done.resumed(5_000), Resume::Nothing);
}

#[test]
fn a_failure_keeps_its_reason() {
    let failed = job().started(2_000).failed("corrupt_image", 3_000);
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("corrupt_image"));
    assert_eq!(failed.due(), None);
    assert_eq!(failed.succeeded(4_000), failed);
}

#[test]
fn an_interrupted_job_runs_again_until_it_was_tried_too_often() {
    let mut j = job();
    for attempt in 1..=MAX_ATTEMPTS {
        let Resume::Run(next) = j.resumed(10_000 * Millis::from(attempt)) else {
            panic!("attempt {attempt} should run");
        };
        assert_eq!(next.due(), Some(10_000 * Millis::from(attempt) + LEASE));
        j = next.started(10_000 * Millis::from(attempt));
        assert_eq!(j.attempts, attempt);
    }
    let Resume::GiveUp(given_up) = j.resumed(99_000) else {
        panic!("a job tried {MAX_ATTEMPTS} times is given up");
    };
    assert_eq!(given_up.status, JobStatus::Failed);
    assert!(given_up.error.unwrap().contains("interrupted 3 times"));
}

#[test]
fn only_the_asker_and_the_owner_see_a_job() {
    let j = job();
    assert!(j.may_see("asker"));
    assert!(j.may_see("owner"));
    assert!(!j.may_see("stranger"));
}

#[test]
fn progress_of_nothing_to_make_is_whole() {
    assert_eq!(job().started(1).progressed(0, 0, 2).progress, 100);
}
