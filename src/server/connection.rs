//! Serving connections within limits, for the webhook (TLS) and admin (plain) listeners alike:
//! a cap on open connections, a deadline on the TLS handshake and on the first request bytes,
//! an idle timeout for HTTP/1.1 and HTTP/2, bounded per-connection buffers, and draining — when
//! shutdown starts every connection is told to close (`Connection: close` on HTTP/1.1, GOAWAY
//! on HTTP/2) while the listener still answers, so the API server moves to another replica
//! before this one stops listening.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::metrics::{Metrics, Shed};

/// Bytes hyper buffers per HTTP/1.1 connection (request head, and body reads): API server
/// requests have a few hundred bytes of headers.
const H1_MAX_BUFFER: usize = 64 * 1024;
/// HTTP/2 flow-control windows: what a peer may send before the server reads it.
const H2_STREAM_WINDOW: u32 = 128 * 1024;
const H2_CONNECTION_WINDOW: u32 = 256 * 1024;
/// Concurrent streams one HTTP/2 connection may open.
const H2_MAX_STREAMS: u32 = 32;
/// Largest HTTP/2 header block accepted.
const H2_MAX_HEADER_LIST: u32 = 64 * 1024;
/// HTTP/2 keep-alive pings: a peer that vanished without closing is noticed.
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits one listener serves within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// For the TLS handshake, and then again for the first bytes of the first request.
    pub handshake_timeout: Duration,
    /// For an HTTP/1.1 request head; hyper counts idle keep-alive time in it too.
    pub header_read_timeout: Duration,
    /// A connection with no request under way and nothing received for this long is closed.
    pub idle_timeout: Duration,
}

/// How connections are secured: TLS with an acceptor that can be swapped (client CA reload),
/// or plain TCP (admin).
#[derive(Clone)]
pub enum Transport {
    /// TLS, with whichever acceptor is current at accept time.
    Tls(Arc<ArcSwap<TlsAcceptor>>),
    /// Plain TCP.
    Plain,
}

/// The connections of one listener: how many are open, and the signal that tells them to close.
#[derive(Clone)]
pub struct Connections {
    slots: Arc<Semaphore>,
    max: usize,
    drain: watch::Receiver<bool>,
    stop: watch::Receiver<bool>,
    metrics: Option<Arc<Metrics>>,
}

impl Connections {
    /// Connections for a listener with `max` slots. When `drain` turns true each is told to
    /// close after its next answer (HTTP/1.1) or at once by GOAWAY (HTTP/2); when `stop` turns
    /// true, idle ones close at once. `metrics`, when given, counts them.
    pub fn new(
        max: usize,
        drain: watch::Receiver<bool>,
        stop: watch::Receiver<bool>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        let max = max.max(1);
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
            drain,
            stop,
            metrics,
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// Waits until every connection has closed, or `grace` passes; true if all closed.
    pub async fn closed_within(&self, grace: Duration) -> bool {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        tokio::time::timeout(grace, self.slots.acquire_many(all))
            .await
            .is_ok()
    }
}

/// Accepts connections until `stop` turns true, each served with `router` within `limits`.
/// Public so that the benchmark's baseline server runs the very same connection handling.
pub async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    router: axum::Router,
    limits: Limits,
    connections: Connections,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        // Take a slot first: at the cap, new clients wait in the accept queue rather than
        // being accepted and dropped.
        let slot = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            slot = connections.slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let transport = transport.clone();
        let router = router.clone();
        let connections = connections.clone();
        tokio::spawn(async move {
            let _slot = slot;
            if let Some(metrics) = &connections.metrics {
                metrics.add_open_connections(1);
            }
            serve_transport(tcp, peer, transport, router, limits, &connections).await;
            if let Some(metrics) = &connections.metrics {
                metrics.add_open_connections(-1);
            }
        });
    }
}

async fn serve_transport(
    tcp: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    router: axum::Router,
    limits: Limits,
    connections: &Connections,
) {
    match transport {
        Transport::Plain => serve_connection(tcp, peer, router, limits, connections).await,
        Transport::Tls(acceptor) => {
            let acceptor = acceptor.load_full();
            match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    serve_connection(stream, peer, router, limits, connections).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                Err(_) => {
                    if let Some(metrics) = &connections.metrics {
                        metrics.record_shed(Shed::IdleConnection);
                    }
                    tracing::debug!(%peer, "TLS handshake timed out");
                }
            }
        }
    }
}

/// What one connection has been doing, shared by its reader and its request counter.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` when bytes last arrived.
    last_read_ms: AtomicU64,
    first_byte: AtomicBool,
    in_flight: AtomicUsize,
    /// The connection speaks HTTP/2 (known from its first request).
    http2: AtomicBool,
    /// Signalled when a request starts (a permit is kept if nobody waits yet).
    request_started: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last_read_ms: AtomicU64::new(0),
            first_byte: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            http2: AtomicBool::new(false),
            request_started: Notify::new(),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read_ms.store(ms, Ordering::Relaxed);
        self.first_byte.store(true, Ordering::Relaxed);
    }

    fn last_read(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_read_ms.load(Ordering::Relaxed))
    }
}

/// Counts a request as under way until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.request_started.notify_one();
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that notes when bytes arrive.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The HTTP/1.1-or-2 server with meshgate's buffer limits.
fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(H1_MAX_BUFFER)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS)
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_header_list_size(H2_MAX_HEADER_LIST)
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    builder
}

/// Serves HTTP on one established stream until the client leaves, a deadline passes, or a
/// drain closes it.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    router: axum::Router,
    limits: Limits,
    connections: &Connections,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = Tracked {
        inner: stream,
        activity: activity.clone(),
    };
    let counter = activity.clone();
    let draining = connections.drain.clone();
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let http1 = request.version() < hyper::Version::HTTP_2;
            if !http1 {
                counter.http2.store(true, Ordering::Relaxed);
            }
            let in_flight = InFlight::start(&counter);
            let response = router.clone().oneshot(request.map(axum::body::Body::new));
            let draining = draining.clone();
            async move {
                let mut response = response.await;
                // Shutdown has started: the HTTP/1.1 client is told to reconnect (elsewhere)
                // with this answer, and hyper closes the connection once it is written.
                if http1
                    && *draining.borrow()
                    && let Ok(response) = response.as_mut()
                {
                    response.headers_mut().insert(
                        hyper::header::CONNECTION,
                        hyper::header::HeaderValue::from_static("close"),
                    );
                }
                drop(in_flight);
                response
            }
        });
    let builder = http_builder(&limits);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut drain = connections.drain.clone();
    let mut stop = connections.stop.clone();
    // Set once the connection was told to close: a client that then neither finishes nor reads
    // what it is sent is dropped at this time.
    let mut close_by: Option<Instant> = None;
    // A connection idle on the wire but with a review under way is looked at again later.
    let mut not_before = activity.opened;
    // Shutdown started before the connection's protocol was known: an HTTP/2 connection gets
    // its GOAWAY when its first request starts. HTTP/1.1 connections are not closed while
    // idle — that would race with a request the client is sending, which it cannot retry
    // (POST) — but answered with `Connection: close` (above) until the listener stops.
    let mut drain_pending = false;
    loop {
        let check_at = match close_by {
            Some(close_by) => close_by,
            None if activity.first_byte.load(Ordering::Relaxed) => {
                (activity.last_read() + limits.idle_timeout).max(not_before)
            }
            None => activity.opened + limits.handshake_timeout,
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "connection closed: {e}");
                }
                return;
            }
            _ = drain.wait_for(|drain| *drain), if close_by.is_none() && !drain_pending => {
                if activity.http2.load(Ordering::Relaxed) {
                    close_by = Some(Instant::now() + limits.idle_timeout);
                    connection.as_mut().graceful_shutdown();
                } else {
                    drain_pending = true;
                }
            }
            _ = stop.wait_for(|stop| *stop), if close_by.is_none() => {
                close_by = Some(Instant::now() + limits.idle_timeout);
                connection.as_mut().graceful_shutdown();
            }
            _ = activity.request_started.notified(), if drain_pending && close_by.is_none() => {
                if activity.http2.load(Ordering::Relaxed) {
                    close_by = Some(Instant::now() + limits.idle_timeout);
                    connection.as_mut().graceful_shutdown();
                }
            }
            _ = tokio::time::sleep_until(check_at.into()) => {
                if close_by.is_some() {
                    tracing::debug!(%peer, "connection did not close after being told to; dropped");
                    return;
                }
                if !activity.first_byte.load(Ordering::Relaxed) {
                    if let Some(metrics) = &connections.metrics {
                        metrics.record_shed(Shed::IdleConnection);
                    }
                    tracing::debug!(%peer, "no request within the handshake timeout; closed");
                    return;
                }
                if activity.in_flight.load(Ordering::Relaxed) > 0 {
                    not_before = Instant::now() + Duration::from_secs(1);
                } else if activity.last_read().elapsed() >= limits.idle_timeout {
                    tracing::debug!(%peer, "idle connection closed");
                    close_by = Some(Instant::now() + limits.handshake_timeout);
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
