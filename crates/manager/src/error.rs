//! The manager's one error type. Each variant maps to a row of the shared error table (`common::error`), which
//! renders it: caller mistakes and refusals as the original's `{ok:false, message[, code]}` with HTTP 200 (the
//! original callers read the envelope, not the status), unexpected failures as HTTP 500 with a plain-text body
//! (an original ws-server must not mistake them for "unknown app").

use common::error::{self, Code, ServiceError};
use common::signed::ParamError;

#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("{0}")]
    Param(#[from] ParamError),
    /// The request was understood and cannot be carried out (`file … not exists`).
    #[error("{0}")]
    Declined(String),
    #[error("mysql: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error("{0}")]
    Redis(#[from] common::redis::RedisError),
    #[error("{0}")]
    Write(#[from] crate::jobs::writer::WriteError),
}

impl ManagerError {
    /// A caller mistake found after extraction (`ok:false`, code 400).
    pub fn bad(message: impl Into<String>) -> Self {
        ManagerError::Param(ParamError::Bad(message.into()))
    }

    /// An unexpected failure of the manager or its stores (worth retrying later), not a caller mistake.
    pub fn is_internal(&self) -> bool {
        self.code().group == error::Group::Internal
    }
}

impl From<deadpool_redis::redis::RedisError> for ManagerError {
    fn from(e: deadpool_redis::redis::RedisError) -> Self {
        ManagerError::Redis(e.into())
    }
}

impl ServiceError for ManagerError {
    fn code(&self) -> &'static Code {
        match self {
            ManagerError::Param(e) => e.code(),
            ManagerError::Declined(_) => &error::DECLINED,
            ManagerError::Mysql(_) | ManagerError::Redis(_) | ManagerError::Write(_) => &error::INTERNAL_PLAIN,
        }
    }
}

common::impl_response_error!(ManagerError);
