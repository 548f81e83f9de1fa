//! Who may call each route, declared once on the handler and enforced here.
//!
//! Every handler's `#[utoipa::path]` names its rule as an OpenAPI security
//! requirement, so the published document tells frontends the same thing
//! this layer enforces:
//!
//! | declaration                          | rule                                   |
//! |--------------------------------------|----------------------------------------|
//! | `security(())`                       | public                                 |
//! | `security((), ("bearer" = []))`      | anyone; a token, if sent, must be valid |
//! | `security(("bearer" = []))`          | signed in (ownership is the entity's)  |
//! | `security(("bearer" = ["cart:use"]))`| signed in with that permission         |
//!
//! [`AccessTable`] reads the rules from the generated document — which is
//! the route table itself, since every route is registered through
//! utoipa-axum — and [`enforce`] applies them before a handler runs,
//! leaving the verified claims in the request for [`crate::extract::Caller`].
//! A route without a rule is refused (and a test walks the table so that
//! none ships).

use crate::EdgeState;
use crate::error::ApiError;
use actors::Error;
use actors::identity::AccessClaims;
use actors::identity::model::access::PERMISSIONS;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::{HttpMethod, Operation};

/// The scheme every protected route names.
pub const BEARER: &str = "bearer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Public,
    /// Anonymous callers are served; a token, if present, must verify.
    Optional,
    Signed,
    Permission(String),
}

impl Rule {
    /// The rule an operation declares, or why it declares none usable.
    pub fn of(operation: &Operation) -> Result<Rule, String> {
        let Some(requirements) = &operation.security else {
            return Err("declares no security (write security(()) for a public route)".into());
        };
        let value = serde_json::to_value(requirements).map_err(|e| e.to_string())?;
        let alternatives = value.as_array().cloned().unwrap_or_default();
        let anonymous = alternatives.iter().any(|a| a.as_object().is_some_and(|o| o.is_empty()));
        let scopes: Vec<Vec<String>> = alternatives
            .iter()
            .filter_map(|a| a.get(BEARER))
            .map(|s| serde_json::from_value(s.clone()).unwrap_or_default())
            .collect();
        match (anonymous, scopes.as_slice()) {
            (true, []) => Ok(Rule::Public),
            (true, [scopes]) if scopes.is_empty() => Ok(Rule::Optional),
            (false, [scopes]) if scopes.is_empty() => Ok(Rule::Signed),
            (false, [scopes]) if scopes.len() == 1 => {
                let permission = &scopes[0];
                if PERMISSIONS.contains(&permission.as_str()) {
                    Ok(Rule::Permission(permission.clone()))
                } else {
                    Err(format!("names the unknown permission {permission}"))
                }
            }
            _ => Err(format!("declares a security this edge does not enforce: {value}")),
        }
    }
}

/// Every route's rule, by method and path template.
#[derive(Debug, Default)]
pub struct AccessTable {
    rules: HashMap<(Method, String), Rule>,
}

fn method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

impl AccessTable {
    /// Reads every operation's rule; lists each route whose rule is
    /// missing or unusable. Routes with problems are left out, so they are
    /// refused.
    pub fn from_openapi(api: &OpenApi) -> (Self, Vec<String>) {
        let mut table = Self::default();
        let mut problems = Vec::new();
        for (path, item) in &api.paths.paths {
            let operations = [
                (HttpMethod::Get, &item.get),
                (HttpMethod::Post, &item.post),
                (HttpMethod::Put, &item.put),
                (HttpMethod::Delete, &item.delete),
                (HttpMethod::Patch, &item.patch),
                (HttpMethod::Head, &item.head),
                (HttpMethod::Options, &item.options),
                (HttpMethod::Trace, &item.trace),
            ];
            for (m, operation) in operations {
                let Some(operation) = operation else { continue };
                match Rule::of(operation) {
                    Ok(rule) => {
                        table.rules.insert((method(&m), path.clone()), rule);
                    }
                    Err(why) => problems.push(format!("{} {path} {why}", method(&m))),
                }
            }
        }
        (table, problems)
    }

    pub fn rule(&self, method: &Method, path: &str) -> Option<&Rule> {
        // axum answers HEAD with the GET handler.
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.rules.get(&(method.clone(), path.to_string()))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn bearer(request: &Request) -> Option<Result<&str, ApiError>> {
    let header = request.headers().get(AUTHORIZATION)?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    Some(token.ok_or_else(|| ApiError(missing_token())))
}

pub fn missing_token() -> Error {
    Error::unauthenticated(
        "missing_token",
        "send an access token as 'Authorization: Bearer <token>'",
    )
}

/// Applies the matched route's rule; verified claims travel on in the
/// request's extensions.
pub async fn enforce(
    State((table, state)): State<(Arc<AccessTable>, EdgeState)>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let rule = matched.and_then(|path| table.rule(request.method(), path.as_str()).cloned());
    let Some(rule) = rule else {
        tracing::error!(method = %request.method(), path = %request.uri().path(), "a route without an access rule was refused");
        return ApiError(Error::forbidden("no_access_rule", "this route declares no access rule")).into_response();
    };
    let token = match (&rule, bearer(&request)) {
        (Rule::Public, _) | (Rule::Optional, None) => return next.run(request).await,
        (_, None) => return ApiError(missing_token()).into_response(),
        (_, Some(Err(e))) => return e.into_response(),
        (_, Some(Ok(token))) => token.to_string(),
    };
    let claims: AccessClaims = match state.domains.identity.authenticate(&token).await {
        Ok(claims) => claims,
        Err(e) => return ApiError(e).into_response(),
    };
    if let Rule::Permission(permission) = &rule
        && !claims.has(permission)
    {
        return ApiError(Error::forbidden(
            "missing_permission",
            format!("this needs the permission {permission}"),
        ))
        .into_response();
    }
    request.extensions_mut().insert(claims);
    next.run(request).await
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
