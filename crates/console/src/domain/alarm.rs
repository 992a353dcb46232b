//! Alarm rules as the console accepts them (the contexts, push levels and webhook kinds the alarm engine knows,
//! within the columns' sizes, the expression and the message template parsed by the engine's own `rules` crate), the day tables a span of history lies in, and where a history row links to in the
//! front-end (`detailPath`).

use chrono::{Datelike, NaiveDate};

/// The log a rule is evaluated on (`strategies.context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    XprofilerLog,
    SystemLog,
    ErrorLog,
    XtransitNotification,
}

impl Context {
    pub const ALL: [Context; 4] = [Context::XprofilerLog, Context::SystemLog, Context::ErrorLog, Context::XtransitNotification];

    pub fn as_str(self) -> &'static str {
        match self {
            Context::XprofilerLog => "xprofiler_log",
            Context::SystemLog => "system_log",
            Context::ErrorLog => "error_log",
            Context::XtransitNotification => "xtransit_notification",
        }
    }

    pub fn parse(text: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Push levels: P1 (call), P2 (text message), P3 (e-mail), P4 (record only).
pub const PUSH_TYPES: [&str; 4] = ["p1", "p2", "p3", "p4"];
/// Webhook kinds: the original's three, and ours (`slack`, and `webhook` for a plain JSON POST).
pub const WEBHOOK_TYPES: [&str; 5] = ["dingtalk", "qywx", "feishu", "slack", "webhook"];
/// Ours: what a rule may take automatically of the process that fired it (`autoAction`).
pub const AUTO_ACTIONS: [&str; 5] = ["cpuprofile", "heapprofile", "gcprofile", "heapsnapshot", "diag"];
/// The sizes of the columns (`expression`, `content` VARCHAR(150), `waddress` VARCHAR(200), `wsign` VARCHAR(100)).
pub const MAX_EXPRESSION_CHARS: usize = 150;
pub const MAX_CONTENT_CHARS: usize = 150;
pub const MAX_ADDRESS_CHARS: usize = 200;
pub const MAX_SIGN_CHARS: usize = 100;

/// A rule as the front-end's form sends it.
#[derive(Debug, Clone, Default)]
pub struct RuleForm<'a> {
    pub context_type: &'a str,
    pub push_type: &'a str,
    pub custom_rule_expr: &'a str,
    pub custom_rule_desc: &'a str,
    pub webhook_push: bool,
    pub webhook_type: &'a str,
    pub webhook_address: &'a str,
    pub webhook_sign: &'a str,
    /// Ours: '' for none.
    pub auto_action: &'a str,
}

/// A rule that can be stored: every member checked, texts trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub context: Context,
    pub push: &'static str,
    pub expression: String,
    pub content: String,
    pub webhook: Option<Webhook>,
    /// Ours: the profile to take of the process (xprofiler_log rules only).
    pub action: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub kind: &'static str,
    pub address: String,
    pub sign: String,
}

/// Checks a form; the error names the member at fault. Without `webhookPush` the webhook members are ignored (and
/// stored empty, as the original did).
pub fn parse_rule(form: &RuleForm<'_>) -> Result<Rule, String> {
    let Some(context) = Context::parse(form.context_type) else {
        let names: Vec<&str> = Context::ALL.iter().map(|c| c.as_str()).collect();
        return Err(format!("contextType must be one of {}, not {:?}", names.join(", "), form.context_type));
    };
    let push = one_of("pushType", form.push_type, &PUSH_TYPES)?;
    let expression = text("customRuleExpr", form.custom_rule_expr, MAX_EXPRESSION_CHARS)?;
    rules::Expression::parse(&expression).map_err(|e| format!("customRuleExpr is not a valid expression: {e}"))?;
    let content = text("customRuleDesc", form.custom_rule_desc, MAX_CONTENT_CHARS)?;
    rules::Template::parse(&content).map_err(|e| format!("customRuleDesc is not a valid message template: {e}"))?;
    let action = match form.auto_action.trim() {
        "" => None,
        name => Some(one_of("autoAction", name, &AUTO_ACTIONS)?),
    };
    if action.is_some() && context != Context::XprofilerLog {
        return Err("autoAction needs an xprofiler_log rule (the action is taken of the process that fired it)".into());
    }
    if !form.webhook_push {
        return Ok(Rule { context, push, expression, content, webhook: None, action });
    }
    let kind = one_of("webhookType", form.webhook_type, &WEBHOOK_TYPES)?;
    let address = text("webhookAddress", form.webhook_address, MAX_ADDRESS_CHARS)?;
    if !is_http_url(&address) {
        return Err(format!("webhookAddress must be an http(s) URL, not {address:?}"));
    }
    let sign = form.webhook_sign.trim().to_owned();
    if sign.chars().count() > MAX_SIGN_CHARS {
        return Err(format!("webhookSign must be at most {MAX_SIGN_CHARS} characters"));
    }
    Ok(Rule { context, push, expression, content, webhook: Some(Webhook { kind, address, sign }), action })
}

fn one_of(name: &str, value: &str, allowed: &[&'static str]) -> Result<&'static str, String> {
    match allowed.iter().find(|a| **a == value) {
        Some(found) => Ok(found),
        None => Err(format!("{name} must be one of {}, not {value:?}", allowed.join(", "))),
    }
}

/// Trimmed, not empty, at most `max` characters.
fn text(name: &str, value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    match value.chars().count() {
        0 => Err(format!("{name} must not be empty")),
        n if n > max => Err(format!("{name} must be at most {max} characters, not {n}")),
        _ => Ok(value.to_owned()),
    }
}

fn is_http_url(text: &str) -> bool {
    match reqwest::Url::parse(text) {
        Ok(url) => matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()),
        Err(_) => false,
    }
}

/// The day-of-month tables (`alarm_DD`) holding rows inserted from `from` to `until` (local dates, both included),
/// newest first, each once and at most the 31 of the ring.
pub fn day_tables(from: NaiveDate, until: NaiveDate) -> Vec<u32> {
    let mut days = Vec::new();
    let mut date = until;
    while date >= from && days.len() < 31 {
        if !days.contains(&date.day()) {
            days.push(date.day());
        }
        let Some(previous) = date.pred_opt() else { break };
        date = previous;
    }
    days
}

/// Where a history row opens in the front-end: a hash-less SPA path (a vue-router link), or '' for none. The
/// original tested `@core_count` twice (a typo for `@core_files`) and sent agent-offline alarms to the dependency
/// risk tab; those now open the instance page.
pub fn detail_path(app: u64, context: &str, expression: &str, agent: &str, pid: Option<i64>) -> String {
    let agent = common::url::encode_query_value(agent);
    let instance = format!("/app/{app}/instance");
    match Context::parse(context) {
        Some(Context::XprofilerLog) => match pid {
            Some(pid) => format!("{instance}?tab=process&agentId={agent}&pid={pid}"),
            None => format!("{instance}?tab=process&agentId={agent}"),
        },
        Some(Context::SystemLog) => format!("{instance}?tab=system&agentId={agent}"),
        Some(Context::ErrorLog) => format!("{instance}?tab=error_log&agentId={agent}"),
        Some(Context::XtransitNotification) if expression.contains("@core_count") || expression.contains("@core_files") => {
            format!("/app/{app}/file")
        }
        Some(Context::XtransitNotification) if expression.contains("@agentOffline") => format!("{instance}?tab=process&agentId={agent}"),
        Some(Context::XtransitNotification) if pid.is_none() => format!("{instance}?tab=module_risk&agentId={agent}"),
        Some(Context::XtransitNotification) | None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RuleForm<'static> {
        RuleForm {
            context_type: "system_log",
            push_type: "p3",
            custom_rule_expr: " @load1 > 2 ",
            custom_rule_desc: "load1 is ${@load1}",
            webhook_push: false,
            webhook_type: "dingtalk",
            webhook_address: "",
            webhook_sign: "",
            auto_action: "",
        }
    }

    #[test]
    fn an_auto_action_is_one_of_the_profiles_on_a_process_rule() {
        let process = RuleForm { context_type: "xprofiler_log", auto_action: "heapsnapshot", ..form() };
        assert_eq!(parse_rule(&process).unwrap().action, Some("heapsnapshot"));
        assert!(parse_rule(&RuleForm { auto_action: "rm", ..process.clone() }).unwrap_err().starts_with("autoAction must be one of"));
        assert!(parse_rule(&RuleForm { auto_action: "diag", ..form() }).unwrap_err().starts_with("autoAction needs an xprofiler_log rule"));
    }

    #[test]
    fn a_rule_without_webhook_ignores_the_webhook_members() {
        let rule = parse_rule(&RuleForm { webhook_type: "nonsense", webhook_address: "ftp://x", ..form() }).unwrap();
        assert_eq!(rule.context, Context::SystemLog);
        assert_eq!(rule.expression, "@load1 > 2", "trimmed");
        assert_eq!(rule.webhook, None);
    }

    #[test]
    fn bad_members_are_refused_by_name() {
        let cases: Vec<(RuleForm, &str)> = vec![
            (RuleForm { context_type: "cpu", ..form() }, "contextType"),
            (RuleForm { push_type: "p5", ..form() }, "pushType"),
            (RuleForm { custom_rule_expr: "  ", ..form() }, "customRuleExpr must not be empty"),
            (RuleForm { custom_rule_desc: "", ..form() }, "customRuleDesc must not be empty"),
            (RuleForm { webhook_push: true, webhook_type: "msteams", webhook_address: "https://x.example", ..form() }, "webhookType"),
            (RuleForm { webhook_push: true, webhook_address: "ftp://x.example/hook", ..form() }, "webhookAddress"),
            (RuleForm { webhook_push: true, webhook_address: "not a url", ..form() }, "webhookAddress"),
            (RuleForm { webhook_push: true, webhook_address: "", ..form() }, "webhookAddress must not be empty"),
        ];
        for (form, expected) in cases {
            let message = parse_rule(&form).unwrap_err();
            assert!(message.starts_with(expected), "{message:?} should start with {expected:?}");
        }
    }

    #[test]
    fn invalid_expressions_and_templates_are_refused_with_the_position() {
        let message = parse_rule(&RuleForm { custom_rule_expr: "@heap_used / > 0.7", ..form() }).unwrap_err();
        assert_eq!(message, "customRuleExpr is not a valid expression: expected a value, found '>' at character 14");
        let message = parse_rule(&RuleForm { custom_rule_desc: "heap ${@heap_used", ..form() }).unwrap_err();
        assert_eq!(message, "customRuleDesc is not a valid message template: '${' is never closed by '}' at character 6");
        assert!(parse_rule(&RuleForm { custom_rule_desc: "say \"hi\"\nand \\ ${@load1 * 2}", ..form() }).is_ok());
    }

    #[test]
    fn texts_are_limited_to_their_columns_in_characters() {
        let fits = format!("@a == '{}'", "告".repeat(MAX_EXPRESSION_CHARS - 8));
        assert!(parse_rule(&RuleForm { custom_rule_expr: &fits, ..form() }).is_ok(), "150 characters fit, whatever their bytes");
        let long = "x".repeat(MAX_CONTENT_CHARS + 1);
        assert_eq!(parse_rule(&RuleForm { custom_rule_desc: &long, ..form() }).unwrap_err(), "customRuleDesc must be at most 150 characters, not 151");
        let sign = "s".repeat(MAX_SIGN_CHARS + 1);
        let form = RuleForm { webhook_push: true, webhook_address: "https://oapi.dingtalk.com/robot/send?access_token=t", webhook_sign: &sign, ..form() };
        assert!(parse_rule(&form).unwrap_err().starts_with("webhookSign"));
    }

    #[test]
    fn a_webhook_rule_keeps_its_webhook() {
        let form = RuleForm { webhook_push: true, webhook_type: "feishu", webhook_address: "https://open.feishu.cn/hook/x", webhook_sign: "s", ..form() };
        let webhook = parse_rule(&form).unwrap().webhook.unwrap();
        assert_eq!(webhook, Webhook { kind: "feishu", address: "https://open.feishu.cn/hook/x".into(), sign: "s".into() });
    }

    #[test]
    fn day_tables_run_newest_first_across_a_month_end() {
        let date = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        assert_eq!(day_tables(date(3, 1), date(3, 2)), [2, 1]);
        assert_eq!(day_tables(date(2, 27), date(3, 2)), [2, 1, 29, 28, 27], "2024 is a leap year");
        assert_eq!(day_tables(date(3, 2), date(3, 2)), [2]);
        assert_eq!(day_tables(date(3, 3), date(3, 2)), Vec::<u32>::new());
        let year = day_tables(date(1, 1), date(12, 31));
        assert_eq!(year.len(), 31, "at most the whole ring, each table once");
    }

    #[test]
    fn detail_paths_follow_the_context() {
        assert_eq!(detail_path(7, "xprofiler_log", "@cpu_60 > 90", "host-1", Some(42)), "/app/7/instance?tab=process&agentId=host-1&pid=42");
        assert_eq!(detail_path(7, "system_log", "@load1 > 2", "host-1", None), "/app/7/instance?tab=system&agentId=host-1");
        assert_eq!(detail_path(7, "error_log", "@type === 'x'", "host-1", None), "/app/7/instance?tab=error_log&agentId=host-1");
        assert_eq!(detail_path(7, "xtransit_notification", "@core_count > 0", "host-1", None), "/app/7/file");
        assert_eq!(detail_path(7, "xtransit_notification", "@agentOffline", "host-1", None), "/app/7/instance?tab=process&agentId=host-1");
        assert_eq!(detail_path(7, "xtransit_notification", "@risk > 0", "host 1&x", None), "/app/7/instance?tab=module_risk&agentId=host%201%26x");
        assert_eq!(detail_path(7, "xtransit_notification", "@risk > 0", "h", Some(3)), "");
        assert_eq!(detail_path(7, "unknown", "", "h", None), "");
    }
}
