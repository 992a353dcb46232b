//! The console's errors, rendered through the shared error table (`common::error`).

use common::error::{self, Code, ServiceError};
use deadpool_redis::redis;

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
