//! `/metrics` in the OpenMetrics text format, rendered by `prometheus-client` (the Prometheus project's own Rust
//! client): each service keeps its counters in a `Registry` and answers with [`respond`].

use actix_web::HttpResponse;
use prometheus_client::registry::Registry;

pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::family::Family;
pub use prometheus_client::metrics::gauge::Gauge;
pub use prometheus_client::metrics::histogram::Histogram;
pub use prometheus_client::registry::Registry as MetricRegistry;

/// The registry's metrics as an HTTP answer Prometheus scrapes.
pub fn respond(registry: &Registry) -> HttpResponse {
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, registry) {
        Ok(()) => HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(body),
        Err(e) => {
            tracing::error!(error = %e, "could not encode metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}
