use super::*;

#[test]
fn a_limit_is_never_zero_nor_above_the_maximum() {
    assert!(Limit::new(0).is_err() && Limit::new(101).is_err());
    assert_eq!(
        (Limit::new(1).unwrap().get(), Limit::new(100).unwrap()),
        (1, Limit::MAX)
    );
    assert_eq!(Limit::DEFAULT.get(), 20);
}

#[test]
fn cursors_round_trip_and_foreign_ones_are_refused() {
    assert_eq!(position(&cursor("7:usr_01")).unwrap(), "7:usr_01");
    assert_eq!(parsed_position::<u64>(&cursor("42")).unwrap(), 42);
    for bad in ["%%%", "/w"] {
        assert_eq!(position(bad).unwrap_err().code(), "invalid_cursor");
    }
    assert_eq!(
        parsed_position::<u64>(&cursor("x")).unwrap_err().code(),
        "invalid_cursor"
    );
}
