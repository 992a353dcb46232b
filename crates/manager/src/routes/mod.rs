//! The manager's route table: the 17 routes of the original (all POST, signed), plus health and metrics.

mod health;
mod xprofiler;
mod xtransit;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure).configure(xtransit::configure).configure(xprofiler::configure);
}
