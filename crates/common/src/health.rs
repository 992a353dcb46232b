//! The health endpoints every service serves: `/healthz` (the process answers) and `/readyz` (its dependencies
//! answer), rendered the same way everywhere.

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// `/readyz` from named checks: 200 when all pass, 503 otherwise, each check's outcome in the body.
pub fn readiness(checks: Vec<(&'static str, Result<(), String>)>) -> HttpResponse {
    let ready = checks.iter().all(|(_, r)| r.is_ok());
    let mut body = Map::new();
    body.insert("ok".into(), Value::Bool(ready));
    for (name, result) in checks {
        body.insert(
            name.into(),
            match result {
                Ok(()) => json!("ok"),
                Err(e) => json!(e),
            },
        );
    }
    match ready {
        true => HttpResponse::Ok().json(body),
        false => HttpResponse::ServiceUnavailable().json(body),
    }
}
