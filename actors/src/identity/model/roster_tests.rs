use super::*;
use proptest::prelude::*;

fn ask(roster: &mut Option<Roster>, request: RosterRequest) -> Result<RosterAnswer> {
    let (next, answer) = decide(roster.as_ref(), request)?;
    if let Some(next) = next {
        *roster = Some(next);
    }
    Ok(answer)
}

fn members(names: &[&str]) -> RosterAnswer {
    RosterAnswer::Members(names.iter().map(|n| n.to_string()).collect())
}

fn release(user: &str, revision: u64) -> RosterRequest {
    RosterRequest::Release {
        user: user.into(),
        revision,
    }
}

fn observe(user: &str, revision: u64, full: bool) -> RosterRequest {
    RosterRequest::Observe {
        user: user.into(),
        revision,
        full,
    }
}

#[test]
fn full_administrators_hold_the_admin_role_and_are_enabled() {
    let roles = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert!(is_full_admin(&roles(&["customer", "admin"]), false));
    assert!(!is_full_admin(&roles(&["admin"]), true), "disabled");
    assert!(
        !is_full_admin(&roles(&["seller", "everything"]), false),
        "custom roles do not count"
    );
}

#[test]
fn an_unseeded_roster_asks_for_a_seed_and_a_seed_is_taken_once() {
    let mut roster = None;
    assert_eq!(ask(&mut roster, release("a", 1)).unwrap(), RosterAnswer::Unseeded);
    assert_eq!(ask(&mut roster, observe("a", 1, true)).unwrap(), RosterAnswer::Unseeded);
    assert!(roster.is_none(), "nothing stored before the seed");
    let seed = RosterRequest::Seed(vec![("a".into(), 1), ("b".into(), 4)]);
    assert_eq!(ask(&mut roster, seed).unwrap(), members(&["a", "b"]));
    let stale = RosterRequest::Seed(vec![("c".into(), 1)]);
    assert_eq!(
        ask(&mut roster, stale).unwrap(),
        members(&["a", "b"]),
        "a second seed changes nothing"
    );
}

#[test]
fn the_last_member_is_never_released() {
    let mut roster = Some(Roster::default());
    ask(&mut roster, observe("a", 1, true)).unwrap();
    ask(&mut roster, observe("b", 1, true)).unwrap();
    assert_eq!(ask(&mut roster, release("a", 1)).unwrap(), members(&["b"]));
    let err = ask(&mut roster, release("b", 1)).unwrap_err();
    assert_eq!(err.code(), "last_admin");
    assert_eq!(
        ask(&mut roster, release("c", 3)).unwrap(),
        members(&["b"]),
        "someone else"
    );
    assert_eq!(Roster::default().members.len(), 0);
    let mut empty = Some(Roster::default());
    assert_eq!(
        ask(&mut empty, release("x", 1)).unwrap_err().code(),
        "last_admin",
        "with no member known, nothing is released"
    );
}

#[test]
fn an_observation_at_or_below_a_fence_does_not_admit() {
    let mut roster = Some(Roster::default());
    ask(&mut roster, observe("a", 1, true)).unwrap();
    ask(&mut roster, observe("b", 5, true)).unwrap();
    ask(&mut roster, release("b", 5)).unwrap();
    // A read of b made before its release (at 5) arrives late: b may be
    // demoted at 6 any moment, so it is not admitted.
    assert_eq!(ask(&mut roster, observe("b", 5, true)).unwrap(), members(&["a"]));
    // Once b is seen past the fence as an administrator, it counts again.
    assert_eq!(ask(&mut roster, observe("b", 7, true)).unwrap(), members(&["a", "b"]));
    // Seen as not one, at any revision, it leaves.
    assert_eq!(ask(&mut roster, observe("b", 2, false)).unwrap(), members(&["a"]));
}

#[test]
fn nothing_is_stored_when_nothing_changes() {
    let roster = Roster {
        members: ["a".to_string()].into(),
        fences: BTreeMap::new(),
    };
    let (next, _) = decide(Some(&roster), observe("a", 3, true)).unwrap();
    assert!(next.is_none());
    let (next, _) = decide(Some(&roster), observe("z", 3, false)).unwrap();
    assert!(next.is_none());
}

// ------------------------------------------------ the protocol, interleaved

/// A user as the user entity holds it.
#[derive(Debug, Clone, Copy)]
struct Account {
    full: bool,
    revision: u64,
}

/// One administration flow, as `admin.rs` runs it, step by step.
#[derive(Debug, Clone)]
struct Flow {
    target: usize,
    /// To make the target a full administrator (or to take it away).
    make_full: bool,
    step: u8,
    read: Option<Account>,
    observed: Option<Account>,
    done: bool,
}

impl Flow {
    /// Runs the next step against the accounts and the roster.
    fn advance(&mut self, accounts: &mut [Account], roster: &mut Option<Roster>) {
        let user = format!("u{}", self.target);
        match self.step {
            0 => self.read = Some(accounts[self.target]),
            1 => {
                let read = self.read.unwrap_or(accounts[self.target]);
                if read.full && !self.make_full && ask(roster, release(&user, read.revision)).is_err() {
                    self.done = true; // 409 last_admin
                }
            }
            2 => {
                // The change, applied only at the revision read.
                let read = self.read.unwrap_or(accounts[self.target]);
                let account = &mut accounts[self.target];
                if account.revision == read.revision {
                    account.full = self.make_full;
                    account.revision += 1;
                }
                self.observed = Some(*account);
            }
            _ => {
                let seen = self.observed.unwrap_or(accounts[self.target]);
                let _ = ask(roster, observe(&user, seen.revision, seen.full));
                self.done = true;
            }
        }
        self.step += 1;
    }
}

fn flow() -> impl Strategy<Value = (usize, bool)> {
    (0..4usize, any::<bool>())
}

proptest! {
    /// However administrators' changes interleave (and whichever of them
    /// die half-way), the roster only ever names actual full
    /// administrators, and at least one remains.
    #[test]
    fn concurrent_demotions_never_leave_the_shop_without_an_administrator(
        flows in proptest::collection::vec(flow(), 1..8),
        schedule in proptest::collection::vec((0..8usize, 0..20u8), 1..80),
    ) {
        let mut accounts = vec![
            Account { full: true, revision: 0 },
            Account { full: true, revision: 3 },
            Account { full: false, revision: 0 },
            Account { full: false, revision: 1 },
        ];
        let mut roster = None;
        let found = accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.full)
            .map(|(i, a)| (format!("u{i}"), a.revision))
            .collect();
        ask(&mut roster, RosterRequest::Seed(found)).unwrap();
        let mut flows: Vec<Flow> = flows
            .into_iter()
            .map(|(target, make_full)| Flow { target, make_full, step: 0, read: None, observed: None, done: false })
            .collect();
        for (pick, die) in schedule {
            let Some(flow) = flows.get_mut(pick % 8) else { continue };
            if flow.done {
                continue;
            }
            if die == 0 {
                flow.done = true; // the node running it crashed
                continue;
            }
            flow.advance(&mut accounts, &mut roster);
            let members = roster.as_ref().map(|r| r.members.clone()).unwrap_or_default();
            for member in &members {
                let i: usize = member[1..].parse().unwrap();
                prop_assert!(accounts[i].full, "{member} is on the roster but not an administrator");
            }
            prop_assert!(accounts.iter().any(|a| a.full), "no full administrator left");
        }
    }
}
