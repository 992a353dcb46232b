//! The alarm rules of each app, parsed once and cached: no SELECT per log. A cached app is re-checked every
//! `rules_check_secs` against the version the console bumps in Redis on every change (one GET), re-read when the
//! version moved, and re-read after `rules_max_age_secs` anyway (rules edited by an original console, which bumps
//! nothing). A rule whose expression or template does not parse is logged once and counted, and never fires.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::redis::RedisPool;
use deadpool_redis::redis;
use rules::{Expression, Template};
use store::console_db::{alarm_actions, apps, strategies};
use store::keys::Keys;

use crate::error::ManagerError;
use crate::stats::Stats;

/// One enabled rule, ready to evaluate.
#[derive(Debug)]
pub struct Rule {
    pub id: u64,
    pub app: u64,
    pub context: String,
    pub push: String,
    /// `(kind, address, secret)` when the rule pushes to a webhook.
    pub webhook: Option<(String, String, String)>,
    pub expression_text: String,
    pub expression: Expression,
    pub content: Template,
    /// The profile taken of the process that fired it (ours, `ezm_alarm_actions`).
    pub action: Option<String>,
}

/// An app's rules and its name (for the messages).
#[derive(Debug, Default)]
pub struct AppRules {
    pub name: String,
    pub rules: Vec<Arc<Rule>>,
}

impl AppRules {
    pub fn of_context<'a>(&'a self, context: &'a str) -> impl Iterator<Item = &'a Arc<Rule>> + 'a {
        self.rules.iter().filter(move |r| r.context == context)
    }

    pub fn by_id(&self, id: u64) -> Option<&Arc<Rule>> {
        self.rules.iter().find(|r| r.id == id)
    }
}

struct Entry {
    rules: Arc<AppRules>,
    version: Option<String>,
    loaded: Instant,
    checked: Instant,
}

#[derive(Clone)]
pub struct RuleCache {
    console_db: mysql_async::Pool,
    redis: RedisPool,
    keys: Keys,
    check_every: Duration,
    max_age: Duration,
    entries: Arc<Mutex<HashMap<u64, Entry>>>,
    /// `(rule id, expression, content)` already reported as invalid.
    reported: Arc<Mutex<HashSet<(u64, String, String)>>>,
    stats: Arc<Stats>,
}

impl RuleCache {
    pub fn new(console_db: mysql_async::Pool, redis: RedisPool, check_every: Duration, max_age: Duration, stats: Arc<Stats>) -> Self {
        let keys = Keys::new(redis.prefix());
        RuleCache { console_db, redis, keys, check_every, max_age, entries: Arc::default(), reported: Arc::default(), stats }
    }

    /// The app's rules, from the cache when it is fresh.
    pub async fn rules(&self, app: u64, now: Instant) -> Result<Arc<AppRules>, ManagerError> {
        let cached = {
            let entries = self.entries.lock().expect("the cache lock is never held across a panic");
            entries.get(&app).map(|e| (e.rules.clone(), e.version.clone(), now.duration_since(e.loaded), now.duration_since(e.checked)))
        };
        let version = match cached {
            Some((rules, _, _, checked)) if checked < self.check_every => return Ok(rules),
            Some((rules, version, age, _)) => {
                // Redis unavailable: the rules known are better than none (checked again at the next log).
                let current = match self.version(app).await {
                    Ok(current) => current,
                    Err(e) => {
                        tracing::debug!(app_id = app, error = %e, "alarm rules version unavailable, using the cached rules");
                        return Ok(rules);
                    }
                };
                if current == version && age < self.max_age {
                    if let Some(e) = self.entries.lock().expect("the cache lock is never held across a panic").get_mut(&app) {
                        e.checked = now;
                    }
                    return Ok(rules);
                }
                current
            }
            None => self.version(app).await?,
        };
        let rules = Arc::new(self.load(app).await?);
        let entry = Entry { rules: rules.clone(), version, loaded: now, checked: now };
        self.entries.lock().expect("the cache lock is never held across a panic").insert(app, entry);
        Ok(rules)
    }

    async fn version(&self, app: u64) -> Result<Option<String>, ManagerError> {
        let mut conn = self.redis.get().await?;
        Ok(redis::cmd("GET").arg(self.keys.alarm_rules_version(&app.to_string())).query_async(&mut conn).await?)
    }

    async fn load(&self, app: u64) -> Result<AppRules, ManagerError> {
        let stored = strategies::enabled_of_app(&self.console_db, app).await?;
        let name = apps::by_id(&self.console_db, app).await?.map(|a| a.name).unwrap_or_default();
        let mut actions = alarm_actions::of_app(&self.console_db, app).await?;
        let mut rules = Vec::with_capacity(stored.len());
        for s in stored {
            let parsed = Expression::parse(&s.expression)
                .map_err(|e| ("expression", e))
                .and_then(|expression| Template::parse(&s.content).map(|content| (expression, content)).map_err(|e| ("content", e)));
            match parsed {
                Ok((expression, content)) => rules.push(Arc::new(Rule {
                    id: s.id,
                    app,
                    context: s.context,
                    push: s.push,
                    webhook: s.webhook.then_some((s.wtype, s.waddress, s.wsign)),
                    expression_text: s.expression,
                    expression,
                    content,
                    action: actions.remove(&s.id),
                })),
                Err((member, error)) => {
                    let first =
                        self.reported.lock().expect("the set lock is never held across a panic").insert((s.id, s.expression.clone(), s.content.clone()));
                    if first {
                        self.stats.alarm_rules_invalid.inc();
                        tracing::warn!(app_id = app, strategy_id = s.id, member, error = %error, "alarm rule does not parse and never fires");
                    }
                }
            }
        }
        Ok(AppRules { name, rules })
    }
}
