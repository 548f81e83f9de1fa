//! The OpenAPI document, generated from the handlers' annotations and served
//! at `/api/openapi.json`.

use crate::dto::*;
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{admin, cart, catalog, fx, identity, offers, ops, orders, products, stock, stores};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop platform API", description = "E-commerce backend. Errors are always `{\"error\":{\"code\",\"message\",\"fields\"}}`."),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::jwks, ops::cluster, ops::owner,
        identity::register, identity::verify_email, identity::login, identity::refresh, identity::logout,
        identity::password_reset, identity::password_reset_confirm, identity::me, identity::patch_me, identity::change_password,
        admin::list_users, admin::get_user, admin::set_roles, admin::set_quotas, admin::disable, admin::enable,
        admin::list_roles, admin::get_role, admin::create_role, admin::replace_role, admin::delete_role,
        catalog::create_tag, catalog::root_tags, catalog::get_tag, catalog::patch_tag, catalog::delete_tag,
        catalog::create_attribute, catalog::find_attributes, catalog::get_attribute, catalog::patch_attribute, catalog::delete_attribute,
        products::create, products::get, products::version, products::replace, products::patch, products::delete, products::mine, products::search,
        stores::create, stores::get, stores::patch, stores::hours, stores::put_staff, stores::delete_staff, stores::list_staff, stores::transfer,
        fx::publish, fx::current, fx::by_id,
        offers::put, offers::list, offers::delete, offers::quote, stock::adjust, stock::get, stock::policy,
        cart::get, cart::put_item, cart::delete_item, cart::clear, orders::place, orders::mine, orders::get,
        orders::cancel, orders::of_store, orders::ship, orders::delivered, orders::request_return, orders::decide,
        orders::dashboard,
    ),
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
