//! Tracing set-up: JSON lines in production, pretty output locally; `RUST_LOG` overrides the configured filter.

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&settings.filter)).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true);
    // `try_init` fails only when a subscriber is already set (tests start several services in one process).
    let _ = match settings.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}
