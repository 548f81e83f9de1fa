use super::*;

fn ours(kind: &'static str, id: &str, amount: i64, status: &str, settled: bool) -> Ours {
    Ours {
        kind,
        id: id.into(),
        processor: "sandbox".into(),
        processor_id: Some(format!("p_{id}")),
        currency: "USD".into(),
        amount,
        status: status.into(),
        settled,
        at: 5,
    }
}

fn theirs(amount: i64, status: &str) -> Found {
    Found::Reported(Theirs {
        amount,
        status: status.into(),
    })
}

#[test]
fn days_are_utc_calendar_days() {
    assert_eq!(day("1970-01-01").unwrap(), (0, DAY_MS));
    assert_eq!(day("2026-11-28").unwrap().0, 1_795_824_000_000);
    assert_eq!(day("2024-02-29").unwrap().0 + DAY_MS, day("2024-03-01").unwrap().0);
    assert_eq!(day("2000-12-31").unwrap().1, day("2001-01-01").unwrap().0);
    for bad in [
        "2023-02-29",
        "2026-13-01",
        "2026-11-31",
        "26-11-28",
        "2026/11/28",
        "",
        "2026-11-2x",
        "1969-12-31",
    ] {
        assert!(day(bad).is_err(), "{bad}");
    }
}

#[test]
fn agreeing_records_only_count_and_differences_are_named() {
    let mut r = Report::new(0, DAY_MS);
    r.add(
        &ours("charge", "c1", 1_000, "succeeded", true),
        theirs(1_000, "succeeded"),
    );
    r.add(&ours("charge", "c2", 500, "succeeded", true), theirs(400, "succeeded"));
    r.add(&ours("charge", "c3", 0, "processing", false), theirs(0, "succeeded"));
    r.add(&ours("refund", "r1", 300, "succeeded", true), Found::Unknown);
    r.add(
        &ours("transfer", "t1", 900, "paid", true),
        Found::Unreachable("down".into()),
    );
    r.add(&ours("charge", "c4", 0, "processing", false), Found::NotAsked);
    let charges = &r.tallies["charge"];
    assert_eq!(
        (charges.count, charges.ours["USD"], charges.processor["USD"]),
        (4, 1_500, 1_400)
    );
    let named: Vec<(&str, &str)> = r.mismatches.iter().map(|m| (m.id.as_str(), m.what.as_str())).collect();
    assert_eq!(named, [("c2", "amount"), ("c3", "status"), ("r1", "missing")]);
    assert_eq!(r.mismatches[0].ours, "500");
    assert_eq!(r.mismatches[0].processor, "400");
    let stuck: Vec<&str> = r.stuck.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(stuck, ["c3", "c4"]);
    assert_eq!(r.unreachable, 1);
    assert_eq!(
        r.tallies["transfer"].processor.get("USD"),
        None,
        "nothing reported, nothing counted"
    );
}
