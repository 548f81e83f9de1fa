use super::*;

#[test]
fn only_the_creator_edits_and_unowned_ones_are_for_administrators() {
    assert!(may_edit(Some("ann"), "ann").is_ok());
    assert_eq!(may_edit(Some("ann"), "bob").unwrap_err().code(), "not_owner");
    assert_eq!(may_edit(None, "ann").unwrap_err().code(), "not_owner");
}
