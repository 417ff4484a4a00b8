//! The HTTPS endpoints `POST /validate` and `POST /mutate`: content type, body limit, one
//! tracing span and metrics per review, and the plain-text 4xx answers of INTERFACE.md. The
//! decision itself is [`crate::admission::review`], the same call `meshgate review` makes.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tracing::field::Empty;

use crate::admission;
use crate::engine::{Engine, Webhook};
use crate::metrics::{Metrics, RequestResult};

/// How much of an oversized body is read and thrown away so that the 413 reaches a client that
/// is still sending; past this the connection is closed after the answer.
const OVERSIZED_DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// What the webhook handlers share.
#[derive(Debug, Clone)]
pub struct WebhookState {
    /// The engine in force; replaced whole when the policy file changes.
    pub engine: Arc<ArcSwap<Engine>>,
    /// Where requests are counted.
    pub metrics: Arc<Metrics>,
    /// `--max-body-bytes`.
    pub max_body_bytes: usize,
}

/// The router of the HTTPS listener.
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .fallback(unknown_path)
        .with_state(state)
}

async fn validate(State(state): State<WebhookState>, headers: HeaderMap, body: Body) -> Response {
    handle(&state, Webhook::Validate, &headers, body).await
}

async fn mutate(State(state): State<WebhookState>, headers: HeaderMap, body: Body) -> Response {
    handle(&state, Webhook::Mutate, &headers, body).await
}

async fn unknown_path(uri: Uri) -> Response {
    plain(
        StatusCode::NOT_FOUND,
        format!(
            "no endpoint at {}: meshgate answers POST /validate and POST /mutate",
            uri.path()
        ),
    )
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message + "\n",
    )
        .into_response()
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a body was not read.
enum BodyError {
    TooLarge,
    Broken(String),
}

/// Reads the body up to `limit` bytes. An oversized body is drained (up to a bound) so that the
/// client, which is still writing, can read the 413.
async fn read_body(mut body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut buffer = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len();
        if seen <= limit {
            buffer.extend_from_slice(&data);
        } else if seen > OVERSIZED_DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(buffer.freeze())
}

async fn handle(
    state: &WebhookState,
    webhook: Webhook,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
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
        tracing::warn!(parent: &span, status = status.as_u16(), "{message}");
        plain(status, message)
    };
    if !is_json(headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json".to_string(),
        );
    }
    let body = match read_body(body, headers, state.max_body_bytes).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body exceeds the {} byte limit (--max-body-bytes)",
                    state.max_body_bytes
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
    let engine = state.engine.load();
    match admission::review(&engine, webhook, &body) {
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
            span.record("uid", answer.uid.as_str());
            span.record("kind", answer.kind.map_or("other", |k| k.as_str()));
            span.record("object", answer.object_ref.as_str());
            span.record("operation", answer.operation.as_str());
            span.record("decision", answer.decision.as_str());
            span.record("duration_ms", seconds * 1e3);
            tracing::info!(parent: &span, findings = answer.outcome.reported.len(), "review answered");
            ([(header::CONTENT_TYPE, "application/json")], answer.body).into_response()
        }
        Err(bad) => refuse(
            StatusCode::BAD_REQUEST,
            format!("bad admission request: {bad}"),
        ),
    }
}
