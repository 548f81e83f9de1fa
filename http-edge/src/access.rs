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

use crate::error::ApiError;
use crate::limits::{self, RateLimiter};
use actors::Error;
use actors::identity::model::access::PERMISSIONS;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method};
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

/// Every route's rule, by path template, then method.
#[derive(Debug, Default)]
pub struct AccessTable {
    rules: HashMap<String, HashMap<Method, Rule>>,
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
                        table.rules.entry(path.clone()).or_default().insert(method(&m), rule);
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
        self.rules.get(path)?.get(method)
    }

    /// How many (method, path) rules there are.
    pub fn len(&self) -> usize {
        self.rules.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The bearer token of a request: `None` without an `Authorization`
/// header, an error for one that is not `Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<Result<&str, Error>> {
    let header = headers.get(AUTHORIZATION)?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    Some(token.ok_or_else(missing_token))
}

/// What the access layer needs: the rules, and identity to verify tokens.
pub struct Access {
    pub table: AccessTable,
    pub identity: actors::identity::Identity,
    /// Requests whose token is not used or fails, per client address.
    pub by_address: Option<Arc<RateLimiter>>,
    /// Requests with a verified token, per user.
    pub by_user: Option<Arc<RateLimiter<String>>>,
}

impl Access {
    fn refuse_address(&self, request: &Request) -> Option<Response> {
        limits::refuse_address(self.by_address.as_ref()?, request)
    }
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
    State(access): State<Arc<Access>>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(rule) = matched
        .as_ref()
        .and_then(|path| access.table.rule(request.method(), path.as_str()))
    else {
        tracing::error!(method = %request.method(), path = %request.uri().path(), "a route without an access rule was refused");
        return ApiError(Error::forbidden("no_access_rule", "this route declares no access rule")).into_response();
    };
    let verified = match (rule, bearer(request.headers())) {
        // Anonymous: limited per address before routing (`limits::limit`).
        (Rule::Public, None) | (Rule::Optional, None) => return next.run(request).await,
        (Rule::Public, Some(_)) => {
            if let Some(refused) = access.refuse_address(&request) {
                return refused;
            }
            return next.run(request).await;
        }
        (_, None) => Err(missing_token()),
        (_, Some(Err(e))) => Err(e),
        (_, Some(Ok(token))) => access.identity.authenticate(token).await,
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(e) => {
            if request.headers().contains_key(AUTHORIZATION)
                && let Some(refused) = access.refuse_address(&request)
            {
                return refused;
            }
            return ApiError(e).into_response();
        }
    };
    if let Some(limiter) = &access.by_user
        && let Some(refused) = limits::refuse(limiter, &claims.sub)
    {
        return refused;
    }
    if let Rule::Permission(permission) = rule
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
