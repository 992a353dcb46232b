//! The console's errors, rendered through the shared error table (`common::error`). Refusals answer the original's
//! `{ok:false, message[, code]}`; internal failures are logged once with their cause and answered with a generic
//! message (no SQL, paths or hosts reach the client). Every error answer of the API also carries the stable English
//! `reason` of [`crate::reasons`] and its `args`, which the web UI translates.

use crate::reasons::{self, Refusal};
use common::error::{self, Code, ServiceError};
use common::signed::ParamError;
use deadpool_redis::redis;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{0}")]
    Param(#[from] ParamError),
    /// A user's input the console cannot take (an empty app name, …): a caller mistake with a translated reason.
    #[error("{0}")]
    Invalid(Refusal),
    #[error("请先登录")]
    Unauthenticated,
    /// The sign-in form's credentials are wrong.
    #[error("{0}")]
    BadCredentials(Refusal),
    /// HTTP Basic credentials are wrong: the answer asks for others (`WWW-Authenticate`).
    #[error("{0}")]
    BadBasicCredentials(Refusal),
    #[error("{0}")]
    Forbidden(Refusal),
    #[error("{0}")]
    NotFound(Refusal),
    /// Understood and declined (duplicate name, nothing to change, the agent refused, …).
    #[error("{0}")]
    Declined(Refusal),
    #[error("invalid csrf token")]
    Csrf,
    #[error("登录失败次数过多，请 {} 分钟后再试", .0.div_ceil(60))]
    TooManyAttempts(u64),
    #[error("console database: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error("logs database: {0}")]
    LogsDb(mysql_async::Error),
    #[error("redis: {0}")]
    Redis(#[from] common::redis::RedisError),
    #[error("manager: {0}")]
    Manager(#[from] common::client::CallError),
    #[error("storage: {0}")]
    Storage(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl ConsoleError {
    pub fn bad(message: impl Into<String>) -> Self {
        ConsoleError::Param(ParamError::Bad(message.into()))
    }

    /// The reason and values the envelope carries next to the message (`reason`, `args`).
    pub fn refusal(&self) -> Refusal {
        match self {
            ConsoleError::Param(ParamError::Missing(name)) => reasons::MISSING_PARAM.arg("name", name),
            ConsoleError::Param(ParamError::Bad(detail)) => reasons::BAD_PARAM.arg("detail", detail),
            ConsoleError::Param(ParamError::Body(detail)) => reasons::BAD_BODY.arg("detail", detail),
            ConsoleError::Param(ParamError::Signature(e)) => reasons::BAD_PARAM.arg("detail", e),
            ConsoleError::Invalid(r)
            | ConsoleError::BadCredentials(r)
            | ConsoleError::BadBasicCredentials(r)
            | ConsoleError::Forbidden(r)
            | ConsoleError::NotFound(r)
            | ConsoleError::Declined(r) => r.clone(),
            ConsoleError::Unauthenticated => (&reasons::SIGN_IN_REQUIRED).into(),
            ConsoleError::Csrf => (&reasons::CSRF_MISMATCH).into(),
            ConsoleError::TooManyAttempts(secs) => reasons::TOO_MANY_ATTEMPTS.arg("minutes", secs.div_ceil(60)),
            ConsoleError::Mysql(_)
            | ConsoleError::LogsDb(_)
            | ConsoleError::Redis(_)
            | ConsoleError::Manager(_)
            | ConsoleError::Storage(_)
            | ConsoleError::Internal(_) => (&reasons::INTERNAL).into(),
        }
    }
}

impl From<redis::RedisError> for ConsoleError {
    fn from(e: redis::RedisError) -> Self {
        ConsoleError::Redis(e.into())
    }
}

impl ServiceError for ConsoleError {
    fn code(&self) -> &'static Code {
        match self {
            ConsoleError::Param(e) => e.code(),
            ConsoleError::Invalid(_) => &error::BAD_PARAM,
            ConsoleError::Unauthenticated | ConsoleError::BadCredentials(_) | ConsoleError::BadBasicCredentials(_) => &error::UNAUTHENTICATED,
            ConsoleError::Forbidden(_) => &error::FORBIDDEN,
            ConsoleError::NotFound(_) => &error::NO_SUCH,
            // The agent's absence and silence keep the original's codes (`XPROFILER_NO_CLIENT`, `XPROFILER_EXPIRED`).
            ConsoleError::Declined(r) if r.reason.key == reasons::AGENT_OFFLINE.key => &error::NO_CLIENT,
            ConsoleError::Declined(r) if r.reason.key == reasons::AGENT_TIMEOUT.key => &error::COMMAND_EXPIRED,
            ConsoleError::Declined(_) => &error::DECLINED,
            ConsoleError::Csrf => &error::CSRF_MISMATCH,
            ConsoleError::TooManyAttempts(_) => &error::TOO_MANY_ATTEMPTS,
            ConsoleError::Mysql(_)
            | ConsoleError::LogsDb(_)
            | ConsoleError::Redis(_)
            | ConsoleError::Manager(_)
            | ConsoleError::Storage(_)
            | ConsoleError::Internal(_) => &error::INTERNAL,
        }
    }
}

/// The HTTP Basic challenge, with the realm the original named.
pub const BASIC_CHALLENGE: &str = r#"Basic realm="easy-monitor""#;

impl actix_web::ResponseError for ConsoleError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.code().status).unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let refusal = self.refusal();
        let mut response = error::render_reason(self.code(), &self.to_string(), refusal.reason.key, refusal.args_json());
        // Wrong HTTP Basic credentials ask the client to authenticate again; a missing session or a failed sign-in
        // form does not (a browser would pop up its own password dialog over the console's sign-in page).
        if matches!(self, ConsoleError::BadBasicCredentials(_)) {
            let value = actix_web::http::header::HeaderValue::from_static(BASIC_CHALLENGE);
            response.headers_mut().insert(actix_web::http::header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// What can go wrong with an agent's upload (`/xapi/upload_from_xtransit`). Refusals answer `{ok:false, message}`
/// with HTTP 200, like the original, and the agent prints the message as `transfer failed: <message>`.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    Refused(String),
    #[error("upload larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("upload body: {0}")]
    Body(String),
    #[error("console database: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error("redis: {0}")]
    Redis(#[from] common::redis::RedisError),
    #[error("redis: {0}")]
    RedisCmd(#[from] redis::RedisError),
    #[error("storage: {0}")]
    Storage(#[from] std::io::Error),
}

impl UploadError {
    pub fn refused(message: impl Into<String>) -> Self {
        UploadError::Refused(message.into())
    }
}

impl ServiceError for UploadError {
    fn code(&self) -> &'static Code {
        match self {
            UploadError::Refused(_) => &error::UPLOAD_REFUSED,
            UploadError::TooLarge(_) => &error::UPLOAD_TOO_LARGE,
            UploadError::Body(_) => &error::UPLOAD_MALFORMED,
            UploadError::Mysql(_) | UploadError::Redis(_) | UploadError::RedisCmd(_) | UploadError::Storage(_) => &error::INTERNAL,
        }
    }
}

common::impl_response_error!(UploadError);
