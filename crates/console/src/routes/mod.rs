//! The console's route table: the agents' uploads and the health endpoints.

mod health;
pub mod upload;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/xapi/upload_from_xtransit", web::post().to(upload::from_xtransit)).configure(health::configure);
}
