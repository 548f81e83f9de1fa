use super::*;

#[test]
fn only_the_creator_edits_while_no_other_seller_uses_it() {
    let mine = TaxonomyRecord::new("ann".into());
    assert!(may_edit(Some(&mine), "ann").is_ok());
    assert_eq!(may_edit(Some(&mine), "bob").unwrap_err().code(), "not_owner");
    assert_eq!(
        may_edit(None, "ann").unwrap_err().code(),
        "not_owner",
        "made before owners"
    );
    assert_eq!(mine.used("ann", false, true), None, "her own products do not count");
    let shared = mine.used("bob", false, true).unwrap();
    assert_eq!(shared.used("bob", true, true), None, "bob's product counts once");
    assert_eq!(may_edit(Some(&shared), "ann").unwrap_err().code(), "in_use_by_others");
    let released = shared.used("bob", true, false).unwrap();
    assert!(may_edit(Some(&released), "ann").is_ok(), "once bob's product lets go");
}
