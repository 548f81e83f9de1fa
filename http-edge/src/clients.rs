//! Who the client is when the shop runs behind load balancers or reverse
//! proxies. The TCP peer is the client unless it is one of the configured
//! trusted proxies (`[http] trusted_proxies`, CIDRs); only then is the
//! forwarding header read (`[http] forwarded_header`: `x-forwarded-for` by
//! default, or `forwarded`, RFC 7239 — only the one the proxies maintain,
//! since the other is whatever the client sent). The client is the
//! rightmost hop that is not itself a trusted proxy, so addresses a client
//! writes into the header in front of the real ones change nothing.

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// The resolved client address of a request (in its extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Which forwarding header the trusted proxies maintain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!(
                "unknown forwarding header {other:?} (x-forwarded-for or forwarded)"
            )),
        }
    }
}

/// The trusted proxies and the header they maintain.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    trusted: Vec<IpNet>,
    header: ForwardedHeader,
}

impl Proxies {
    /// Parses `cidrs` (a bare address means just that address).
    pub fn new(cidrs: &[String], header: ForwardedHeader) -> Result<Self, String> {
        let trusted = cidrs
            .iter()
            .map(|text| {
                let text = text.trim();
                IpNet::from_str(text)
                    .or_else(|_| IpAddr::from_str(text).map(IpNet::from))
                    .map_err(|_| format!("{text:?} is not a CIDR or an IP address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { trusted, header })
    }

    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.trusted.iter().any(|net| net.contains(&peer))
    }

    /// The client behind `peer`, given the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let values = || {
            let name = match self.header {
                ForwardedHeader::XForwardedFor => "x-forwarded-for",
                ForwardedHeader::Forwarded => "forwarded",
            };
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .collect::<Vec<&str>>()
        };
        // From the proxy nearest to us outwards, the first untrusted hop;
        // a hop that does not parse ends the walk (what lies beyond it
        // cannot be told apart from what a client wrote).
        let mut client = peer;
        for element in values().into_iter().rev() {
            let hop = match self.header {
                ForwardedHeader::XForwardedFor => parse_hop(element),
                ForwardedHeader::Forwarded => element
                    .split(';')
                    .find_map(|pair| {
                        let (name, value) = pair.split_once('=')?;
                        name.trim().eq_ignore_ascii_case("for").then_some(value)
                    })
                    .and_then(parse_hop),
            };
            let Some(hop) = hop else { break };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// One hop: `203.0.113.7`, `203.0.113.7:4711`, `"[2001:db8::1]:4711"`,
/// `2001:db8::1`; `None` for anything else (`unknown`, obfuscated names).
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = IpAddr::from_str(text) {
        return Some(ip);
    }
    if let Ok(socket) = SocketAddr::from_str(text) {
        return Some(socket.ip());
    }
    let inner = text.strip_prefix('[')?.split(']').next()?;
    IpAddr::from_str(inner).ok()
}

/// Puts the request's [`ClientAddr`] into its extensions.
pub async fn resolve(
    axum::extract::State(proxies): axum::extract::State<Arc<Proxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = proxies.client(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
#[path = "clients_tests.rs"]
mod tests;
