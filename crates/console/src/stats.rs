//! The console's counters, exported on `/metrics` (OpenMetrics text, rendered by `prometheus-client`): requests by
//! route pattern, method and status with their latency, sign-ins by outcome, and agent uploads by outcome.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use common::metrics::{Counter, Family, Histogram, MetricRegistry};
use prometheus_client::encoding::EncodeLabelSet;

use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    outcome: &'static str,
}

/// Upper bounds (seconds) of the request latency histogram.
const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

pub struct Stats {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    signins: Family<OutcomeLabel, Counter>,
    uploads: Family<OutcomeLabel, Counter>,
    registry: MetricRegistry,
}

impl Default for Stats {
    fn default() -> Self {
        let latency: Family<RouteLabel, Histogram, fn() -> Histogram> = Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        let mut s = Stats { requests: Family::default(), latency, signins: Family::default(), uploads: Family::default(), registry: MetricRegistry::default() };
        let r = &mut s.registry;
        r.register("ezm_console_requests", "HTTP requests by route pattern, method and status", s.requests.clone());
        r.register("ezm_console_request_duration_seconds", "HTTP request latency by route pattern", s.latency.clone());
        r.register("ezm_console_signins", "sign-in attempts by outcome (ok, refused, limited)", s.signins.clone());
        r.register("ezm_console_uploads", "agent uploads by outcome (stored, refused, failed)", s.uploads.clone());
        s
    }
}

impl Stats {
    pub fn signin(&self, outcome: &'static str) {
        self.signins.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn upload(&self, outcome: &'static str) {
        self.uploads.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn registry(&self) -> &MetricRegistry {
        &self.registry
    }
}

/// Counts every request under its route pattern (`/xapi/apps`, never the raw path, so ids and file names do not make
/// new series; unmatched paths count as `unmatched`).
pub async fn record(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let stats = req.app_data::<web::Data<AppState>>().map(|s| s.stats.clone());
    let method = req.method().as_str().to_owned();
    let response = next.call(req).await;
    if let Some(stats) = stats {
        let (route, status) = match &response {
            Ok(r) => (r.request().match_pattern().unwrap_or_else(|| "unmatched".into()), r.status().as_u16()),
            Err(e) => ("unmatched".into(), e.as_response_error().status_code().as_u16()),
        };
        stats.latency.get_or_create(&RouteLabel { route: route.clone() }).observe(started.elapsed().as_secs_f64());
        stats.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    }
    response
}
