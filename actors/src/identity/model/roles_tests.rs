use super::*;

fn perms(p: &[&str]) -> BTreeSet<String> {
    p.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_role_is_created_once_replaced_read_and_deleted() {
    let (change, role) = decide("support", None, RoleRequest::Create(perms(&["identity:admin"])), 5).unwrap();
    assert_eq!(
        (change, role.name.as_str(), role.created_at),
        (RoleChange::Put, "support", 5)
    );
    let again = decide("support", Some(&role), RoleRequest::Create(perms(&["cart:use"])), 6);
    assert_eq!(again.unwrap_err().code(), "role_exists");
    let (change, replaced) = decide("support", Some(&role), RoleRequest::Replace(perms(&["cart:use"])), 7).unwrap();
    assert_eq!(change, RoleChange::Put);
    assert_eq!(
        (replaced.permissions, replaced.created_at, replaced.updated_at),
        (perms(&["cart:use"]), 5, 7)
    );
    assert_eq!(
        decide("support", Some(&role), RoleRequest::Get, 8).unwrap(),
        (RoleChange::Keep, role.clone())
    );
    assert_eq!(
        decide("support", Some(&role), RoleRequest::Delete, 8).unwrap().0,
        RoleChange::Delete
    );
    for request in [RoleRequest::Get, RoleRequest::Delete, RoleRequest::Replace(perms(&[]))] {
        assert_eq!(decide("none", None, request, 9).unwrap_err().code(), "not_found");
    }
}
