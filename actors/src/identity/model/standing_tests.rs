use super::*;

fn standing() -> Standing {
    Standing {
        until: None,
        disabled: false,
        sessions: ["fam1".to_string()].into(),
        roles: vec!["seller".into()],
        permissions: ["catalog:write".to_string(), "cart:use".to_string()].into(),
        quotas: [("max_stores".to_string(), 3)].into(),
    }
}

#[test]
fn a_token_holds_only_while_its_account_stands_as_it_was_issued() {
    let s = standing();
    let roles = vec!["seller".to_string()];
    let perms = vec!["cart:use".to_string(), "catalog:write".to_string()];
    let quotas = s.quotas.clone();
    assert!(s.admits("fam1", &roles, &perms, &quotas).is_ok());
    let code = |r: Result<()>| r.unwrap_err().code().to_string();
    assert_eq!(
        code(s.admits("fam2", &roles, &perms, &quotas)),
        "token_revoked",
        "signed out"
    );
    let disabled = Standing {
        disabled: true,
        ..standing()
    };
    assert_eq!(
        code(disabled.admits("fam1", &roles, &perms, &quotas)),
        "account_disabled"
    );
    let demoted = Standing {
        roles: vec!["customer".into()],
        ..standing()
    };
    assert_eq!(code(demoted.admits("fam1", &roles, &perms, &quotas)), "token_revoked");
    let narrowed = Standing {
        permissions: ["cart:use".to_string()].into(),
        ..standing()
    };
    assert_eq!(
        code(narrowed.admits("fam1", &roles, &perms, &quotas)),
        "token_revoked",
        "a role rewritten"
    );
    let fewer = BTreeMap::from([("max_stores".to_string(), 1)]);
    assert_eq!(code(s.admits("fam1", &roles, &perms, &fewer)), "token_revoked");
}
