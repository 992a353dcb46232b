//! `Signed<T>`: the extractor for every route one service calls on another (`/xtransit/*`, `/xprofiler/*`,
//! `/xapi/*`). It reads the body, checks the shared-secret signature on the raw text, and deserializes it into the
//! protocol type `T` (the types of `protocol::service`, which take the original's loose typing: ids and numbers may
//! arrive as numbers or as strings). A missing member becomes the original's `缺少参数`, in [`parse`].
//!
//! Routes whose body is large and can be read in place (`/xtransit/batch`) take [`Verified`] and borrow from it.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use protocol::service::SignError;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{self, Code, ServiceError};

/// The shared secret, registered as app data by each service.
#[derive(Clone)]
pub struct SharedSecret(pub SecretString);

/// A caller mistake in a signed call. Rendered as the original does: HTTP 200, `{ok:false, message, code}`.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    #[error("{0}")]
    Signature(#[from] SignError),
    #[error("缺少参数")]
    Missing(String),
    #[error("参数错误: {0}")]
    Bad(String),
    #[error("request body: {0}")]
    Body(String),
}

impl ServiceError for ParamError {
    fn code(&self) -> &'static Code {
        match self {
            ParamError::Signature(_) => &error::BAD_SIGNATURE,
            ParamError::Missing(_) => &error::MISSING_PARAM,
            ParamError::Bad(_) => &error::BAD_PARAM,
            ParamError::Body(_) => &error::BODY_TOO_LARGE,
        }
    }
}

crate::impl_response_error!(ParamError);

/// Deserializes a (verified) body into `T`, with serde's missing-field error turned into [`ParamError::Missing`].
pub fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, ParamError> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        match message.strip_prefix("missing field `").and_then(|rest| rest.split_once('`')) {
            Some((name, _)) => ParamError::Missing(name.to_owned()),
            None => ParamError::Bad(message),
        }
    })
}

/// A body whose signature was checked, as text (for routes that borrow from it).
pub struct Verified(web::Bytes);

impl Verified {
    pub fn text(&self) -> &str {
        // Checked to be UTF-8 when extracted.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The body deserialized into `T`, which may borrow from it.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, ParamError> {
        parse(self.text())
    }
}

impl FromRequest for Verified {
    type Error = ParamError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let secret = req.app_data::<web::Data<SharedSecret>>().cloned();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let secret = secret.expect("every service registers its SharedSecret as app data");
            let raw = body.await.map_err(|e| ParamError::Body(e.to_string()))?;
            let text = std::str::from_utf8(&raw).map_err(|_| ParamError::Bad("body is not UTF-8".into()))?;
            protocol::service::verify_body(secret.0.expose_secret().as_bytes(), text)?;
            if !text.trim_start().starts_with('{') {
                return Err(ParamError::Bad("body is not a JSON object".into()));
            }
            Ok(Verified(raw))
        })
    }
}

/// A verified body deserialized into the protocol type `T` (unknown members, `signature` included, are ignored).
pub struct Signed<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Signed<T> {
    type Error = ParamError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let verified = Verified::from_request(req, payload);
        Box::pin(async move { verified.await?.parse().map(Signed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::service::{TakeAction, UpdateClient};

    #[test]
    fn missing_members_are_the_original_message() {
        let e = parse::<UpdateClient>(r#"{"appId":1,"agentId":"a","server":"s","timestamp":1}"#).err().unwrap();
        assert!(matches!(&e, ParamError::Missing(name) if name == "clientId"), "{e:?}");
        assert_eq!(e.to_string(), "缺少参数");
        let e = parse::<UpdateClient>(r#"{"appId":1,"agentId":"a","clientId":"c","server":"s","timestamp":"x"}"#).err().unwrap();
        assert!(matches!(e, ParamError::Bad(_)), "{e:?}");
        let ok = parse::<UpdateClient>(r#"{"appId":"1","agentId":7,"clientId":"c","server":"s","timestamp":"12","signature":"x"}"#).unwrap();
        assert_eq!((ok.agent_id.as_str(), ok.timestamp), ("7", 12));
        let e = parse::<TakeAction>(r#"{"appId":1,"agentId":"a","pid":1,"command":"heapdump"}"#).err().unwrap();
        assert!(matches!(&e, ParamError::Missing(name) if name == "options"), "{e:?}");
    }
}
