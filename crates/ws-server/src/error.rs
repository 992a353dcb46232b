//! The ws-server's one error type, rendered through the shared error table (`common::error`).

use common::error::{self, Code, ServiceError};
use common::signed::ParamError;

#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error("{0}")]
    Param(#[from] ParamError),
    /// `/xapi/exec_command`: the agent is not connected here.
    #[error("{0}")]
    NoClient(String),
    /// `/xapi/exec_command`: no answer within `expiredTime`.
    #[error("{0}")]
    Expired(String),
    /// A plain HTTP request on a path where agents open their WebSocket.
    #[error("not found: agents connect here with a WebSocket")]
    NotAnUpgrade,
}

impl ServiceError for WsError {
    fn code(&self) -> &'static Code {
        match self {
            WsError::Param(e) => e.code(),
            WsError::NoClient(_) => &error::NO_CLIENT,
            WsError::Expired(_) => &error::COMMAND_EXPIRED,
            WsError::NotAnUpgrade => &error::NOT_FOUND,
        }
    }
}

common::impl_response_error!(WsError);
