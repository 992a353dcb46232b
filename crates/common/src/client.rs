//! The signed HTTP client the services use to call each other (`/xtransit/*`, `/xprofiler/*`, `/xapi/*`).

use std::time::Duration;

use protocol::service::{sign_body, Reply};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    secret: SecretString,
    default_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{url}: {source}")]
    Transport { url: String, source: reqwest::Error },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: reply is not the expected JSON: {source}")]
    Decode { url: String, source: serde_json::Error },
}

impl CallError {
    /// True when the peer could not be reached or answered with a server error: worth retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Transport { .. } => true,
            CallError::Status { status, .. } => *status >= 500 || *status == 429,
            CallError::Decode { .. } => false,
        }
    }
}

impl ServiceClient {
    pub fn new(secret: SecretString, default_timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("a client with a default TLS config always builds");
        ServiceClient { http, secret, default_timeout }
    }

    /// POSTs `body` signed with the shared secret to `base` + `path` and decodes the reply envelope.
    /// `base` may lack a scheme (`"10.0.0.5:9190"`, as the original stores ws-servers): `http://` is assumed.
    pub async fn call<B: Serialize, R: DeserializeOwned>(&self, base: &str, path: &str, body: &B, timeout: Option<Duration>) -> Result<Reply<R>, CallError> {
        let signed = sign_body(self.secret.expose_secret().as_bytes(), body);
        self.post_signed(base, path, signed, timeout).await
    }

    /// POSTs an already signed body.
    pub async fn post_signed<R: DeserializeOwned>(&self, base: &str, path: &str, signed: String, timeout: Option<Duration>) -> Result<Reply<R>, CallError> {
        let url = url(base, path);
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(signed)
            .timeout(timeout.unwrap_or(self.default_timeout))
            .send()
            .await
            .map_err(|source| CallError::Transport { url: url.clone(), source })?;
        let status = response.status();
        if !status.is_success() {
            return Err(CallError::Status { url, status: status.as_u16() });
        }
        let bytes = response.bytes().await.map_err(|source| CallError::Transport { url: url.clone(), source })?;
        serde_json::from_slice(&bytes).map_err(|source| CallError::Decode { url, source })
    }

    /// Signs an already serialized JSON object (the signature becomes its last member).
    pub fn sign_text(&self, object_text: &str) -> String {
        protocol::service::sign_text(self.secret.expose_secret().as_bytes(), object_text)
    }

    pub fn secret(&self) -> &SecretString {
        &self.secret
    }
}

pub fn url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    match base.starts_with("http://") || base.starts_with("https://") {
        true => format!("{base}{path}"),
        false => format!("http://{base}{path}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bare_addresses_get_a_scheme() {
        assert_eq!(super::url("10.0.0.5:9190", "/xapi/shutdown"), "http://10.0.0.5:9190/xapi/shutdown");
        assert_eq!(super::url("https://m/", "/x"), "https://m/x");
    }
}
