//! The manager's one error type, rendered in one place.
//!
//! Three groups: caller mistakes (HTTP 200 with `ok:false` and the original's `code`, because the original callers
//! read the envelope, not the status), business outcomes (`ok:false` without a code), and unexpected failures
//! (HTTP 500 with a plain-text body). The last must not be JSON: the original ws-server treats a JSON answer to
//! `/xtransit/app_secret` without a secret as "unknown app" and kills the agent, while a non-JSON answer only
//! drops the message.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use common::signed::ParamError;
use protocol::service::Reply;

#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("{0}")]
    Param(#[from] ParamError),
    #[error("{0}")]
    Business(String),
    #[error("mysql: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error("{0}")]
    Redis(#[from] common::redis::RedisError),
    #[error("{0}")]
    Write(#[from] crate::writer::WriteError),
}

impl ManagerError {
    /// A caller mistake found after extraction (`ok:false`, code 400).
    pub fn bad(message: impl Into<String>) -> Self {
        ManagerError::Param(ParamError::Bad(message.into()))
    }

    /// An unexpected failure of the manager or its stores (worth retrying later), not a caller mistake.
    pub fn is_internal(&self) -> bool {
        matches!(self, ManagerError::Mysql(_) | ManagerError::Redis(_) | ManagerError::Write(_))
    }
}

impl From<deadpool_redis::redis::RedisError> for ManagerError {
    fn from(e: deadpool_redis::redis::RedisError) -> Self {
        ManagerError::Redis(e.into())
    }
}

impl ResponseError for ManagerError {
    fn status_code(&self) -> StatusCode {
        match self {
            ManagerError::Param(e) => e.status_code(),
            ManagerError::Business(_) => StatusCode::OK,
            ManagerError::Mysql(_) | ManagerError::Redis(_) | ManagerError::Write(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ManagerError::Param(e) => e.error_response(),
            ManagerError::Business(message) => HttpResponse::Ok().json(Reply::<()>::fail(message.clone(), None)),
            ManagerError::Mysql(_) | ManagerError::Redis(_) | ManagerError::Write(_) => {
                tracing::error!(error = %self, "request failed");
                HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body(format!("internal error: {self}"))
            }
        }
    }
}
