//! Where alarm messages go: webhooks (DingTalk, WeCom, Feishu, Slack, a generic signed JSON POST) over HTTP, and
//! mail over SMTP. Webhook addresses are checked before every call: http or https only, and no loopback, private,
//! link-local or otherwise internal address unless `alarm.allow_private_webhooks` allows them. Nothing here logs a
//! webhook address's query (where robots carry their tokens) or a signing secret.

use std::net::IpAddr;
use std::time::Duration;

use common::settings::{AlarmSettings, SmtpTls};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reqwest::Url;
use secrecy::ExposeSecret;

use crate::domain::alarm::TITLE;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The address may never be called (scheme, internal address): retrying does not help.
    #[error("webhook address refused: {0}")]
    Refused(String),
    #[error("http: {0}")]
    Http(String),
    #[error("mail: {0}")]
    Mail(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Refused(_))
    }
}

#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    allow_private: bool,
    mail: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl Notifier {
    pub fn new(settings: &AlarmSettings) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(settings.send_timeout_ms);
        // No redirects: a webhook may not bounce the call to an address the check above would refuse.
        let http = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none()).build()?;
        let mail = match settings.smtp_host.trim() {
            "" => None,
            host => Some(smtp(settings, host, timeout)?),
        };
        Ok(Notifier { http, allow_private: settings.allow_private_webhooks, mail })
    }

    pub fn mail_configured(&self) -> bool {
        self.mail.is_some()
    }

    /// POSTs `body` as JSON to a checked address, with extra headers; any 2xx is success.
    pub async fn post(&self, address: &str, body: &serde_json::Value, headers: &[(&str, String)]) -> Result<(), SendError> {
        let url = check_address(address, self.allow_private).await?;
        let text = body.to_string();
        self.post_text(url, text, headers).await
    }

    /// POSTs an already serialized JSON body (the generic webhook signs these exact bytes).
    pub async fn post_raw(&self, address: &str, text: String, headers: &[(&str, String)]) -> Result<(), SendError> {
        let url = check_address(address, self.allow_private).await?;
        self.post_text(url, text, headers).await
    }

    async fn post_text(&self, url: Url, text: String, headers: &[(&str, String)]) -> Result<(), SendError> {
        let mut request = self.http.post(url).header("content-type", "application/json").body(text);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        // reqwest's error text names the URL: keep only the kind of failure (a robot's token is in its query).
        let reply = request.send().await.map_err(|e| SendError::Http(describe(&e)))?;
        match reply.status() {
            s if s.is_success() => Ok(()),
            s => Err(SendError::Http(format!("answered HTTP {}", s.as_u16()))),
        }
    }

    /// Mails the contacts (HTML with a plain-text alternative).
    pub async fn mail(&self, to: &[String], text: String, html: String) -> Result<(), SendError> {
        let Some((transport, from)) = &self.mail else { return Err(SendError::Mail("no SMTP server configured".into())) };
        let mut builder = Message::builder().from(from.clone()).subject(TITLE);
        for address in to {
            match address.parse::<Mailbox>() {
                Ok(mailbox) => builder = builder.to(mailbox),
                Err(_) => tracing::warn!(address = %address, "contact mail address is not valid, skipped"),
            }
        }
        let message = builder.multipart(MultiPart::alternative_plain_html(text, html)).map_err(|e| SendError::Mail(e.to_string()))?;
        transport.send(message).await.map_err(|e| SendError::Mail(e.to_string()))?;
        Ok(())
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_request() {
        "request failed"
    } else {
        "failed"
    };
    kind.to_owned()
}

fn smtp(settings: &AlarmSettings, host: &str, timeout: Duration) -> anyhow::Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)> {
    let mut builder = match settings.smtp_tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
    };
    // A relay whose certificate comes from the company's own CA: trust that CA too (the public roots stay).
    let ca_file = settings.smtp_tls_ca_file.trim();
    if !ca_file.is_empty() && settings.smtp_tls != SmtpTls::None {
        let pem = std::fs::read(ca_file).map_err(|e| anyhow::anyhow!("alarm.smtp_tls_ca_file {ca_file:?}: {e}"))?;
        let ca = Certificate::from_pem(&pem).map_err(|e| anyhow::anyhow!("alarm.smtp_tls_ca_file {ca_file:?} is not a PEM certificate: {e}"))?;
        let parameters = TlsParameters::builder(host.to_owned()).add_root_certificate(ca).build_rustls()?;
        builder = builder.tls(match settings.smtp_tls {
            SmtpTls::Tls => Tls::Wrapper(parameters),
            _ => Tls::Required(parameters),
        });
    }
    let mut builder = builder.port(settings.smtp_port).timeout(Some(timeout));
    if !settings.smtp_user.is_empty() {
        let password = settings.smtp_password.expose_secret().to_owned();
        builder = builder.credentials(Credentials::new(settings.smtp_user.clone(), password));
    }
    let from = match settings.smtp_from.trim() {
        "" => settings.smtp_user.trim(),
        from => from,
    };
    let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("alarm.smtp_from {from:?} is not a mail address: {e}"))?;
    Ok((builder.build(), from))
}

/// The address as a URL if it may be called: http or https with a host, and (unless `allow_private`) every
/// address the host resolves to is public.
pub async fn check_address(address: &str, allow_private: bool) -> Result<Url, SendError> {
    let url = Url::parse(address).map_err(|_| SendError::Refused("not a URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SendError::Refused(format!("scheme {} is not http or https", url.scheme())));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else { return Err(SendError::Refused("no host".into())) };
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port)).await.map_err(|_| SendError::Http(format!("host {host} does not resolve")))?.map(|a| a.ip()).collect(),
    };
    match addresses.iter().find(|ip| is_internal(ip)) {
        Some(ip) => Err(SendError::Refused(format!("{host} is an internal address ({ip})"))),
        None => Ok(url),
    }
}

/// Loopback, private, link-local, shared (CGNAT), unspecified, broadcast, documentation and unique-local
/// addresses, and IPv4 addresses mapped into IPv6.
pub fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(&IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn webhook_addresses_are_checked() {
        for refused in [
            "ftp://x.example/hook",
            "not a url",
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest",
            "http://192.168.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:8080/x",
            "http://100.64.0.1/",
        ] {
            assert!(check_address(refused, false).await.is_err(), "{refused}");
        }
        assert!(check_address("https://8.8.8.8/hook", false).await.is_ok());
        assert!(check_address("http://127.0.0.1:9/x", true).await.is_ok(), "allowed by the switch");
        assert!(check_address("file:///etc/passwd", true).await.is_err(), "the scheme is checked whatever the switch");
    }
}
