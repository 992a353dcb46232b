//! Builds the ws-server: registry, secret cache, forwarder, and the HTTP server on its listener.

use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use common::client::ServiceClient;
use common::Settings;

use crate::clients::forward::Forwarder;
use crate::clients::secrets::SecretCache;
use crate::domain::registry::Registry;
use crate::state::AppState;
use crate::stats::Stats;

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let ws = &settings.ws_server;
        let listener = TcpListener::bind((ws.host.as_str(), ws.port))?;
        let port = listener.local_addr()?.port();
        let advertise = match ws.advertise_address.trim() {
            "" => format!("{}:{port}", guess_ip(&ws.host)),
            given => given.to_owned(),
        };
        let client = ServiceClient::new(settings.shared.secret.clone(), Duration::from_millis(settings.shared.http_timeout_ms));
        let stats = Arc::new(Stats::default());
        let (stopping, shutdown) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_stop_signal().await;
            tracing::info!("stopping: closing agent sockets");
            let _ = stopping.send(true);
        });
        let state = AppState {
            registry: Arc::new(Registry::default()),
            secrets: Arc::new(SecretCache::new(client.clone(), ws.manager_base_url.clone(), Duration::from_secs(ws.app_secret_ttl_secs))),
            forwarder: Arc::new(Forwarder::new(
                client,
                ws.manager_base_url.clone(),
                ws.forward_concurrency,
                std::time::Duration::from_secs(ws.forward_max_wait_secs),
                ws.forward_batch,
                stats.clone(),
            )),
            stats,
            sessions: ws.into(),
            duplicate_agent_policy: ws.duplicate_agent_policy,
            advertise: advertise.clone(),
            manager: ws.manager_base_url.clone(),
            http: reqwest::Client::new(),
            shutdown,
        };
        let data = web::Data::new(state.clone());
        let secret = web::Data::new(common::signed::SharedSecret(settings.shared.secret.clone()));
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).app_data(secret.clone()).app_data(web::PayloadConfig::new(1024 * 1024)).configure(crate::routes::configure)
        })
        .listen(listener)?
        .max_connections(200_000)
        .backlog(4096)
        .shutdown_timeout(10)
        .run();
        tracing::info!(port, advertise = %advertise, "ws-server listening");
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// For tests: serve in the background.
    pub fn spawn(self) -> (u16, AppState) {
        let Application { port, server, state } = self;
        tokio::spawn(server);
        (port, state)
    }
}

/// SIGTERM or SIGINT (actix stops its server on the same signals; this lets sessions say goodbye first).
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}

/// The address the manager should use when none is configured: the bind address if it is specific, else this
/// host's outward-facing IPv4 (no packet is sent), else loopback.
fn guess_ip(bind: &str) -> IpAddr {
    if let Ok(ip) = bind.parse::<IpAddr>() {
        if !ip.is_unspecified() {
            return ip;
        }
    }
    let outward = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).and_then(|s| s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).map(|_| s)).and_then(|s| s.local_addr());
    match outward {
        Ok(addr) => addr.ip(),
        Err(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}
