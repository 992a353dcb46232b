//! The alarm engine, off the request path. Ingestion hands each stored log to [`Alarms::submit`] (a bounded
//! queue, never waiting: a full queue drops the log's evaluation and counts it). One task evaluates the app's
//! cached rules against the log's contexts; what fires goes to a pool of delivery workers, which record the
//! history row, then debounce, cap and send each channel with retries.
//!
//! Debounce (per app, rule, agent and channel, the original's keys): the first alarm takes the window
//! (`SET NX EX`) and is sent with whatever was held; alarms inside the window are held in the list and the list is
//! registered in a sorted set by the window's end, so [`Engine::flush_once`] sends them as one summary when no later
//! alarm comes (the original lost them). Several managers share the keys: the window flag is taken by one of
//! them, and a message key (`SET NX`) makes sure each summary is sent once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Local, TimeZone};
use common::redis::RedisPool;
use common::retry::Backoff;
use common::settings::AlarmSettings;
use deadpool_redis::redis::{self, Script};
use protocol::logs::AgentLog;
use protocol::service::CommandTarget;
use protocol::{AgentId, AppId, ExecCommand};
use sha2::{Digest, Sha256};
use store::console_db::{contacts, files};
use store::keys::Keys;
use tokio::sync::{mpsc, Mutex};

use crate::clients::alarm_rules::{AppRules, Rule, RuleCache};
use crate::clients::audit::Auditor;
use crate::clients::notify::{Notifier, SendError};
use crate::clients::registry::AgentRegistry;
use crate::clients::relay::Relay;
use crate::domain::alarm::{self as domain, Held, Notice, Subject};
use crate::error::ManagerError;
use crate::stats::Stats;

/// Takes a debounce list whole (one key: fine on Redis Cluster).
const DRAIN: &str = "local v = redis.call('LRANGE', KEYS[1], 0, -1) redis.call('DEL', KEYS[1]) return v";
/// Logs evaluated at the same time.
const EVALUATORS: usize = 4;
/// Delivery workers (each sends one alarm's channels at a time).
const WORKERS: usize = 8;
/// Alarms waiting for a delivery worker.
const DELIVERY_QUEUE: usize = 1000;
/// Offline alarms are raised for heartbeats that stopped at most this long ago (not for entries left from
/// long before the manager started).
const OFFLINE_HORIZON_MS: i64 = 24 * 3600 * 1000;
const OFFLINE_KEY_SECS: u64 = 7 * 24 * 3600;
/// How long an automatic CPU, heap or GC profile samples (the console's actions default to 3 minutes; an alarm
/// wants its profile sooner).
const ACTION_PROFILING_MS: u64 = 60_000;
/// The agent answers an action within seconds (the profile is written after).
const ACTION_TIMEOUT_MS: u64 = 15_000;
/// The "System" user the original records automatic rows under (the console shows it by that name).
const SYSTEM_USER: u64 = 999_999;

/// What the engine evaluates. Nearly every event is a `Log` (one per agent log); boxing it to shrink the rare
/// `Offline` would cost an allocation per log.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    Log { app: u64, agent: String, log: AgentLog },
    Offline { app: u64, agent: String, client: String },
}

/// The ingestion side's handle.
#[derive(Clone)]
pub struct Alarms {
    tx: mpsc::Sender<Event>,
    stats: Arc<Stats>,
}

impl Alarms {
    /// Queues an event for evaluation; never waits.
    pub fn submit(&self, event: Event) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(event) {
            self.stats.alarm_events_dropped.inc();
        }
    }
}

/// One rule that fired on one context.
#[derive(Debug, Clone)]
pub struct Firing {
    pub rule: Arc<Rule>,
    pub app_name: String,
    pub agent: String,
    pub pid: Option<i64>,
    pub message: String,
    pub at_ms: i64,
}

#[derive(Clone)]
pub struct Engine {
    pub rules: RuleCache,
    notifier: Notifier,
    console_db: mysql_async::Pool,
    logs_db: mysql_async::Pool,
    redis: RedisPool,
    keys: Keys,
    settings: AlarmSettings,
    stats: Arc<Stats>,
    deliveries: mpsc::Sender<Firing>,
    waiting: Arc<Mutex<mpsc::Receiver<Firing>>>,
    relay: Relay,
    auditor: Option<Auditor>,
}

impl Engine {
    pub fn new(
        settings: &AlarmSettings,
        console_db: mysql_async::Pool,
        logs_db: mysql_async::Pool,
        redis: RedisPool,
        relay: Relay,
        auditor: Option<Auditor>,
        stats: Arc<Stats>,
    ) -> anyhow::Result<Engine> {
        let rules = RuleCache::new(
            console_db.clone(),
            redis.clone(),
            Duration::from_secs(settings.rules_check_secs),
            Duration::from_secs(settings.rules_max_age_secs),
            stats.clone(),
        );
        let (deliveries, waiting) = mpsc::channel(DELIVERY_QUEUE);
        Ok(Engine {
            rules,
            notifier: Notifier::new(settings)?,
            console_db,
            logs_db,
            keys: Keys::new(redis.prefix()),
            redis,
            settings: settings.clone(),
            stats,
            deliveries,
            waiting: Arc::new(Mutex::new(waiting)),
            relay,
            auditor,
        })
    }

    /// Starts the evaluation task and the delivery workers; the handle ingestion submits to.
    pub fn start(&self) -> Alarms {
        let (tx, mut rx) = mpsc::channel::<Event>(self.settings.queue.max(1));
        let engine = self.clone();
        tokio::spawn(async move {
            // Up to EVALUATORS logs are evaluated at once (each on the blocking pool); the queue waits meanwhile.
            let permits = Arc::new(tokio::sync::Semaphore::new(EVALUATORS));
            while let Some(event) = rx.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let engine = engine.clone();
                tokio::spawn(async move {
                    if let Err(e) = engine.evaluate(event).await {
                        tracing::warn!(error = %e, "alarm evaluation failed");
                    }
                    drop(permit);
                });
            }
        });
        for _ in 0..WORKERS {
            let engine = self.clone();
            tokio::spawn(async move {
                loop {
                    let next = engine.waiting.lock().await.recv().await;
                    let Some(firing) = next else { break };
                    engine.deliver(firing).await;
                }
            });
        }
        Alarms { tx, stats: self.stats.clone() }
    }

    /// The background schedules: flushing held messages, and finding agents whose heartbeat stopped.
    pub async fn schedule(self, alarms: Alarms, registry: AgentRegistry) {
        let mut flush = tokio::time::interval(Duration::from_secs(self.settings.flush_interval_secs));
        let mut offline = tokio::time::interval(Duration::from_secs(self.settings.offline_check_secs));
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    if let Err(e) = self.flush_once(now_ms()).await {
                        tracing::warn!(error = %e, "alarm flush failed");
                    }
                }
                _ = offline.tick() => {
                    if let Err(e) = offline_once(&registry, &alarms, now_ms()).await {
                        tracing::warn!(error = %e, "offline scan failed");
                    }
                }
            }
        }
    }

    async fn evaluate(&self, event: Event) -> Result<(), ManagerError> {
        let (app, subjects) = match event {
            Event::Log { app, agent, log: AgentLog::Package(packages) } => {
                // Audited whether or not the app has rules: the console shows the risk figures too.
                let Some(auditor) = &self.auditor else { return Ok(()) };
                let scan_time = Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
                let mut subjects = Vec::new();
                for pkg in &packages.pkgs {
                    if let Some(serde_json::Value::Object(risk)) = auditor.audit(&app.to_string(), &agent, pkg, &scan_time).await? {
                        subjects.push(domain::audit_subject(app, &agent, &risk));
                    }
                }
                (app, subjects)
            }
            Event::Log { app, agent, log } => {
                let rules = self.rules.rules(app, Instant::now()).await?;
                if rules.rules.is_empty() {
                    return Ok(());
                }
                // Contexts and rules are CPU work: on the blocking pool, so the async workers keep serving
                // ingestion (with 200 rules evaluated on them, the ingestion benchmark's lag p99 rose from 0.25 to 5 s).
                let at_ms = now_ms();
                let evaluated = tokio::task::spawn_blocking(move || {
                    let subjects = match &log {
                        AgentLog::System(s) => domain::system_subjects(app, &agent, s),
                        AgentLog::Xprofiler(x) => domain::xprofiler_subjects(app, &agent, x),
                        AgentLog::Error(e) => domain::error_subjects(app, &agent, e),
                        AgentLog::CoreFiles(c) => domain::core_subject(app, &agent, c).into_iter().collect(),
                        AgentLog::Package(_) | AgentLog::Other(_) => Vec::new(),
                    };
                    judge(&rules, &subjects, at_ms)
                })
                .await;
                match evaluated {
                    Ok(firings) => self.queue(firings),
                    Err(e) => tracing::error!(app_id = app, error = %e, "alarm evaluation panicked"),
                }
                return Ok(());
            }
            Event::Offline { app, agent, client } => {
                let key = self.keys.agent_offline(&app.to_string(), &agent, &client);
                let mut conn = self.redis.get().await?;
                let first: Option<String> = redis::cmd("SET").arg(&key).arg(1).arg("NX").arg("EX").arg(OFFLINE_KEY_SECS).query_async(&mut conn).await?;
                if first.is_none() {
                    return Ok(());
                }
                tracing::info!(app_id = app, agent_id = %agent, client_id = %client, "agent offline");
                (app, vec![domain::offline_subject(app, &agent, &client)])
            }
        };
        self.fire(app, &subjects).await
    }

    /// Evaluates the app's rules on each subject and queues what fires for delivery (the rare events: offline,
    /// audits).
    pub async fn fire(&self, app: u64, subjects: &[Subject]) -> Result<(), ManagerError> {
        if subjects.is_empty() {
            return Ok(());
        }
        let rules = self.rules.rules(app, Instant::now()).await?;
        self.queue(judge(&rules, subjects, now_ms()));
        Ok(())
    }

    fn queue(&self, firings: Vec<Firing>) {
        for firing in firings {
            self.stats.alarms_fired.inc();
            if self.deliveries.try_send(firing).is_err() {
                self.stats.alarm_events_dropped.inc();
            }
        }
    }

    /// The automatic action (which adds its file to the message), the history row, then every channel of the
    /// rule's push level.
    async fn deliver(&self, mut firing: Firing) {
        if let (Some(action), Some(pid)) = (firing.rule.action.clone(), firing.pid) {
            if let Some(note) = self.take_action(&firing, &action, pid).await {
                firing.message = format!("{} {note}", firing.message);
            }
        }
        let rule = &firing.rule;
        let day = Local::now().format("%d").to_string().parse().unwrap_or(1);
        let text = domain::history_text(&firing.message);
        if let Err(e) = store::logs_db::alarm::insert(&self.logs_db, day, rule.id, &firing.agent, &text, firing.pid).await {
            self.stats.alarm_history_failed.inc();
            tracing::warn!(strategy_id = rule.id, error = %e, "alarm history not recorded");
        }
        for channel in channels(rule) {
            // Mail without a server or without contacts uses up neither the window nor the daily count (the
            // original used up both).
            if channel == "mailer" && !(self.notifier.mail_configured() && self.has_contacts(rule.id).await) {
                continue;
            }
            let held = Held { at_ms: firing.at_ms, message: firing.message.clone(), pid: firing.pid };
            match self.offer(rule.app, rule.id, &firing.agent, channel, held).await {
                Ok(Some(batch)) => self.send(rule, &firing.app_name, &firing.agent, channel, batch).await,
                Ok(None) => {
                    self.stats.alarms_held.inc();
                }
                Err(e) => tracing::warn!(strategy_id = rule.id, channel, error = %e, "alarm debounce failed"),
            }
        }
    }

    async fn has_contacts(&self, strategy: u64) -> bool {
        match contacts::mails_of_strategy(&self.console_db, strategy).await {
            Ok(mails) => !mails.is_empty(),
            Err(e) => {
                tracing::warn!(strategy_id = strategy, error = %e, "alarm contacts unreadable");
                false
            }
        }
    }

    /// Takes the rule's profile of the process, at most once per `alarm.action_interval_secs` per process and rule,
    /// and records the file as the console records actions (a `files` row at status 0, by the System user). The
    /// note for the message, or None when nothing was taken.
    async fn take_action(&self, firing: &Firing, action: &str, pid: i64) -> Option<String> {
        let rule = &firing.rule;
        let (command, options) = match action {
            "cpuprofile" => ("start_cpu_profiling", serde_json::json!({"profiling_time": ACTION_PROFILING_MS})),
            "heapprofile" => ("start_heap_profiling", serde_json::json!({"profiling_time": ACTION_PROFILING_MS})),
            "gcprofile" => ("start_gc_profiling", serde_json::json!({"profiling_time": ACTION_PROFILING_MS})),
            "heapsnapshot" => ("heapdump", serde_json::json!({})),
            "diag" => ("diag_report", serde_json::json!({})),
            _ => return None,
        };
        let key = self.keys.alarm_action(&rule.app.to_string(), &firing.agent, pid, rule.id);
        let admitted: Result<Option<String>, ManagerError> = async {
            let mut conn = self.redis.get().await?;
            let interval = self.settings.action_interval_secs.max(1);
            Ok(redis::cmd("SET").arg(&key).arg(1).arg("NX").arg("EX").arg(interval).query_async(&mut conn).await?)
        }
        .await;
        match admitted {
            Ok(Some(_)) => {}
            Ok(None) => {
                self.stats.alarm_actions_limited.inc();
                return None;
            }
            Err(e) => {
                tracing::warn!(strategy_id = rule.id, error = %e, "alarm action skipped: redis unavailable");
                return None;
            }
        }
        let target = CommandTarget { app_id: AppId::from(rule.app), agent_id: AgentId::new(firing.agent.clone()), expired_time: Some(ACTION_TIMEOUT_MS) };
        let failed = |why: String| {
            self.stats.alarm_actions_failed.inc();
            tracing::warn!(strategy_id = rule.id, agent_id = %firing.agent, pid, action, error = %why, "alarm action failed");
            None
        };
        let cmd = match ExecCommand::xprofctl(&pid.to_string(), command, &options) {
            Ok(cmd) => cmd,
            Err(e) => return failed(e.to_string()),
        };
        let answer = match self.relay.exec(&target, cmd).await {
            Ok(answer) => answer,
            Err(e) => return failed(e.to_string()),
        };
        let stdout = match (answer["ok"].as_bool(), answer["data"]["stdout"].as_str()) {
            (Some(true), Some(stdout)) => stdout.to_owned(),
            _ => return failed(answer["message"].as_str().unwrap_or("the agent answered no output").to_owned()),
        };
        let parsed: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_default();
        let Some(path) = parsed["filepath"].as_str().filter(|p| !p.is_empty()) else {
            return failed(format!("the agent named no file: {:.200}", stdout));
        };
        if let Err(e) = files::insert_action(&self.console_db, rule.app, &firing.agent, action, path, SYSTEM_USER).await {
            return failed(format!("file not recorded: {e}"));
        }
        self.stats.alarm_actions.inc();
        tracing::info!(strategy_id = rule.id, agent_id = %firing.agent, pid, action, file = path, "alarm action taken");
        let files_page = match self.settings.console_public_url.trim_end_matches('/') {
            "" => String::new(),
            console => format!(" {console}/app/{}/file", rule.app),
        };
        Some(format!("[{action}: {path}{files_page}]"))
    }

    /// Opens the window and gives the batch to send now, or holds the message (None).
    async fn offer(&self, app: u64, strategy: u64, agent: &str, channel: &str, held: Held) -> Result<Option<Vec<Held>>, ManagerError> {
        let app_text = app.to_string();
        let flag = self.keys.debounce_flag(&app_text, strategy, agent, channel);
        let list = self.keys.debounce_list(&app_text, strategy, agent, channel);
        let mut conn = self.redis.get().await?;
        let window = self.settings.debounce_secs;
        let opened: Option<String> = redis::cmd("SET").arg(&flag).arg("true").arg("NX").arg("EX").arg(window).query_async(&mut conn).await?;
        if opened.is_some() {
            let raw: Vec<String> = Script::new(DRAIN).key(&list).invoke_async(&mut conn).await?;
            let mut batch: Vec<Held> = raw.iter().filter_map(|r| serde_json::from_str(r).ok()).collect();
            batch.push(held);
            batch.sort_by_key(|h| h.at_ms);
            return Ok(Some(batch));
        }
        let item = serde_json::to_string(&held).expect("a struct of a number and a string serializes");
        let ttl_ms: i64 = redis::cmd("PTTL").arg(&flag).query_async(&mut conn).await?;
        redis::pipe().cmd("RPUSH").arg(&list).arg(item).ignore().cmd("EXPIRE").arg(&list).arg(window * 3 + 60).ignore().query_async::<()>(&mut conn).await?;
        let member = pending_member(app, strategy, agent, channel);
        redis::cmd("ZADD").arg(self.keys.debounce_pending()).arg(now_ms() + ttl_ms.max(0)).arg(member).query_async::<()>(&mut conn).await?;
        Ok(None)
    }

    /// Sends the held messages of every window that ended by `now_ms` and saw no later alarm; the count sent.
    pub async fn flush_once(&self, now_ms: i64) -> Result<usize, ManagerError> {
        let pending_key = self.keys.debounce_pending();
        let mut conn = self.redis.get().await?;
        let due: Vec<String> =
            redis::cmd("ZRANGEBYSCORE").arg(&pending_key).arg("-inf").arg(now_ms).arg("LIMIT").arg(0).arg(100).query_async(&mut conn).await?;
        let mut sent = 0;
        for member in due {
            let Ok((app, strategy, agent, channel)) = serde_json::from_str::<(u64, u64, String, String)>(&member) else {
                redis::cmd("ZREM").arg(&pending_key).arg(&member).query_async::<()>(&mut conn).await?;
                continue;
            };
            let app_text = app.to_string();
            let flag = self.keys.debounce_flag(&app_text, strategy, &agent, &channel);
            let opened: Option<String> =
                redis::cmd("SET").arg(&flag).arg("true").arg("NX").arg("EX").arg(self.settings.debounce_secs).query_async(&mut conn).await?;
            if opened.is_none() {
                // A later alarm opened a new window (and took the list): look again when that one ends.
                let ttl_ms: i64 = redis::cmd("PTTL").arg(&flag).query_async(&mut conn).await?;
                redis::cmd("ZADD").arg(&pending_key).arg(now_ms + ttl_ms.max(1000)).arg(&member).query_async::<()>(&mut conn).await?;
                continue;
            }
            redis::cmd("ZREM").arg(&pending_key).arg(&member).query_async::<()>(&mut conn).await?;
            let list = self.keys.debounce_list(&app_text, strategy, &agent, &channel);
            let raw: Vec<String> = Script::new(DRAIN).key(&list).invoke_async(&mut conn).await?;
            let mut batch: Vec<Held> = raw.iter().filter_map(|r| serde_json::from_str(r).ok()).collect();
            if batch.is_empty() {
                redis::cmd("DEL").arg(&flag).query_async::<()>(&mut conn).await?;
                continue;
            }
            batch.sort_by_key(|h| h.at_ms);
            let rules = self.rules.rules(app, Instant::now()).await?;
            let Some(rule) = rules.by_id(strategy) else { continue };
            self.send(rule, &rules.name, &agent, channel_name(&channel), batch).await;
            sent += 1;
        }
        Ok(sent)
    }

    /// Caps, de-duplicates across managers, and sends one batch on one channel, with retries.
    async fn send(&self, rule: &Rule, app_name: &str, agent: &str, channel: &'static str, batch: Vec<Held>) {
        let pid = batch.last().and_then(|h| h.pid);
        match self.admit(rule, agent, channel, &batch).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(strategy_id = rule.id, channel, error = %e, "alarm not sent: redis unavailable");
                return;
            }
        }
        let links = domain::links(&self.settings.console_public_url, rule.app, &rule.context, &rule.expression_text, agent, pid);
        let times = batch.iter().map(|h| local_time(h.at_ms)).collect();
        let notice = Notice {
            app: rule.app,
            app_name: app_name.to_owned(),
            strategy: rule.id,
            context: rule.context.clone(),
            agent: agent.to_owned(),
            pid,
            alarms: batch,
            links,
            times,
        };
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30), self.settings.send_retries);
        loop {
            let outcome = self.send_once(rule, channel, &notice).await;
            match outcome {
                Ok(()) => {
                    self.stats.notification_sent(channel);
                    return;
                }
                Err(e) if e.is_permanent() || !backoff.can_retry() => {
                    self.stats.notification_failed(channel);
                    tracing::warn!(strategy_id = rule.id, app_id = rule.app, channel, error = %e, "alarm notification failed");
                    return;
                }
                Err(e) => {
                    tracing::info!(strategy_id = rule.id, channel, error = %e, "alarm notification failed, retrying");
                    backoff.wait().await;
                }
            }
        }
    }

    /// The daily cap, then the message key that only one manager gets.
    async fn admit(&self, rule: &Rule, agent: &str, channel: &str, batch: &[Held]) -> Result<bool, ManagerError> {
        let mut conn = self.redis.get().await?;
        let limit = match channel {
            "mailer" => self.settings.mail_daily_limit,
            _ => self.settings.webhook_daily_limit,
        };
        if limit > 0 {
            let now = Local::now();
            let key = self.keys.message_limit(&now.format("%Y%m%d").to_string(), &rule.app.to_string(), rule.id, channel);
            let count: u64 = redis::cmd("INCR").arg(&key).query_async(&mut conn).await?;
            if count == 1 {
                let midnight = (now.date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0).and_then(|t| Local.from_local_datetime(&t).earliest());
                let secs = midnight.map(|m| (m - now).num_seconds()).unwrap_or(86_400).max(1) + 60;
                redis::cmd("EXPIRE").arg(&key).arg(secs).query_async::<()>(&mut conn).await?;
            }
            if count > limit {
                self.stats.alarms_capped.inc();
                return Ok(false);
            }
        }
        let first = batch.first().map(|h| h.at_ms).unwrap_or_default();
        let last = batch.last().map(|h| h.at_ms).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(format!("{}\n{}\n{agent}\n{channel}\n{first}\n{last}\n{}", rule.app, rule.id, batch.len())));
        let fresh: Option<String> = redis::cmd("SET").arg(self.keys.alarm_sent(&digest)).arg(1).arg("NX").arg("EX").arg(86_400).query_async(&mut conn).await?;
        Ok(fresh.is_some())
    }

    async fn send_once(&self, rule: &Rule, channel: &str, notice: &Notice) -> Result<(), SendError> {
        let (address, secret) = match &rule.webhook {
            Some((_, address, secret)) => (address.as_str(), secret.as_str()),
            None => ("", ""),
        };
        let now = now_ms();
        match channel {
            "mailer" => {
                let to = contacts::mails_of_strategy(&self.console_db, rule.id).await.map_err(|e| SendError::Mail(format!("contacts unreadable: {e}")))?;
                if to.is_empty() {
                    return Ok(());
                }
                self.notifier.mail(&to, notice.plain(), notice.html()).await
            }
            "dingtalk" => self.notifier.post(&domain::dingtalk_url(address, secret, now), &domain::dingtalk_body(notice), &[]).await,
            "qywx" => self.notifier.post(address, &domain::wecom_body(notice), &[]).await,
            "feishu" => self.notifier.post(address, &domain::feishu_body(notice, secret, now / 1000), &[]).await,
            "slack" => self.notifier.post(address, &domain::slack_body(notice), &[]).await,
            _ => {
                let body = domain::webhook_body(notice).to_string();
                let secs = now / 1000;
                let mut headers = vec![("x-easy-monitor-timestamp", secs.to_string())];
                if !secret.is_empty() {
                    headers.push(("x-easy-monitor-signature", domain::webhook_signature(secret, secs, &body)));
                }
                self.notifier.post_raw(address, body, &headers).await
            }
        }
    }
}

/// The rules that fire on each subject, with their messages.
fn judge(rules: &AppRules, subjects: &[Subject], at_ms: i64) -> Vec<Firing> {
    let mut out = Vec::new();
    for subject in subjects {
        for rule in rules.of_context(subject.context) {
            if rule.expression.matches(&subject.vars) {
                out.push(Firing {
                    rule: rule.clone(),
                    app_name: rules.name.clone(),
                    agent: subject.agent.clone(),
                    pid: subject.pid,
                    message: rule.content.render(&subject.vars),
                    at_ms,
                });
            }
        }
    }
    out
}

/// Raises `agentOffline` for registered agents whose heartbeat stopped (their socket closed without a
/// `remove_client`, or their ws-server died); each connection once (the engine's offline key).
pub async fn offline_once(registry: &AgentRegistry, alarms: &Alarms, now_ms: i64) -> Result<usize, ManagerError> {
    let stale = registry.stale_entries(now_ms, OFFLINE_HORIZON_MS).await?;
    let n = stale.len();
    for (app, agent, entry) in stale {
        let Ok(app) = app.parse::<u64>() else { continue };
        alarms.submit(Event::Offline { app, agent, client: entry.client_id.as_str().to_owned() });
    }
    Ok(n)
}

/// The channels of a rule's push level: p1 and p2 the webhook, p3 mail and the webhook, p4 none (history only).
fn channels(rule: &Rule) -> Vec<&'static str> {
    let mut out = Vec::new();
    if rule.push == "p3" {
        out.push("mailer");
    }
    if matches!(rule.push.as_str(), "p1" | "p2" | "p3") {
        if let Some((kind, _, _)) = &rule.webhook {
            out.push(channel_name(kind));
        }
    }
    out
}

/// The static name of a channel (unknown webhook kinds are the generic webhook).
fn channel_name(kind: &str) -> &'static str {
    match kind {
        "mailer" => "mailer",
        "dingtalk" => "dingtalk",
        "qywx" => "qywx",
        "feishu" => "feishu",
        "slack" => "slack",
        _ => "webhook",
    }
}

fn pending_member(app: u64, strategy: u64, agent: &str, channel: &str) -> String {
    serde_json::json!([app, strategy, agent, channel]).to_string()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn local_time(ms: i64) -> String {
    match Local.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => ms.to_string(),
    }
}
