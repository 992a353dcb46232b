//! The one table of error codes the services answer with, and the one renderer.
//!
//! Every service has an `error.rs` with its own error enum; each variant maps to a [`Code`] of this table, and
//! `ResponseError` is implemented by [`impl_response_error!`], which renders through [`render`]. The table says,
//! for every code, the HTTP status, the original's `code` member (if it had one) and the group:
//!
//! - **caller mistakes** (missing or malformed parameters, bodies too large): the caller must change its request;
//! - **refusals** (bad signature, unknown client, command expired, upload not awaited): the request was understood
//!   and declined, nothing is wrong with the service;
//! - **internal** failures (MySQL, Redis, storage): worth retrying later; logged once, here.
//!
//! The original callers read the envelope, not the status, so most codes answer HTTP 200 with `{ok:false, message,
//! code}`. [`INTERNAL_PLAIN`] answers HTTP 500 with a plain-text body: an original ws-server must not mistake a
//! manager failure for "unknown app" (which it would read from a JSON answer without a secret).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use protocol::service::Reply;
use serde_json::Value;

/// Which kind of failure a code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Caller,
    Refusal,
    Internal,
}

/// The `code` member of the original's error envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// No `code` member.
    None,
    Number(u16),
    Text(&'static str),
}

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    /// Our name for it (in logs and docs).
    pub name: &'static str,
    pub status: u16,
    pub legacy: Legacy,
    pub group: Group,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $id:ident = $status:literal, $legacy:expr, $group:ident;)*) => {
        $($(#[$doc])* pub const $id: Code = Code { name: stringify!($id), status: $status, legacy: $legacy, group: Group::$group };)*
        /// Every code, for documentation and tests.
        pub const ALL: &[&Code] = &[$(&$id),*];
    };
}

codes! {
    /// A required parameter is absent (`缺少参数`, the original's `checkParams`).
    MISSING_PARAM = 200, Legacy::Number(400), Caller;
    /// A parameter has the wrong type or value.
    BAD_PARAM = 200, Legacy::Number(400), Caller;
    /// A request body over the route's limit, or unreadable.
    BODY_TOO_LARGE = 413, Legacy::Number(413), Caller;
    /// A signed call without a valid signature (`需要签名`, `签名错误`).
    BAD_SIGNATURE = 200, Legacy::Number(401), Refusal;
    /// The request was understood and cannot be carried out (`file … not exists`, …).
    DECLINED = 200, Legacy::None, Refusal;
    /// `/xapi/exec_command`: the agent is not connected to this ws-server.
    NO_CLIENT = 200, Legacy::Text("XPROFILER_NO_CLIENT"), Refusal;
    /// `/xapi/exec_command`: the agent did not answer within `expiredTime`.
    COMMAND_EXPIRED = 200, Legacy::Text("XPROFILER_EXPIRED"), Refusal;
    /// An agent upload refused (bad signature, expired, replayed, not awaited); the agent prints the message.
    UPLOAD_REFUSED = 200, Legacy::None, Refusal;
    /// An agent upload over `console.max_upload_bytes`.
    UPLOAD_TOO_LARGE = 413, Legacy::None, Caller;
    /// An agent upload whose multipart body is malformed.
    UPLOAD_MALFORMED = 400, Legacy::None, Caller;
    /// No route here (the ws-server's answer to a plain HTTP request on an agent path).
    NOT_FOUND = 404, Legacy::None, Caller;
    /// The console: no API route at this path (an `/xapi/*` miss; the web UI's client routes never answer it).
    NO_ROUTE = 404, Legacy::Number(404), Caller;
    /// The console: no valid session or credentials (`请先登录`).
    UNAUTHENTICATED = 401, Legacy::Number(401), Refusal;
    /// The console: signed in, but not allowed to see or do this (the original's `code: 403` in the body).
    FORBIDDEN = 200, Legacy::Number(403), Refusal;
    /// The console: the app, file or rule named does not exist (the original's `code: 404` in the body).
    NO_SUCH = 200, Legacy::Number(404), Refusal;
    /// The console: a state-changing request without the `x-csrf-token` header matching the `csrfToken` cookie.
    CSRF_MISMATCH = 403, Legacy::Number(403), Refusal;
    /// The console: too many failed sign-ins for the account or the address; retry after the window.
    TOO_MANY_ATTEMPTS = 429, Legacy::Number(429), Refusal;
    /// A failure of the service or its stores, answered as JSON with a generic message (details only in the log).
    INTERNAL = 500, Legacy::None, Internal;
    /// A failure of the manager or its stores on the signed routes: HTTP 500 with a plain-text body.
    INTERNAL_PLAIN = 500, Legacy::None, Internal;
}

/// An error that knows its row of the table. Its `Display` is the message shown to the caller (for internal codes:
/// written to the log, and for [`INTERNAL_PLAIN`] also to the body).
pub trait ServiceError: std::fmt::Display {
    fn code(&self) -> &'static Code;
}

/// Renders `message` under `code`, and logs it once: internal failures as errors, bad signatures as warnings (someone
/// holds a wrong secret, or forges calls), other refusals at info and caller mistakes at debug level.
pub fn render(code: &'static Code, message: &str) -> HttpResponse {
    render_with(code, message, None)
}

/// [`render`], with the stable `reason` key and its `args` in the envelope (the console's, for its web UI to
/// translate; the original callers ignore members they do not know).
pub fn render_reason(code: &'static Code, message: &str, reason: &str, args: serde_json::Map<String, Value>) -> HttpResponse {
    render_with(code, message, Some((reason, args)))
}

fn render_with(code: &'static Code, message: &str, reason: Option<(&str, serde_json::Map<String, Value>)>) -> HttpResponse {
    match code.group {
        Group::Internal => tracing::error!(code = code.name, error = message, "request failed"),
        Group::Refusal if code == &BAD_SIGNATURE => tracing::warn!(code = code.name, reason = message, "request refused"),
        Group::Refusal => tracing::info!(code = code.name, reason = message, "request refused"),
        Group::Caller => tracing::debug!(code = code.name, reason = message, "bad request"),
    }
    let status = StatusCode::from_u16(code.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if code == &INTERNAL_PLAIN {
        return HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(format!("internal error: {message}"));
    }
    let message = match code.group {
        Group::Internal => "internal error, please retry later".to_owned(),
        _ => message.to_owned(),
    };
    let legacy = match code.legacy {
        Legacy::None => None,
        Legacy::Number(n) => Some(Value::from(n)),
        Legacy::Text(t) => Some(Value::from(t)),
    };
    let reply = Reply::<()>::fail(message, legacy);
    let Some((reason, args)) = reason else {
        return HttpResponse::build(status).json(reply);
    };
    let mut body = serde_json::to_value(reply).unwrap_or_default();
    if let Value::Object(members) = &mut body {
        members.insert("reason".into(), Value::from(reason));
        // Internal failures keep their details in the log.
        if !args.is_empty() && code.group != Group::Internal {
            members.insert("args".into(), Value::Object(args));
        }
    }
    HttpResponse::build(status).json(body)
}

/// Implements `actix_web::ResponseError` for a [`ServiceError`] through [`render`].
#[macro_export]
macro_rules! impl_response_error {
    ($ty:ty) => {
        impl actix_web::ResponseError for $ty {
            fn status_code(&self) -> actix_web::http::StatusCode {
                let code = $crate::error::ServiceError::code(self);
                actix_web::http::StatusCode::from_u16(code.status).unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
            }

            fn error_response(&self) -> actix_web::HttpResponse {
                $crate::error::render($crate::error::ServiceError::code(self), &self.to_string())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_statuses_valid() {
        let mut names: Vec<_> = ALL.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(ALL.iter().all(|c| StatusCode::from_u16(c.status).is_ok()));
        assert!(ALL.iter().filter(|c| c.group == Group::Internal).all(|c| c.status == 500));
    }

    #[actix_web::test]
    async fn envelopes_have_the_original_shape() {
        let body = |r: HttpResponse| async move { actix_web::body::to_bytes(r.into_body()).await.unwrap() };
        let r = render(&MISSING_PARAM, "缺少参数");
        assert_eq!(r.status(), 200);
        assert_eq!(body(r).await, r#"{"ok":false,"message":"缺少参数","code":400}"#);
        let r = render(&NO_CLIENT, "client 1::a::b not connected");
        assert_eq!(body(r).await, r#"{"ok":false,"message":"client 1::a::b not connected","code":"XPROFILER_NO_CLIENT"}"#);
        let r = render(&INTERNAL, "mysql: connection refused");
        assert_eq!(r.status(), 500);
        assert_eq!(body(r).await, r#"{"ok":false,"message":"internal error, please retry later"}"#);
        let r = render(&INTERNAL_PLAIN, "mysql: connection refused");
        assert_eq!(r.headers().get("content-type").unwrap(), "text/plain; charset=utf-8");
        assert_eq!(body(r).await, "internal error: mysql: connection refused");
    }
}
