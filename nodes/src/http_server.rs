//! The HTTP server under the edge: accepts connections within caps, gives
//! each its timeouts, and stops gracefully.
//!
//! - A client must send a request's headers within `header_read_timeout`
//!   (hyper's own timer), and a connection with no traffic either way for
//!   `idle_timeout` is closed: silent and trickling sockets go away.
//! - At most `max_connections` are open at once (kept below the process's
//!   descriptor limit with headroom for storage and the cluster), and at
//!   most `max_connections_per_client` from one address: a flood from one
//!   address is refused at accept while others are served.
//! - An accept error (out of descriptors) pauses accepting briefly instead
//!   of spinning.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// Descriptors kept free for storage, the cluster and outgoing calls.
pub const DESCRIPTOR_HEADROOM: usize = 256;

#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    /// Trusted proxies carry many clients' connections: no per-address cap.
    pub proxies: http_edge::clients::Proxies,
}

impl ConnectionLimits {
    /// The total cap, lowered to leave [`DESCRIPTOR_HEADROOM`] under the
    /// process's soft descriptor limit.
    pub fn total(&self) -> usize {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct we pass.
        let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        let descriptors = if known {
            usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        self.max_connections
            .min(descriptors.saturating_sub(DESCRIPTOR_HEADROOM))
            .max(1)
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

impl PerClient {
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut open = self.0.lock().ok()?;
        let count = open.entry(ip).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            ip,
            clients: self.clone(),
        })
    }
}

/// One connection's place in its client's count, given back when dropped.
struct ClientSlot {
    ip: IpAddr,
    clients: Arc<PerClient>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.clients.0.lock()
            && let Some(count) = open.get_mut(&self.ip)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A connection that ends itself after `idle` without traffic, and holds
/// its places in the caps while open.
struct Guarded {
    stream: TcpStream,
    idle: Duration,
    last: Instant,
    timer: Pin<Box<tokio::time::Sleep>>,
    _total: OwnedSemaphorePermit,
    _client: Option<ClientSlot>,
}

impl Guarded {
    fn touch(&mut self) {
        self.last = Instant::now();
    }

    /// Errs once the connection has been idle too long; otherwise makes
    /// sure this task is woken when it would be.
    fn check_idle(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let deadline = self.last + self.idle;
        if Instant::now() >= deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "idle connection closed"));
        }
        // Traffic moves the deadline on every request; the timer is moved
        // only once it has fired (then to the deadline now), so a busy
        // connection does not re-register a timer per request.
        if self.timer.deadline() <= tokio::time::Instant::now() {
            self.timer.as_mut().reset(tokio::time::Instant::from_std(deadline));
        }
        let _ = self.timer.as_mut().poll(cx);
        Ok(())
    }
}

impl AsyncRead for Guarded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.touch();
                }
                Poll::Ready(result)
            }
            Poll::Pending => match self.check_idle(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `stop` resolves, then lets open
/// requests finish (for at most `drain`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()> + Send,
    drain: Duration,
) {
    let total = Arc::new(Semaphore::new(limits.total()));
    let clients = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, most likely: let some close.
                    tracing::warn!(%error, "accept failed; pausing");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(total_permit) = total.clone().try_acquire_owned() else {
            continue; // At the cap: the socket is closed at once.
        };
        let client = if limits.proxies.trusts(peer.ip()) {
            None
        } else {
            match clients.enter(peer.ip(), limits.max_connections_per_client) {
                Some(slot) => Some(slot),
                None => continue,
            }
        };
        let _ = stream.set_nodelay(true);
        let io = Guarded {
            stream,
            idle: limits.idle_timeout,
            last: Instant::now(),
            timer: Box::pin(tokio::time::sleep(limits.idle_timeout)),
            _total: total_permit,
            _client: client,
        };
        let service = router
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let hyper_service = TowerToHyperService::new(service);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), hyper_service);
        let watched = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            // A connection ends with an error when a client vanishes or
            // times out: routine, not worth more than a trace.
            if let Err(error) = watched.await {
                tracing::trace!(%error, "connection ended");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open when shutdown stopped waiting");
    }
}
