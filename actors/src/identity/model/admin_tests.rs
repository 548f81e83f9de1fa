use super::super::roster::{self, Roster, RosterRequest};
use super::*;
use proptest::prelude::*;

fn is_full(member: &Member) -> bool {
    roster::is_full_admin(&[member.role.to_string()], member.disabled)
}

fn perms(role: &str) -> BTreeSet<String> {
    match role {
        "support" => ["identity:admin".to_string()].into(),
        other => access::builtin_permissions(other).unwrap_or_default(),
    }
}

#[test]
fn a_weaker_administrator_cannot_act_on_a_stronger_one() {
    let err = may_manage(&perms("support"), &perms("admin")).unwrap_err();
    assert_eq!(err.code(), "outranked");
    assert!(err.to_string().contains("cluster:admin"));
    assert!(may_manage(&perms("admin"), &perms("support")).is_ok());
    assert!(
        may_manage(&perms("support"), &perms("customer")).is_err(),
        "it lacks cart:use"
    );
    assert!(may_manage(&perms("admin"), &perms("admin")).is_ok());
}

#[test]
fn nobody_raises_their_own_quotas() {
    let none = BTreeMap::new();
    let huge = BTreeMap::from([("max_stores".to_string(), u64::MAX)]);
    assert_eq!(may_set_quotas(true, &none, &huge).unwrap_err().code(), "own_quota");
    assert!(may_set_quotas(false, &none, &huge).is_ok(), "for someone else");
    let lower = BTreeMap::from([("max_stores".to_string(), 1)]);
    assert!(may_set_quotas(true, &none, &lower).is_ok(), "lowering is fine");
    assert!(
        may_set_quotas(true, &lower, &none).is_err(),
        "back to a larger default is raising"
    );
}

/// A user as the administration flows see it.
#[derive(Debug, Clone)]
struct Member {
    role: &'static str,
    disabled: bool,
    quotas: BTreeMap<String, u64>,
    revision: u64,
}

#[derive(Debug, Clone)]
enum Op {
    Disable(usize, usize),
    Enable(usize, usize),
    SetRole(usize, usize, &'static str),
    RaiseOwnQuota(usize),
}

const ROLES: [&str; 4] = ["admin", "support", "seller", "customer"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..5usize, 0..5usize).prop_map(|(a, t)| Op::Disable(a, t)),
        (0..5usize, 0..5usize).prop_map(|(a, t)| Op::Enable(a, t)),
        (0..5usize, 0..5usize, 0..4usize).prop_map(|(a, t, r)| Op::SetRole(a, t, ROLES[r])),
        (0..5usize).prop_map(Op::RaiseOwnQuota),
    ]
}

/// What the flows do: the caller must be enabled and hold identity:admin,
/// then the rules above decide, and the roster when administration would
/// be taken away.
fn apply(members: &mut [Member], roster: &mut Roster, op: &Op) -> Result<()> {
    let (actor, target) = match op {
        Op::Disable(a, t) | Op::Enable(a, t) | Op::SetRole(a, t, _) => (*a, *t),
        Op::RaiseOwnQuota(a) => (*a, *a),
    };
    let caller = perms(members[actor].role);
    if members[actor].disabled || !caller.contains("identity:admin") {
        return Err(Error::forbidden("missing_permission", "identity:admin"));
    }
    let target_perms = perms(members[target].role);
    may_manage(&caller, &target_perms)?;
    let mut next = members[target].clone();
    match op {
        Op::Disable(..) => {
            if actor == target {
                return Err(Error::conflict("cannot_disable_self", ""));
            }
            next.disabled = true;
        }
        Op::Enable(..) => next.disabled = false,
        Op::SetRole(_, _, role) => {
            may_manage(&caller, &perms(role))?;
            next.role = role;
        }
        Op::RaiseOwnQuota(_) => {
            let next = BTreeMap::from([("max_stores".to_string(), u64::MAX)]);
            may_set_quotas(true, &members[target].quotas, &next)?;
            members[target].quotas = next;
            return Ok(());
        }
    }
    let user = format!("u{target}");
    let mut ask = |request| -> Result<()> {
        if let (Some(changed), _) = roster::decide(Some(roster), request)? {
            *roster = changed;
        }
        Ok(())
    };
    if is_full(&members[target]) && !is_full(&next) {
        ask(RosterRequest::Release {
            user: user.clone(),
            revision: next.revision,
        })?;
    }
    next.revision += 1;
    let full = is_full(&next);
    members[target] = next;
    ask(RosterRequest::Observe {
        user,
        revision: members[target].revision,
        full,
    })
}

proptest! {
    /// Whatever administrators do to each other, an enabled full
    /// administrator remains, nobody holding less than everything ever
    /// changes a full administrator, and nobody's quotas are raised by
    /// themselves.
    #[test]
    fn administrators_cannot_overpower_each_other(ops in proptest::collection::vec(op(), 1..60)) {
        let mut members: Vec<Member> = ["admin", "admin", "support", "seller", "customer"]
            .iter()
            .map(|role| Member { role, disabled: false, quotas: BTreeMap::new(), revision: 0 })
            .collect();
        let mut roster = Roster { members: ["u0".to_string(), "u1".to_string()].into(), ..Roster::default() };
        for op in &ops {
            let before = members.clone();
            let outcome = apply(&mut members, &mut roster, op);
            if let (Ok(()), Op::Disable(a, t) | Op::SetRole(a, t, _)) = (&outcome, op)
                && before[*t].role == "admin"
            {
                prop_assert!(before[*a].role == "admin", "{op:?} by a weaker administrator");
            }
            prop_assert!(members.iter().any(is_full), "no full administrator left after {op:?}");
            prop_assert!(members.iter().all(|m| m.quotas.is_empty()), "a quota raised by its owner");
        }
    }
}
