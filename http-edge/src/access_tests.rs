use super::*;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::security::SecurityRequirement;

fn operation(security: Option<Vec<SecurityRequirement>>) -> Operation {
    let mut builder = OperationBuilder::new();
    if let Some(s) = security {
        builder = builder.securities(Some(s));
    }
    builder.build()
}

fn bearer(scopes: &[&str]) -> SecurityRequirement {
    SecurityRequirement::new(BEARER, scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn each_declaration_reads_as_its_rule() {
    let anyone = SecurityRequirement::default;
    assert_eq!(Rule::of(&operation(Some(vec![anyone()]))), Ok(Rule::Public));
    assert_eq!(
        Rule::of(&operation(Some(vec![anyone(), bearer(&[])]))),
        Ok(Rule::Optional)
    );
    assert_eq!(Rule::of(&operation(Some(vec![bearer(&[])]))), Ok(Rule::Signed));
    assert_eq!(
        Rule::of(&operation(Some(vec![bearer(&["cart:use"])]))),
        Ok(Rule::Permission("cart:use".into()))
    );
}

#[test]
fn a_missing_or_unusable_declaration_is_no_rule() {
    assert!(Rule::of(&operation(None)).unwrap_err().contains("declares no security"));
    assert!(
        Rule::of(&operation(Some(vec![bearer(&["cart:steal"])])))
            .unwrap_err()
            .contains("unknown permission")
    );
    assert!(Rule::of(&operation(Some(vec![bearer(&["cart:use", "order:create"])]))).is_err());
    assert!(
        Rule::of(&operation(Some(vec![SecurityRequirement::new(
            "cookie",
            Vec::<String>::new()
        )])))
        .is_err()
    );
}
