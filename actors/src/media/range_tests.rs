use super::*;
use proptest::prelude::*;

fn span(first: u64, last: u64) -> Span {
    Span { first, last }
}

fn spans(header: &str, size: u64) -> Vec<Span> {
    match ranges(Some(header), size) {
        Ranged::Spans(s) => s,
        other => panic!("{header}: {other:?}"),
    }
}

#[test]
fn single_open_and_suffix_ranges_are_cut_to_the_body() {
    assert_eq!(spans("bytes=0-499", 1000), [span(0, 499)]);
    assert_eq!(spans("bytes=500-", 1000), [span(500, 999)]);
    assert_eq!(spans("bytes=-200", 1000), [span(800, 999)]);
    assert_eq!(
        spans("bytes=-5000", 1000),
        [span(0, 999)],
        "a suffix longer than the body"
    );
    assert_eq!(spans("bytes=900-5000", 1000), [span(900, 999)]);
    assert_eq!(spans("bytes=999-999", 1000), [span(999, 999)]);
    assert_eq!(spans("Bytes = 1-2", 1000), [span(1, 2)], "case and spaces");
    assert_eq!(span(900, 999).content_range(1000), "bytes 900-999/1000");
    assert_eq!(span(900, 999).len(), 100);
}

#[test]
fn several_ranges_keep_their_order_and_merge_when_they_touch() {
    assert_eq!(spans("bytes=0-0,-1", 10), [span(0, 0), span(9, 9)]);
    assert_eq!(spans("bytes=500-599,0-99", 1000), [span(500, 599), span(0, 99)]);
    assert_eq!(spans("bytes=0-99,100-199", 1000), [span(0, 199)], "adjacent");
    assert_eq!(spans("bytes=0-99,50-149,300-", 1000), [span(0, 149), span(300, 999)]);
    assert_eq!(
        spans("bytes=0-9,20-29,10-19", 100),
        [span(0, 29)],
        "a later span joins two"
    );
    // Unsatisfiable parts are dropped while another is satisfiable.
    assert_eq!(spans("bytes=5000-,0-1", 1000), [span(0, 1)]);
}

#[test]
fn nothing_satisfiable_is_416_and_what_does_not_parse_is_the_whole_body() {
    assert_eq!(ranges(Some("bytes=1000-"), 1000), Ranged::Unsatisfiable);
    assert_eq!(ranges(Some("bytes=-0"), 1000), Ranged::Unsatisfiable);
    assert_eq!(ranges(Some("bytes=0-"), 0), Ranged::Unsatisfiable, "an empty body");
    assert_eq!(unsatisfiable(1000), "bytes */1000");
    for ignored in [
        "",
        "bytes",
        "items=0-1",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=1-2-3",
        "bytes=,",
        "bytes=-",
    ] {
        assert_eq!(ranges(Some(ignored), 1000), Ranged::Whole, "{ignored:?}");
    }
    assert_eq!(ranges(None, 1000), Ranged::Whole);
    let many: Vec<String> = (0..=MAX_RANGES as u64)
        .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
        .collect();
    assert_eq!(
        ranges(Some(&format!("bytes={}", many.join(","))), 10_000),
        Ranged::Whole,
        "too many"
    );
}

#[test]
fn if_range_honours_ranges_only_for_the_same_representation() {
    let (etag, date) = ("\"abc\"", "Sat, 28 Nov 2026 02:00:00 GMT");
    assert!(if_range_holds(None, etag, date));
    assert!(if_range_holds(Some("\"abc\""), etag, date));
    assert!(!if_range_holds(Some("\"old\""), etag, date));
    assert!(!if_range_holds(Some("W/\"abc\""), etag, date), "weak tags never");
    assert!(if_range_holds(Some(date), etag, date));
    assert!(!if_range_holds(Some("Fri, 27 Nov 2026 02:00:00 GMT"), etag, date));
}

proptest! {
    /// Every answered span lies inside the body, spans never overlap or
    /// touch, and together they cover exactly the bytes asked for.
    #[test]
    fn spans_cover_what_was_asked_inside_the_body(
        size in 1u64..500,
        asks in proptest::collection::vec((0u64..600, 0u64..600), 1..6),
    ) {
        let header = format!(
            "bytes={}",
            asks.iter().map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))).collect::<Vec<_>>().join(",")
        );
        let asked: std::collections::BTreeSet<u64> = asks
            .iter()
            .flat_map(|(a, b)| *a.min(b)..=*a.max(b))
            .filter(|byte| *byte < size)
            .collect();
        match ranges(Some(&header), size) {
            Ranged::Spans(spans) => {
                let mut covered = std::collections::BTreeSet::new();
                for s in &spans {
                    prop_assert!(s.first <= s.last && s.last < size);
                    for other in &spans {
                        if other != s {
                            prop_assert!(s.last + 1 < other.first || other.last + 1 < s.first);
                        }
                    }
                    covered.extend(s.first..=s.last);
                }
                prop_assert_eq!(covered, asked);
            }
            Ranged::Unsatisfiable => prop_assert!(asked.is_empty()),
            Ranged::Whole => prop_assert!(false, "a well-formed header"),
        }
    }
}
