//! Optional TLS between nodes: mutual TLS under one certificate authority.
//!
//! With `[cluster] tls_ca` set, every node presents `tls_cert`/`tls_key` (of
//! its `[[nodes]]` entry) and accepts only peers whose certificates the CA
//! signed. A node's certificate names the node: its DNS subject alternative
//! name is the node's name (`n2`), so certificates do not depend on
//! addresses.

use actors::{Error, Result};
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub connector: tokio_rustls::TlsConnector,
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("TLS: cannot read {}: {e}", path.display()))
}

impl Tls {
    pub fn load(ca: &Path, cert: &Path, key: &Path) -> Result<Self> {
        // ractor_cluster's rustls may have several providers compiled in:
        // choose one explicitly (a second install is a harmless no-op).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut roots = RootCertStore::empty();
        for ca_cert in CertificateDer::pem_file_iter(ca).map_err(|e| read_error(ca, e))? {
            roots
                .add(ca_cert.map_err(|e| read_error(ca, e))?)
                .map_err(|e| read_error(ca, e))?;
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| read_error(cert, e))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| read_error(cert, e))?;
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| read_error(key, e))?;
        let roots = Arc::new(roots);
        let verifier = WebPkiClientVerifier::builder(roots.clone())
            .build()
            .map_err(|e| Error::internal(format!("TLS: {e}")))?;
        let server = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), private.clone_key())
            .map_err(|e| Error::internal(format!("TLS server: {e}")))?;
        let client = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, private)
            .map_err(|e| Error::internal(format!("TLS client: {e}")))?;
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
        })
    }

    /// The name a peer's certificate must carry.
    pub fn server_name(node: &str) -> Result<ServerName<'static>> {
        ServerName::try_from(node.to_string()).map_err(|e| Error::internal(format!("TLS: node name {node}: {e}")))
    }
}

/// Connects to a peer, with TLS when configured.
pub async fn connect(
    server: &ractor::ActorRef<ractor_cluster::NodeServerMessage>,
    addr: std::net::SocketAddr,
    peer: &str,
    tls: Option<&Tls>,
) -> Result<()> {
    let outcome = match tls {
        Some(tls) => {
            ractor_cluster::client_connect_enc(server, addr, tls.connector.clone(), Tls::server_name(peer)?).await
        }
        None => ractor_cluster::client_connect(server, addr).await,
    };
    outcome.map_err(|e| Error::internal(format!("connecting to {peer} at {addr}: {e}")))
}
