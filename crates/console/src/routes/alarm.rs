//! Alarm rules (the original's "strategies") of an app: list with the last 24 hours' alarm counts, add, edit,
//! enable or disable, delete (with its contacts), the history of one rule over the retained days, and its contacts.
//! The rules are only stored here; the manager evaluates them and sends the alarms.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Local, SecondsFormat, TimeDelta, Utc};
use protocol::lenient;
use protocol::service::Reply;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::json;
use store::console_db::{alarm_actions, contacts, members, strategies, users};
use store::logs_db::alarm;

use crate::auth::{AppMember, StrategyAccess};
use crate::domain::alarm::{self as rules, RuleForm};
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// How far back a rule's history goes: the 7 days before now, which lie in the 8 day tables the manager keeps by
/// default (`manager.retention_days = 8`: today and the 7 days before). Older tables are emptied anyway.
pub const HISTORY_SPAN: TimeDelta = TimeDelta::days(7);
/// What the rule list counts (the original's "已触发告警 (24 h)").
pub const COUNT_SPAN: TimeDelta = TimeDelta::hours(24);
/// The front-end asks for 50 rows a page.
const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

/// The alarm rows of the `span` before `now`: the day tables they were inserted in and the bounds.
pub fn window(now: DateTime<Local>, span: TimeDelta) -> alarm::Window {
    let from = now - span;
    alarm::Window { days: rules::day_tables(from.date_naive(), now.date_naive()), from_ms: from.timestamp_millis(), until_ms: now.timestamp_millis() }
}

/// Tells the managers' alarm engines that the app's rules changed (they re-read them within
/// `alarm.rules_check_secs`). The rule is stored either way: without Redis the managers re-read within
/// `alarm.rules_max_age_secs`.
async fn rules_changed(state: &AppState, app: u64) {
    let key = state.keys.alarm_rules_version(&app.to_string());
    let bumped = match state.redis.get().await {
        Ok(mut conn) => deadpool_redis::redis::cmd("INCR").arg(&key).query_async::<()>(&mut conn).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = bumped {
        tracing::warn!(app_id = app, error = %error, "alarm rules version not bumped");
    }
}

fn done() -> Handled {
    Ok(HttpResponse::Ok().json(Reply::done()))
}

/// The rule members of the add and edit forms.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct RuleBody {
    #[serde(deserialize_with = "lenient::text")]
    context_type: String,
    #[serde(deserialize_with = "lenient::text")]
    push_type: String,
    #[serde(deserialize_with = "lenient::text")]
    custom_rule_expr: String,
    #[serde(deserialize_with = "lenient::text")]
    custom_rule_desc: String,
    #[serde(default, deserialize_with = "flag")]
    webhook_push: bool,
    #[serde(default)]
    webhook_type: Option<String>,
    #[serde(default)]
    webhook_address: Option<String>,
    #[serde(default)]
    webhook_sign: Option<String>,
    /// Ours: a profile the manager takes of the process that fired the rule ('' or absent: none).
    #[serde(default)]
    auto_action: Option<String>,
}

impl RuleBody {
    fn parse(&self) -> Result<rules::Rule, ConsoleError> {
        let form = RuleForm {
            context_type: &self.context_type,
            push_type: &self.push_type,
            custom_rule_expr: &self.custom_rule_expr,
            custom_rule_desc: &self.custom_rule_desc,
            webhook_push: self.webhook_push,
            webhook_type: self.webhook_type.as_deref().unwrap_or_default(),
            webhook_address: self.webhook_address.as_deref().unwrap_or_default(),
            webhook_sign: self.webhook_sign.as_deref().unwrap_or_default(),
            auto_action: self.auto_action.as_deref().unwrap_or_default(),
        };
        rules::parse_rule(&form).map_err(ConsoleError::bad)
    }
}

/// The stored form of a checked rule.
fn stored(rule: &rules::Rule) -> strategies::Rule<'_> {
    strategies::Rule {
        context: rule.context.as_str(),
        push: rule.push,
        expression: &rule.expression,
        content: &rule.content,
        webhook: rule.webhook.as_ref().map(|w| strategies::Webhook { kind: w.kind, address: &w.address, sign: &w.sign }),
    }
}

/// `webhookPush` as the front-end sends it (a boolean), or as a script might: 0/1, "true"/"false", "1"/"0", "",
/// null.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Number(u64),
        Text(String),
        Null(()),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Null(()) => Ok(false),
        Flag::Number(n) => Ok(n != 0),
        Flag::Text(t) => match t.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            other => Err(de::Error::custom(format!("webhookPush must be true or false, not {other:?}"))),
        },
    }
}

/// `GET /xapi/alarm_strategies`: the app's rules, newest first, each with its alarms of the last 24 hours.
pub async fn list(state: State, access: AppMember) -> Handled {
    let app = access.app;
    let list = strategies::of_app(&state.console_db, app.id).await?;
    let ids: Vec<u64> = list.iter().map(|s| s.id).collect();
    let counts = recent_counts(&state, app.id, &ids).await;
    let actions = alarm_actions::of_app(&state.console_db, app.id).await?;
    let list: Vec<_> = list
        .iter()
        .map(|s| {
            json!({
                "strategyId": s.id,
                "contextType": s.context,
                "pushType": s.push,
                "expression": s.expression,
                "alarmContent": s.content,
                "status": s.status,
                "webhookPush": s.webhook,
                "webhookType": s.wtype,
                "webhookAddress": s.waddress,
                "webhookSign": s.wsign,
                "alarmCount": counts.get(&s.id).copied().unwrap_or(0),
                "autoAction": actions.get(&s.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list}))))
}

/// The counts of the last 24 hours. The rules stay listed and editable when the logs database cannot be read (not
/// created yet by the manager, or down): their counts are then 0, as in the original.
pub async fn recent_counts(state: &AppState, app_id: u64, ids: &[u64]) -> HashMap<u64, u64> {
    match alarm::counts(&state.logs_db, ids, &window(Local::now(), COUNT_SPAN)).await {
        Ok(counts) => counts,
        Err(e) if alarm::is_missing(&e) => HashMap::new(),
        Err(e) => {
            tracing::warn!(app_id, error = %e, "alarm counts unavailable");
            HashMap::new()
        }
    }
}

/// `POST /xapi/alarm_strategy`: adds an enabled rule (ours: answers its `strategyId`).
pub async fn create(state: State, access: AppMember<RuleBody>) -> Handled {
    let (app, user) = (access.app, access.user);
    let rule = access.params.parse()?;
    let id = strategies::insert(&state.console_db, app.id, &stored(&rule)).await?;
    alarm_actions::set(&state.console_db, id, rule.action).await?;
    rules_changed(&state, app.id).await;
    tracing::info!(app_id = app.id, strategy_id = id, user_id = user.id, "alarm rule added");
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"strategyId": id}))))
}

/// `PUT /xapi/alarm_strategy`: rewrites a rule (the front-end sends no `appId`: a rule stays in its app).
pub async fn update(state: State, access: StrategyAccess<RuleBody>) -> Handled {
    let (strategy, app, user) = (access.strategy, access.app, access.user);
    let rule = access.params.parse()?;
    strategies::update(&state.console_db, strategy.id, &stored(&rule)).await?;
    alarm_actions::set(&state.console_db, strategy.id, rule.action).await?;
    rules_changed(&state, app.id).await;
    tracing::info!(app_id = app.id, strategy_id = strategy.id, user_id = user.id, "alarm rule updated");
    done()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    /// 1 enable, 0 disable.
    #[serde(deserialize_with = "lenient::uint")]
    status: u64,
}

/// `PUT /xapi/alarm_strategy_status`: enables (1) or disables (0) a rule; a rule already so is the original's
/// `此规则已经启用` / `此规则已经禁用`.
pub async fn set_status(state: State, access: StrategyAccess<StatusChange>) -> Handled {
    let (strategy, app, user) = (access.strategy, access.app, access.user);
    let (status, already): (u8, &reasons::Reason) = match access.params.status {
        1 => (1, &reasons::RULE_ALREADY_ENABLED),
        0 => (0, &reasons::RULE_ALREADY_DISABLED),
        other => return Err(ConsoleError::bad(format!("status must be 1 (enable) or 0 (disable), not {other}"))),
    };
    if !strategies::set_status(&state.console_db, strategy.id, status).await? {
        return Err(ConsoleError::Declined(already.into()));
    }
    rules_changed(&state, app.id).await;
    tracing::info!(app_id = app.id, strategy_id = strategy.id, user_id = user.id, status, "alarm rule status changed");
    done()
}

/// `DELETE /xapi/alarm_strategy`: the rule and its contacts (the original kept the contacts).
pub async fn delete(state: State, access: StrategyAccess) -> Handled {
    let (strategy, app, user) = (access.strategy, access.app, access.user);
    if !strategies::delete(&state.console_db, strategy.id).await? {
        return Err(ConsoleError::NotFound((&reasons::RULE_NOT_FOUND).into()));
    }
    rules_changed(&state, app.id).await;
    tracing::info!(app_id = app.id, strategy_id = strategy.id, user_id = user.id, "alarm rule deleted");
    done()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    current_page: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    page_size: Option<u64>,
}

/// `GET /xapi/alarm_strategy_history`: one page of the rule's alarms of the last 7 days, newest first (the
/// original: the last 24 hours, all read and paged in memory), and how many there are.
pub async fn history(state: State, access: StrategyAccess<HistoryQuery>) -> Handled {
    let (strategy, app, q) = (access.strategy, access.app, access.params);
    let page = q.current_page.unwrap_or(1);
    let size = q.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page == 0 {
        return Err(ConsoleError::bad("currentPage must be 1 or more"));
    }
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ConsoleError::bad(format!("pageSize must be 1 to {MAX_PAGE_SIZE}, not {size}")));
    }
    let offset = (page - 1).saturating_mul(size);
    let found = alarm::history(&state.logs_db, strategy.id, &window(Local::now(), HISTORY_SPAN), offset, size).await;
    let found = match found {
        Ok(found) => found,
        // No logs database or day tables yet: the manager has not started, so nothing has fired.
        Err(e) if alarm::is_missing(&e) => alarm::Page { count: 0, alarms: Vec::new() },
        Err(e) => return Err(ConsoleError::LogsDb(e)),
    };
    let list: Vec<_> = found
        .alarms
        .iter()
        .map(|a| {
            // The original's `gm_create` as JSON: an ISO 8601 instant in UTC with milliseconds.
            let time = DateTime::<Utc>::from_timestamp_millis(a.time_ms).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
            json!({
                "time": time,
                "contextType": strategy.context,
                "agentId": a.agent,
                "alarmContent": a.message,
                "detailPath": rules::detail_path(app.id, &strategy.context, &strategy.expression, &a.agent, a.pid),
                "appInfo": app.id,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list, "count": found.count}))))
}

/// Who may be a contact of the app's rules: the owner, then every members row (joined or invited, as the
/// original), each once.
async fn possible_contacts(db: &mysql_async::Pool, app: &store::console_db::apps::App) -> Result<Vec<u64>, ConsoleError> {
    let mut ids = vec![app.owner];
    for member in members::of_app(db, app.id).await? {
        if !ids.contains(&member.user) {
            ids.push(member.user);
        }
    }
    Ok(ids)
}

/// `GET /xapi/alarm_strategy_contacts`: the rule's contacts and the app's people who are not one yet, by id.
pub async fn contacts(state: State, access: StrategyAccess) -> Handled {
    let db = &state.console_db;
    let (strategy, app) = (access.strategy, access.app);
    let current = contacts::of_strategy(db, strategy.id).await?;
    let mut remaining: Vec<u64> = possible_contacts(db, &app).await?.into_iter().filter(|id| !current.contains(id)).collect();
    remaining.sort_unstable();
    let all: Vec<u64> = current.iter().chain(&remaining).copied().collect();
    let people = users::by_ids(db, &all).await?;
    let entry = |id: &u64| {
        let nick = people.iter().find(|u| u.id == *id).map(|u| u.nick.as_str());
        json!({"userId": id, "userInfo": nick})
    };
    let contacts: Vec<_> = current.iter().map(entry).collect();
    let remain_members: Vec<_> = remaining.iter().map(entry).collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"contacts": contacts, "remainMembers": remain_members}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ContactRef {
    /// A user's database id (as `alarm_strategy_contacts` lists it).
    #[serde(deserialize_with = "lenient::uint")]
    user_id: u64,
}

/// `POST /xapi/alarm_strategy_contact`: the owner or anyone with a members row may be a contact.
pub async fn add_contact(state: State, access: StrategyAccess<ContactRef>) -> Handled {
    let db = &state.console_db;
    let (strategy, app, body) = (access.strategy, access.app, access.params);
    if !possible_contacts(db, &app).await?.contains(&body.user_id) {
        return Err(ConsoleError::Declined(reasons::CONTACT_NOT_MEMBER.arg("userId", body.user_id)));
    }
    if !contacts::add(db, strategy.id, body.user_id).await? {
        return Err(ConsoleError::Declined(reasons::ALREADY_CONTACT.arg("userId", body.user_id)));
    }
    tracing::info!(app_id = app.id, strategy_id = strategy.id, contact = body.user_id, "alarm contact added");
    done()
}

/// `DELETE /xapi/alarm_strategy_contact`. Unlike the original, a contact who has left the team can still be
/// removed (the original refused anyone no longer in the team, so their contact stayed for good).
pub async fn remove_contact(state: State, access: StrategyAccess<ContactRef>) -> Handled {
    let db = &state.console_db;
    let (strategy, app, body) = (access.strategy, access.app, access.params);
    if !contacts::remove(db, strategy.id, body.user_id).await? {
        return Err(ConsoleError::Declined(reasons::NOT_A_CONTACT.arg("userId", body.user_id)));
    }
    tracing::info!(app_id = app.id, strategy_id = strategy.id, contact = body.user_id, "alarm contact removed");
    done()
}
