//! A short-lived cluster client for the command line: it starts a node of
//! its own on loopback, authenticates with the cluster cookie, and talks to
//! one node's gateway (`node cluster status`, `node leave`, and `node admin
//! create-user` on a running cluster).

use super::gateway;
use super::wire::{Request, Response};
use crate::Settings;
use actors::{Error, Result};
use ractor::Actor;
use ractor_cluster::NodeServer;
use std::time::{Duration, Instant};

/// Whether commands should go through a running cluster rather than
/// straight to a data directory: the cookie is set and the configuration
/// describes a cluster.
pub fn is_cluster(settings: &Settings) -> bool {
    let config = &settings.config;
    let several = config.nodes.len() > 1 || !config.cluster.seeds.is_empty();
    several && std::env::var(&config.cluster.cookie_env).is_ok_and(|c| !c.is_empty())
}

/// Sends one request to the node `settings` names and waits `deadline`.
pub async fn request(settings: &Settings, request: &Request, deadline: Duration) -> Result<Response> {
    let mut answers = requests(settings, std::slice::from_ref(request), deadline).await?;
    answers.pop().unwrap_or_else(|| Err(Error::internal("no answer")))
}

/// Sends `requests` one after the other over one connection to the node
/// `settings` names; each answer (each waits up to `deadline`).
pub async fn requests(settings: &Settings, requests: &[Request], deadline: Duration) -> Result<Vec<Result<Response>>> {
    let config = &settings.config;
    let cookie = std::env::var(&config.cluster.cookie_env)
        .map_err(|_| Error::internal(format!("set the cluster cookie in {}", config.cluster.cookie_env)))?;
    let target = config.node(Some(&settings.node_name)).map_err(Error::internal)?;
    let addr = target
        .cluster_addr
        .ok_or_else(|| Error::internal(format!("node {} has no cluster_addr", target.name)))?;
    // With TLS, the command line presents the target node's own certificate.
    let tls = super::load_tls(settings, &target)?;
    let name = format!("cli-{}", std::process::id());
    let server = NodeServer::new(
        0,
        cookie,
        name,
        "127.0.0.1".into(),
        tls.as_ref()
            .map(|t| ractor_cluster::IncomingEncryptionMode::Tls(t.acceptor.clone())),
        Some(ractor_cluster::node::NodeConnectionMode::Isolated),
    )
    .with_listen_addr(std::net::IpAddr::from([127, 0, 0, 1]));
    let (server, _) = Actor::spawn(None, server, ())
        .await
        .map_err(|e| Error::internal(format!("cannot start a cluster client: {e}")))?;
    let outcome = async {
        super::tls::connect(&server, addr, &target.name, tls.as_ref()).await?;
        let waited = Instant::now();
        while gateway::find(&target.name).is_none() {
            if waited.elapsed() > Duration::from_secs(10) {
                return Err(Error::internal(format!(
                    "no answer from node {} at {addr} (is it running, and is the cookie right?)",
                    target.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut answers = Vec::new();
        for request in requests {
            answers.push(match gateway::call(&target.name, request, deadline).await {
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                Some(Ok(response)) => Ok(response),
                None => Err(Error::internal(format!("node {} went away", target.name))),
            });
        }
        Ok(answers)
    }
    .await;
    server.stop(None);
    outcome
}
