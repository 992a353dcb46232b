//! `Signed`: the extractor for every route one service calls on another (`/xtransit/*`, `/xprofiler/*`, `/xapi/*`).
//! It reads the body, checks the shared-secret signature on the raw text, and gives typed access to the parameters
//! with the original's loose typing (ids and numbers may arrive as numbers or as strings).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use protocol::service::{Reply, SignError};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The shared secret, registered as app data by each service.
#[derive(Clone)]
pub struct SharedSecret(pub SecretString);

/// A caller mistake in a signed call. Rendered as the original does: HTTP 200, `{ok:false, message, code}`.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    #[error("{0}")]
    Signature(#[from] SignError),
    #[error("缺少参数")]
    Missing(&'static str),
    #[error("参数错误: {0}")]
    Bad(String),
    #[error("request body: {0}")]
    Body(String),
}

impl ResponseError for ParamError {
    fn status_code(&self) -> StatusCode {
        match self {
            ParamError::Body(_) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::OK,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            ParamError::Signature(_) => 401,
            ParamError::Missing(_) | ParamError::Bad(_) => 400,
            ParamError::Body(_) => 413,
        };
        match self {
            ParamError::Signature(e) => tracing::warn!(error = %e, "refused an unsigned or badly signed call"),
            ParamError::Body(e) => tracing::warn!(error = %e, "refused a request body"),
            ParamError::Missing(name) => tracing::debug!(param = name, "missing parameter"),
            ParamError::Bad(e) => tracing::debug!(error = %e, "bad parameter"),
        }
        HttpResponse::build(self.status_code()).json(Reply::<()>::fail(self.to_string(), Some(code.into())))
    }
}

/// A verified body. Parameters are parsed on first use; a route with a large body can deserialize the raw text
/// straight into its own type instead ([`Signed::typed`]).
pub struct Signed {
    raw: web::Bytes,
    params: std::cell::OnceCell<Map<String, Value>>,
}

impl FromRequest for Signed {
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
            // Parsed lazily: on the hot log route the handler deserializes the raw text into its own type.
            Ok(Signed { raw, params: std::cell::OnceCell::new() })
        })
    }
}

impl Signed {
    /// A part of a body whose signature was already checked (an item of `/xtransit/batch`).
    pub fn trusted(text: &str) -> Signed {
        Signed { raw: web::Bytes::copy_from_slice(text.as_bytes()), params: std::cell::OnceCell::new() }
    }

    fn text_body(&self) -> &str {
        // Checked to be UTF-8 when extracted.
        std::str::from_utf8(&self.raw).unwrap_or_default()
    }

    /// The parameters (the body without `signature`).
    pub fn params(&self) -> &Map<String, Value> {
        self.params.get_or_init(|| {
            let mut params: Map<String, Value> = serde_json::from_str(self.text_body()).unwrap_or_default();
            params.shift_remove("signature");
            params
        })
    }

    /// The whole body deserialized into `T` (unknown members, `signature` included, are ignored by `T`).
    pub fn typed<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, ParamError> {
        serde_json::from_str(self.text_body()).map_err(|e| ParamError::Bad(e.to_string()))
    }

    /// The original's `checkParams`: each name must be present (null counts as present).
    pub fn require(&self, names: &[&'static str]) -> Result<(), ParamError> {
        match names.iter().find(|n| !self.params().contains_key(**n)) {
            Some(name) => Err(ParamError::Missing(name)),
            None => Ok(()),
        }
    }

    /// Deserializes one parameter.
    pub fn get<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, ParamError> {
        let value = self.params().get(name).ok_or(ParamError::Missing(name))?;
        serde_json::from_value(value.clone()).map_err(|e| ParamError::Bad(format!("{name}: {e}")))
    }

    /// A parameter as text: strings as they are, numbers in their JSON form.
    pub fn text(&self, name: &'static str) -> Result<String, ParamError> {
        match self.params().get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(other) => Err(ParamError::Bad(format!("{name}: expected text, got {other}"))),
            None => Err(ParamError::Missing(name)),
        }
    }

    /// A non-negative integer sent as a number or a numeric string.
    pub fn uint(&self, name: &'static str) -> Result<u64, ParamError> {
        let text = self.text(name)?;
        text.trim().parse().map_err(|_| ParamError::Bad(format!("{name}: {text:?} is not a non-negative integer")))
    }

    pub fn opt_uint(&self, name: &'static str) -> Option<u64> {
        self.params().get(name).filter(|v| !v.is_null()).and_then(|_| self.uint(name).ok())
    }
}
