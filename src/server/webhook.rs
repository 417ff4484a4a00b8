//! The HTTPS endpoints `POST /validate` and `POST /mutate`: content type, body limit, one
//! tracing span and metrics per review, and the plain-text 4xx answers the README lists. The
//! decision itself is [`crate::admission::review`], the same call `meshgate review` makes.
//!
//! Each request lives within a deadline: the API server's `?timeout=` less a tenth (so the
//! answer arrives before it gives up), at most `--review-timeout`. Within it the request waits
//! for room in the memory budget, reads its body (within `--body-read-timeout`), waits for a
//! review lane and is reviewed on the blocking pool. What cannot be done by the deadline is
//! answered 503, which the API server treats as a failed call: the webhook's `failurePolicy`
//! decides, as it would for a timeout, but at once and with the reason.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::BodyExt;
use tracing::field::Empty;

use super::budget::{Charge, FREE_ALLOWANCE, MemoryBudget};
use super::lanes::{Lanes, NotRun};
use crate::admission;
use crate::engine::{Engine, Webhook};
use crate::metrics::{Metrics, RequestResult, Shed};
use crate::telemetry::{self, untrusted};

/// How much of an oversized body is read and thrown away so that the 413 reaches a client that
/// is still sending; past this the connection is closed after the answer.
const OVERSIZED_DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// The longest 4xx/5xx message sent back: the API server quotes it to the user.
const MAX_ERROR_MESSAGE_BYTES: usize = 1024;

/// The time limits of one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Largest accepted request body (`--max-body-bytes`).
    pub max_body_bytes: usize,
    /// How long a body may take to arrive once the server reads it (`--body-read-timeout`).
    pub body_read_timeout: Duration,
    /// The longest a request may take in all, whatever `?timeout=` says (`--review-timeout`).
    pub review_timeout: Duration,
}

impl Default for RequestLimits {
    /// The defaults of `meshgate serve`.
    fn default() -> Self {
        Self {
            max_body_bytes: 6 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(5),
            review_timeout: Duration::from_secs(10),
        }
    }
}

/// What the webhook handlers share.
#[derive(Debug, Clone)]
pub struct WebhookState {
    /// The engine in force; replaced whole when the policy file changes.
    pub engine: Arc<ArcSwap<Engine>>,
    /// Where requests are counted.
    pub metrics: Arc<Metrics>,
    /// Body size and time limits.
    pub limits: RequestLimits,
    /// What bodies being read or reviewed may cost.
    pub budget: MemoryBudget,
    /// Where reviews run.
    pub lanes: Lanes,
}

impl WebhookState {
    /// The handlers' state for `engine`, with `limits` and the default memory budget and lanes.
    pub fn new(engine: Engine, metrics: Arc<Metrics>, limits: RequestLimits) -> Self {
        Self {
            engine: Arc::new(ArcSwap::from_pointee(engine)),
            metrics,
            limits,
            budget: MemoryBudget::new(160 * 1024 * 1024),
            lanes: Lanes::for_this_machine(),
        }
    }
}

/// The router of the HTTPS listener.
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route("/validate", post(validate).fallback(method_not_allowed))
        .route("/mutate", post(mutate).fallback(method_not_allowed))
        .fallback(unknown_path)
        .with_state(state)
        .layer(axum::middleware::from_fn(close_if_body_unread))
}

async fn validate(State(state): State<WebhookState>, request: Request) -> Response {
    handle(&state, Webhook::Validate, request).await
}

async fn mutate(State(state): State<WebhookState>, request: Request) -> Response {
    handle(&state, Webhook::Mutate, request).await
}

async fn unknown_path(uri: Uri) -> Response {
    plain(
        StatusCode::NOT_FOUND,
        format!(
            "no endpoint at {}: meshgate answers POST /validate and POST /mutate",
            untrusted(uri.path())
        ),
    )
}

async fn method_not_allowed() -> Response {
    let mut response = plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "meshgate answers POST /validate and POST /mutate".to_string(),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn plain(status: StatusCode, mut message: String) -> Response {
    if message.len() > MAX_ERROR_MESSAGE_BYTES {
        let mut cut = MAX_ERROR_MESSAGE_BYTES;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push_str("...");
    }
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message + "\n",
    )
        .into_response()
}

/// A request body that notes when it was read to its end.
struct Watched {
    inner: Body,
    ended: Arc<AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.ended.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// An HTTP/1.1 answer given before the request body was read to its end says
/// `Connection: close`: the unread rest would otherwise be taken for the next request, and
/// hyper closes such a connection anyway, which a client must be told.
async fn close_if_body_unread(request: Request, next: Next) -> Response {
    let http1 = matches!(request.version(), Version::HTTP_10 | Version::HTTP_11);
    if !http1 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let ended = Arc::new(AtomicBool::new(false));
    let request = request.map(|inner| {
        Body::new(Watched {
            inner,
            ended: ended.clone(),
        })
    });
    let mut response = next.run(request).await;
    if !ended.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The `timeout` query parameter the API server appends, a Go duration such as `10s`, `1m0s`
/// or `2.5s`.
fn api_server_timeout(uri: &Uri) -> Option<Duration> {
    let value = uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("timeout="))?;
    parse_go_duration(value)
}

fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut seconds = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        seconds += number * scale;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// When this request must be answered: a tenth before the API server gives up, and never
/// later than `--review-timeout`.
fn deadline_of(started: Instant, uri: &Uri, limits: &RequestLimits) -> Instant {
    let budget = api_server_timeout(uri)
        .map_or(limits.review_timeout, |t| t.mul_f64(0.9))
        .min(limits.review_timeout);
    started + budget
}

/// Why a body was not read.
enum BodyError {
    TooLarge,
    TimedOut,
    NoBudget,
    Broken(String),
}

/// Reads the body up to `limit` bytes within `read_by`, charging `budget` for it. Nothing is
/// allocated for bytes that have not arrived: a client's `Content-Length` only decides what
/// the budget is charged up front. An oversized body is drained (up to a bound, within the
/// same deadline) so that the client, which is still writing, can read the 413.
async fn read_body(
    mut body: Body,
    declared: Option<usize>,
    limits: &RequestLimits,
    budget: &MemoryBudget,
    charge: &mut Charge,
    deadline: Instant,
) -> Result<Bytes, BodyError> {
    let limit = limits.max_body_bytes;
    if let Some(declared) = declared.filter(|d| *d <= limit) {
        tokio::time::timeout_at(deadline.into(), budget.charge_to(charge, declared))
            .await
            .map_err(|_| BodyError::NoBudget)?;
        if Instant::now() >= deadline {
            // Room came just as the deadline passed: nothing could be read in time anyway.
            return Err(BodyError::NoBudget);
        }
    }
    let read_by = deadline.min(Instant::now() + limits.body_read_timeout);
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut seen = 0usize;
    let mut over = declared.is_some_and(|d| d > limit);
    loop {
        let frame = match tokio::time::timeout_at(read_by.into(), body.frame()).await {
            Err(_) if over => return Err(BodyError::TooLarge),
            Err(_) => return Err(BodyError::TimedOut),
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|e| BodyError::Broken(e.to_string()))?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit {
            over = true;
            chunks.clear();
        }
        if over {
            if seen > OVERSIZED_DRAIN_LIMIT {
                return Err(BodyError::TooLarge);
            }
            continue;
        }
        if declared.is_none() && seen > FREE_ALLOWANCE {
            // No length was declared: the charge grows with what arrives.
            tokio::time::timeout_at(read_by.into(), budget.charge_to(charge, seen))
                .await
                .map_err(|_| BodyError::NoBudget)?;
        }
        chunks.push(data);
    }
    if over {
        return Err(BodyError::TooLarge);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.remove(0),
        _ => {
            let mut whole = BytesMut::with_capacity(seen);
            for chunk in chunks {
                whole.extend_from_slice(&chunk);
            }
            whole.freeze()
        }
    })
}

async fn handle(state: &WebhookState, webhook: Webhook, request: Request) -> Response {
    let started = Instant::now();
    let deadline = deadline_of(started, request.uri(), &state.limits);
    let span = tracing::info_span!(
        "review",
        webhook = webhook.as_str(),
        uid = Empty,
        kind = Empty,
        object = Empty,
        operation = Empty,
        decision = Empty,
        duration_ms = Empty,
    );
    let refuse = |status: StatusCode, message: String| {
        state.metrics.record_request(
            webhook,
            None,
            None,
            RequestResult::Error,
            started.elapsed().as_secs_f64(),
        );
        span.record("decision", "error");
        span.record("duration_ms", started.elapsed().as_secs_f64() * 1e3);
        tracing::warn!(parent: &span, status = status.as_u16(), "{}", untrusted(&message));
        plain(status, message)
    };
    let shed = |why: Shed, status: StatusCode, message: String| {
        state.metrics.record_shed(why);
        let mut response = refuse(status, message);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    };
    let (parts, body) = request.into_parts();
    if !is_json(&parts.headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json".to_string(),
        );
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut charge = Charge::default();
    let body = match read_body(
        body,
        declared,
        &state.limits,
        &state.budget,
        &mut charge,
        deadline,
    )
    .await
    {
        Ok(body) => body,
        // A body left unread is answered with `Connection: close` by `close_if_body_unread`.
        Err(BodyError::TooLarge) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body exceeds the {} byte limit (--max-body-bytes)",
                    state.limits.max_body_bytes
                ),
            );
        }
        Err(BodyError::TimedOut) => {
            return shed(
                Shed::BodyTimeout,
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {:?} (--body-read-timeout or the request's timeout)",
                    state.limits.body_read_timeout.min(deadline - started)
                ),
            );
        }
        Err(BodyError::NoBudget) => {
            return shed(
                Shed::MemoryBudget,
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "meshgate is reviewing {} bytes of other large requests (--memory-budget {}) and had no room for this one before its deadline; the webhook's failurePolicy decides",
                    state.budget.total_bytes() - state.budget.available_bytes(),
                    state.budget.total_bytes()
                ),
            );
        }
        Err(BodyError::Broken(e)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("could not read request body: {e}"),
            );
        }
    };
    let engine = state.engine.load_full();
    let large = body.len() > FREE_ALLOWANCE;
    let reviewed = state
        .lanes
        .run(large, deadline, move || {
            let answer = admission::review(&engine, webhook, &body);
            // The body's share of the budget is returned when its review is over, not when
            // the answer was given up.
            drop(charge);
            answer
        })
        .await;
    let answer = match reviewed {
        Ok(answer) => answer,
        Err(NotRun::Deadline) => {
            return shed(
                Shed::Deadline,
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "meshgate could not finish the review within {:?} (the API server's timeout less a tenth, at most --review-timeout); the webhook's failurePolicy decides",
                    deadline - started
                ),
            );
        }
        Err(NotRun::Panicked) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "meshgate failed while reviewing this request; the webhook's failurePolicy decides"
                    .to_string(),
            );
        }
    };
    match answer {
        Ok(answer) => {
            let seconds = started.elapsed().as_secs_f64();
            state.metrics.record_request(
                webhook,
                answer.kind,
                Some(answer.operation),
                RequestResult::Answered(answer.decision),
                seconds,
            );
            state.metrics.record_findings(&answer.outcome.reported);
            state.metrics.record_suppressed(&answer.outcome.suppressed);
            span.record("uid", untrusted(&answer.uid));
            span.record("kind", answer.kind.map_or("other", |k| k.as_str()));
            span.record("object", untrusted(&answer.object_ref));
            span.record("operation", answer.operation.as_str());
            span.record("decision", answer.decision.as_str());
            span.record("duration_ms", seconds * 1e3);
            tracing::info!(parent: &span, findings = answer.outcome.reported.len(), "review answered");
            ([(header::CONTENT_TYPE, "application/json")], answer.body).into_response()
        }
        Err(bad) => refuse(
            StatusCode::BAD_REQUEST,
            format!("bad admission request: {}", telemetry::with_causes(&bad)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_as_the_api_server_writes_them() {
        let secs = Duration::from_secs_f64;
        assert_eq!(parse_go_duration("10s"), Some(secs(10.0)));
        assert_eq!(parse_go_duration("1m0s"), Some(secs(60.0)));
        assert_eq!(parse_go_duration("2.5s"), Some(secs(2.5)));
        assert_eq!(parse_go_duration("500ms"), Some(secs(0.5)));
        assert_eq!(parse_go_duration("1h2m3s"), Some(secs(3723.0)));
        for bad in ["", "10", "s", "10x", "-1s", "1e400s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_deadline_is_a_tenth_before_the_api_server_gives_up() {
        let limits = RequestLimits {
            max_body_bytes: 1,
            body_read_timeout: Duration::from_secs(5),
            review_timeout: Duration::from_secs(10),
        };
        let now = Instant::now();
        let uri = |q: &str| q.parse::<Uri>().unwrap();
        assert_eq!(
            deadline_of(now, &uri("/validate?timeout=5s"), &limits) - now,
            Duration::from_millis(4500)
        );
        assert_eq!(
            deadline_of(now, &uri("/validate?timeout=30s"), &limits) - now,
            Duration::from_secs(10)
        );
        assert_eq!(
            deadline_of(now, &uri("/validate"), &limits) - now,
            Duration::from_secs(10)
        );
        assert_eq!(
            deadline_of(now, &uri("/validate?timeout=junk"), &limits) - now,
            Duration::from_secs(10)
        );
    }
}
