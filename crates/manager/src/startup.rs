//! Builds the manager: pools, schema, its parts, background jobs, and the HTTP server on its listener.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use common::client::ServiceClient;
use common::redis::RedisPool;
use common::Settings;
use store::keys::Keys;

use crate::clients::audit::Auditor;
use crate::clients::logstore::{LogLimits, LogStore};
use crate::clients::registry::AgentRegistry;
use crate::clients::relay::Relay;
use crate::clients::ws_server::WsServers;
use crate::ingest::Ingest;
use crate::jobs::alarms::Engine;
use crate::jobs::retention::Retention;
use crate::jobs::writer::MetricWriter;
use crate::state::AppState;
use crate::stats::Stats;

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let m = &settings.manager;
        let console_db = common::mysql::pool(&settings.console_mysql);
        let logs_db = common::mysql::pool(&settings.logs_mysql);
        if m.create_schema {
            // The manager writes `coredumps` and `files` too, so it makes sure the console's tables exist as well.
            common::mysql::ensure_database(&settings.console_mysql).await?;
            common::mysql::ensure_database(&settings.logs_mysql).await?;
            store::schema::ensure_console(&console_db).await?;
            store::schema::ensure_logs_tables(&logs_db).await?;
            // The indexes that only speed the console's reads up take minutes on full day tables: behind the start.
            let (pool, process_trend) = (logs_db.clone(), m.process_trend_indexes);
            tokio::spawn(async move {
                if let Err(e) = store::schema::add_read_indexes(&pool, process_trend).await {
                    tracing::warn!(error = %e, "could not check the day tables' indexes, the trend charts stay slower");
                }
            });
        }
        let redis = RedisPool::new(&settings.redis)?;
        let stats = Arc::new(Stats::default());
        let client = ServiceClient::new(settings.shared.secret.clone(), Duration::from_millis(settings.shared.http_timeout_ms));
        let ws = WsServers::new(client);
        let registry = AgentRegistry::new(redis.clone(), ws.clone(), m.agent_offline_secs);
        let logs = LogStore::new(
            redis.clone(),
            LogLimits { error_log_limit: m.error_log_limit, error_log_days: m.error_log_days.max(0) as u64, package_days: m.package_days },
        );
        let relay = Relay::new(registry.clone(), ws, stats.clone(), m.command_timeout_ms);
        let auditor = Auditor::new(&m.audit_registry_url, m.audit_cache_secs, Duration::from_millis(settings.shared.http_timeout_ms), redis.clone())?;
        let engine = Engine::new(&settings.alarm, console_db.clone(), logs_db.clone(), redis.clone(), relay.clone(), auditor, stats.clone())?;
        let alarms = engine.start();
        let ingest = Ingest {
            writer: MetricWriter::start(logs_db.clone(), 2, m.insert_batch_rows, stats.clone()),
            logs: logs.clone(),
            console_db: console_db.clone(),
            redis: redis.clone(),
            keys: Keys::new(redis.prefix()),
            stats: stats.clone(),
            alarms: alarms.clone(),
        };
        let state = AppState {
            engine,
            alarms,
            relay,
            retention: Retention { logs_db: logs_db.clone(), registry: registry.clone(), days: m.retention_days, hour: m.retention_hour },
            console_db,
            logs_db,
            redis,
            ingest,
            registry,
            logs,
            stats,
        };

        let listener = TcpListener::bind((m.host.as_str(), m.port))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        let secret = web::Data::new(common::signed::SharedSecret(settings.shared.secret.clone()));
        let max_body = m.max_body_bytes;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(common::RequestSpans::default())
                .app_data(data.clone())
                .app_data(secret.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .configure(crate::routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        tracing::info!(port, "manager listening");
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT (actix drains in-flight requests for up to 30 s), with the retention job beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let retention = tokio::spawn(self.state.retention.clone().schedule());
        let alarms = tokio::spawn(self.state.engine.clone().schedule(self.state.alarms.clone(), self.state.registry.clone()));
        let result = self.server.await;
        retention.abort();
        alarms.abort();
        result
    }

    /// For tests: serve in the background without the daily job and the alarm schedules (tests call
    /// `retention.run_once`, `engine.flush_once` and `jobs::alarms::offline_once` directly).
    pub fn spawn(self) -> (u16, AppState) {
        let Application { port, server, state } = self;
        tokio::spawn(server);
        (port, state)
    }
}
