use super::*;
use ChargeStatus::*;
use proptest::prelude::*;

#[test]
fn every_move_between_states_is_decided_by_rank() {
    // (from, to) pairs that move; every other pair changes nothing.
    let moves = [
        (RequiresAction, Processing),
        (RequiresAction, Authorized),
        (RequiresAction, Succeeded),
        (RequiresAction, Failed),
        (RequiresAction, Canceled),
        (Processing, Authorized),
        (Processing, Succeeded),
        (Processing, Failed),
        (Processing, Canceled),
        (Authorized, Succeeded),
        (Authorized, Failed),
        (Authorized, Canceled),
    ];
    for from in ChargeStatus::ALL {
        for to in ChargeStatus::ALL {
            let expected = moves.contains(&(from, to)).then_some(to);
            assert_eq!(from.advanced(to), expected, "{} → {}", from.as_str(), to.as_str());
        }
    }
}

#[test]
fn final_states_are_never_left_and_only_held_or_taken_money_pays() {
    for status in ChargeStatus::ALL {
        assert_eq!(status.is_final(), matches!(status, Succeeded | Failed | Canceled));
        if status.is_final() {
            assert!(ChargeStatus::ALL.iter().all(|to| status.advanced(*to).is_none()));
        }
        assert_eq!(status.pays(), matches!(status, Authorized | Succeeded));
    }
}

fn status() -> impl Strategy<Value = ChargeStatus> {
    (0..6usize).prop_map(|i| ChargeStatus::ALL[i])
}

proptest! {
    /// However reports arrive — late, repeated, shuffled — the status
    /// only climbs, ends at the highest rank reported, and once final
    /// stays what it first became.
    #[test]
    fn reports_in_any_order_only_move_forward(reports in proptest::collection::vec(status(), 1..20)) {
        let mut now = RequiresAction;
        let mut first_final = None;
        for reported in &reports {
            let before = now;
            if let Some(next) = now.advanced(*reported) {
                now = next;
            }
            prop_assert!(now.rank() >= before.rank());
            if now.is_final() && first_final.is_none() {
                first_final = Some(now);
            }
            if let Some(f) = first_final {
                prop_assert_eq!(now, f);
            }
        }
        let highest = reports.iter().map(|r| r.rank()).max().unwrap_or(0).max(RequiresAction.rank());
        prop_assert_eq!(now.rank(), highest);
    }
}
