//! The OpenAPI document, generated from the handlers' annotations and served
//! at `/api/openapi.json`.

use crate::dto::AddressDto;
use crate::error::{ErrorBody, ErrorDetail};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame; the paths come from the routes themselves
/// (utoipa-axum collects each handler's `#[utoipa::path]` as it is routed).
#[derive(OpenApi)]
#[openapi(
    info(title = "Shop platform API", description = "E-commerce backend. Errors are always `{\"error\":{\"code\",\"message\",\"fields\"}}`. Each operation's `security` names who may call it: none (public), `bearer` (signed in), or `bearer` with a permission."),
    components(schemas(ErrorBody, ErrorDetail, AddressDto)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
