//! Why the console refused: one catalog of every refusal its API answers (the no-route 404 of `/xapi/*` is the
//! shared table's, without a reason). Each [`Reason`] has a stable English key, sent
//! as the `reason` member of the error envelope (with the values in `args`), and the message the original answered
//! (mostly Chinese), sent as `message`, with `{name}` filled from the same values. The original front-end reads
//! `message` and ignores the rest; our web UI looks the key up in its locale (`web/src/i18n/*/errors.ts`) and falls
//! back to `message` for a key it does not know. A test checks that both locales have every key of [`ALL`] with the
//! same placeholders, so a new refusal without its translations fails the build.

use std::fmt;

/// One kind of refusal.
#[derive(Debug, PartialEq, Eq)]
pub struct Reason {
    /// Stable, English, camelCase: what the UI translates. Never changed once released.
    pub key: &'static str,
    /// The message, with `{name}` placeholders for the refusal's values.
    pub template: &'static str,
}

macro_rules! reasons {
    ($($(#[$doc:meta])* $id:ident = $key:literal, $template:literal;)*) => {
        $($(#[$doc])* pub const $id: Reason = Reason { key: $key, template: $template };)*
        /// Every reason, for the locale test and the docs.
        pub const ALL: &[&Reason] = &[$(&$id),*];
    };
}

reasons! {
    // Caller mistakes (`ParamError` and the checks of user input).
    MISSING_PARAM = "missingParam", "缺少参数";
    BAD_PARAM = "badParam", "参数错误: {detail}";
    BAD_BODY = "badBody", "request body: {detail}";
    APP_NAME_EMPTY = "appNameEmpty", "应用名称不能为空";
    APP_NAME_TOO_LONG = "appNameTooLong", "应用名称不能超过 {max} 个字符";
    PROFILING_TIME = "profilingTime", "profilingTime 必须在 {min} 到 {max} 毫秒之间";

    // Who is asking.
    SIGN_IN_REQUIRED = "signInRequired", "请先登录";
    BAD_CREDENTIALS = "badCredentials", "用户名或者密码错误，登陆失败";
    EMAIL_REQUIRED = "emailRequired", "请使用邮箱注册或者登陆";
    TOO_MANY_ATTEMPTS = "tooManyAttempts", "登录失败次数过多，请 {minutes} 分钟后再试";
    CSRF_MISMATCH = "csrfMismatch", "invalid csrf token";

    // What they may see or do.
    APP_NOT_FOUND = "appNotFound", "应用 {appId} 不存在";
    NOT_APP_MEMBER = "notAppMember", "您没有此应用的访问权限";
    OWNER_ONLY = "ownerOnly", "只有应用所有者可以进行此操作";
    NO_INVITATION = "noInvitation", "您没有此应用的邀请";
    ADMIN_ONLY = "adminOnly", "只有系统管理员可以访问";
    ALL_APPS_ADMIN_ONLY = "allAppsAdminOnly", "只有管理员可以查看全部应用";
    RULE_NOT_FOUND = "ruleNotFound", "规则不存在";
    RULE_FORBIDDEN = "ruleForbidden", "您没有此规则的访问权限";
    FILE_NOT_FOUND = "fileNotFound", "文件 {fileId} ({fileType}) 不存在";
    FILE_FORBIDDEN = "fileForbidden", "您没有此文件的访问权限";

    // Apps and teams.
    DUPLICATE_APP = "duplicateApp", "不能创建重复应用";
    USER_NOT_FOUND = "userNotFound", "用户 {user} 不存在";
    INVITE_SELF = "inviteSelf", "您已经在团队中";
    ALREADY_IN_TEAM = "alreadyInTeam", "用户 {user} 已在团队中";
    ALREADY_INVITED = "alreadyInvited", "不能重复邀请用户";
    NOT_IN_TEAM = "notInTeam", "用户 {userId} 不在团队中";
    OWNER_CANNOT_LEAVE = "ownerCannotLeave", "应用所有者不能离开团队，请先转交应用";
    ALREADY_OWNER = "alreadyOwner", "此用户已经是应用所有者";
    NOT_A_MEMBER = "notAMember", "用户 {userId} 不是此应用的成员";

    // Alarm rules.
    RULE_ALREADY_ENABLED = "ruleAlreadyEnabled", "此规则已经启用";
    RULE_ALREADY_DISABLED = "ruleAlreadyDisabled", "此规则已经禁用";
    CONTACT_NOT_MEMBER = "contactNotMember", "用户 {userId} 不在此应用成员列表中";
    ALREADY_CONTACT = "alreadyContact", "用户 {userId} 已经是此规则的联系人";
    NOT_A_CONTACT = "notAContact", "用户 {userId} 不是此规则的联系人";

    // Profiling actions and the agent.
    UNKNOWN_ACTION = "unknownAction", "不支持的操作: {action}";
    NO_STOP = "noStop", "{action} 不支持结束操作";
    // The agent's, ws-server's or manager's own text, passed through as the original does (with the original's
    // `code` for the first two); the UI's locales say what happened around it.
    AGENT_OFFLINE = "agentOffline", "{detail}";
    AGENT_TIMEOUT = "agentTimeout", "{detail}";
    AGENT_FAILED = "agentFailed", "{detail}";
    MANAGER_REFUSED = "managerRefused", "{detail}";
    AGENT_UNEXPECTED = "agentUnexpected", "unexpected answer of the agent: {detail}";

    // Files, transfers and downloads.
    UPLOADED_NO_TRANSFER = "uploadedNoTransfer", "上传的文件无需转储";
    TREND_NO_TRANSFER = "trendNoTransfer", "趋势数据无需转储";
    CORE_NO_EXECUTABLE = "coreNoExecutable", "核心转储缺少可执行文件路径";
    FILE_NOT_READY = "fileNotReady", "文件尚未生成，无法转储";
    TRANSFER_FAILED = "transferFailed", "下发转储命令失败: {detail}";
    NOT_TRANSFERRED = "notTransferred", "文件尚未转储";
    /// The `/dashboard/*` launchers' text for the same (the original's words differ).
    NOT_TRANSFERRED_VIEWER = "notTransferredViewer", "文件未转储";
    NOT_IN_STORAGE = "notInStorage", "文件已不在存储中";
    ALREADY_FAVORITE = "alreadyFavorite", "文件已经收藏";
    NOT_FAVORITE = "notFavorite", "文件已经取消收藏";

    // Browser uploads.
    UPLOAD_TOO_LARGE = "uploadTooLarge", "文件超过上传上限 {limit} 字节";
    UPLOAD_FILE_COUNT = "uploadFileCount", "请上传 {count} 个文件";
    UPLOAD_NO_NAME = "uploadNoName", "文件缺少文件名";
    UPLOAD_EMPTY = "uploadEmpty", "文件 {name} 为空";
    UNKNOWN_FILE_TYPE = "unknownFileType", "不支持的文件类型: {fileType}";
    BAD_FILE_NAME = "badFileName", "文件名不合法: {name}";
    WRONG_EXTENSION = "wrongExtension", "文件 {name} 的扩展名应为 .{extension}";

    /// A failure of the console or its stores (the details are only in the log).
    INTERNAL = "internal", "internal error, please retry later";
}

/// A refusal: its reason and the values of its placeholders.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: &'static Reason,
    pub args: Vec<(&'static str, String)>,
}

impl Refusal {
    /// Sets the placeholder `name`.
    pub fn arg(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// The `args` member of the envelope.
    pub fn args_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.args.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str()))).collect()
    }
}

impl From<&'static Reason> for Refusal {
    fn from(reason: &'static Reason) -> Self {
        Refusal { reason, args: Vec::new() }
    }
}

impl Reason {
    /// This reason with the placeholder `name` set.
    pub fn arg(&'static self, name: &'static str, value: impl fmt::Display) -> Refusal {
        Refusal::from(self).arg(name, value)
    }
}

/// The message: the template with every placeholder filled (one without a value stays as written).
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.reason.template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
            f.write_str(&rest[..open])?;
            let name = &rest[open + 1..close];
            match self.args.iter().find(|(k, _)| *k == name) {
                Some((_, value)) => f.write_str(value)?,
                None => f.write_str(&rest[open..=close])?,
            }
            rest = &rest[close + 1..];
        }
        f.write_str(rest)
    }
}

/// The placeholder names of a template, sorted.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> = template.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn fills_the_template() {
        assert_eq!(APP_NOT_FOUND.arg("appId", 42).to_string(), "应用 42 不存在");
        assert_eq!(FILE_NOT_FOUND.arg("fileId", 7).arg("fileType", "cpuprofile").to_string(), "文件 7 (cpuprofile) 不存在");
        assert_eq!(Refusal::from(&DUPLICATE_APP).to_string(), "不能创建重复应用");
        // A value with braces is not read as a placeholder; a missing value leaves the placeholder.
        assert_eq!(USER_NOT_FOUND.arg("user", "{x}").to_string(), "用户 {x} 不存在");
        assert_eq!(Refusal::from(&USER_NOT_FOUND).to_string(), "用户 {user} 不存在");
        assert_eq!(placeholders(WRONG_EXTENSION.template), ["extension", "name"]);
    }

    #[test]
    fn keys_are_unique_camel_case() {
        let mut seen = std::collections::HashSet::new();
        for reason in ALL {
            assert!(seen.insert(reason.key), "{} twice", reason.key);
            assert!(reason.key.chars().all(|c| c.is_ascii_alphanumeric()) && reason.key.starts_with(|c: char| c.is_ascii_lowercase()), "{}", reason.key);
        }
    }

    /// `key: 'text'` lines of a locale's errors.ts (its `export default { … }` object, one key per line).
    fn locale(name: &str) -> BTreeMap<String, String> {
        let path = format!("{}/web/src/i18n/{name}/errors.ts", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let body = text.split_once("export default {").unwrap_or_else(|| panic!("{path}: no `export default {{`")).1;
        let body = body.rsplit_once('}').unwrap_or_else(|| panic!("{path}: no closing brace")).0;
        body.lines()
            .filter_map(|line| {
                let (key, value) = line.trim().split_once(": ")?;
                let value = value.trim_end_matches(',');
                let quoted = (value.starts_with('\'') && value.ends_with('\'')) || (value.starts_with('"') && value.ends_with('"'));
                (quoted && value.len() >= 2 && key.chars().all(|c| c.is_ascii_alphanumeric())).then(|| (key.to_owned(), value[1..value.len() - 1].to_owned()))
            })
            .collect()
    }

    #[test]
    fn every_locale_translates_every_reason_with_its_placeholders() {
        for name in ["zh-CN", "en-US"] {
            let texts = locale(name);
            let keys: Vec<&str> = texts.keys().map(String::as_str).collect();
            let mut expected: Vec<&str> = ALL.iter().map(|r| r.key).collect();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{name}/errors.ts has exactly the keys of reasons::ALL");
            for reason in ALL {
                let text = &texts[reason.key];
                assert_eq!(placeholders(text), placeholders(reason.template), "{name}: {}", reason.key);
                // vue-i18n reads `@` as a linked message and `|` as plural forms.
                assert!(!text.contains(['@', '|']), "{name}: {} has vue-i18n syntax: {text}", reason.key);
            }
        }
    }
}
