//! The plain-HTTP admin endpoints: `/livez`, `/readyz` (503 once shutdown starts) and
//! `/metrics`. Separate from the webhook port so probes and scrapes need no TLS.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Metrics;

/// What the admin handlers share.
#[derive(Debug, Clone)]
pub struct AdminState {
    /// True once credentials and policy are loaded; false again as soon as shutdown starts.
    pub ready: Arc<AtomicBool>,
    /// What `/metrics` renders.
    pub metrics: Arc<Metrics>,
}

/// The router of the admin listener.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<AdminState>) -> Response {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn metrics(State(state): State<AdminState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
