//! What agents report besides metrics, kept by the manager in Redis: error-log files and their entries, package
//! files and their dependencies. Readable while the agent is offline (until the manager's retention drops them).

use actix_web::{web, HttpResponse};
use protocol::lenient;
use protocol::service::{ErrorsQuery, FilesQuery, LogFileKind, ModulesQuery, Reply};
use protocol::{AgentId, AppId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth;
use crate::error::ConsoleError;
use crate::routes::instance::AgentQuery;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `GET /xapi/error_files`.
pub async fn error_files(state: State, access: auth::AppMember<AgentQuery>) -> Handled {
    let q = access.params;
    let body = FilesQuery { app_id: AppId::Number(q.app_id), agent_id: q.agent_id, kind: LogFileKind::Error };
    let data: Value = state.manager.data("/xprofiler/files", &body).await?;
    let list: Vec<Value> = data["files"]
        .as_array()
        .map(|files| files.iter().filter_map(Value::as_str).map(|p| json!({"label": basename(p), "value": p})).collect())
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLogsQuery {
    #[serde(deserialize_with = "lenient::uint")]
    app_id: u64,
    #[param(value_type = String)]
    agent_id: AgentId,
    error_file: String,
    #[serde(deserialize_with = "lenient::uint")]
    current_page: u64,
    #[serde(deserialize_with = "lenient::uint")]
    page_size: u64,
}

/// `GET /xapi/error_logs`: one page, newest first. `stack` and `extra` are always strings (the original front-end
/// splits them on newlines).
pub async fn error_logs(state: State, access: auth::AppMember<ErrorLogsQuery>) -> Handled {
    let q = access.params;
    let body = ErrorsQuery {
        app_id: AppId::Number(q.app_id),
        agent_id: q.agent_id,
        error_file: q.error_file,
        current_page: q.current_page.max(1),
        page_size: q.page_size.clamp(1, 100),
    };
    let data: Value = state.manager.data("/xprofiler/errors", &body).await?;
    let list: Vec<Value> = data["errors"].as_array().map(|errors| errors.iter().map(readable_error).collect()).unwrap_or_default();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"count": data["count"].as_u64().unwrap_or(0), "list": list}))))
}

fn readable_error(entry: &Value) -> Value {
    let mut entry = entry.clone();
    if let Some(object) = entry.as_object_mut() {
        for key in ["stack", "extra"] {
            let text = match object.get(key) {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => String::new(),
                Some(other) => serde_json::to_string_pretty(other).unwrap_or_default(),
            };
            object.insert(key.into(), Value::String(text));
        }
    }
    entry
}

/// `GET /xapi/module_files`: package files, each with the manager's last audit of it (`risk`, `riskModules`) when it
/// keeps one (the manager audits with `manager.audit_registry_url` set); else `risk` is null, which the UI shows as
/// not scanned.
pub async fn module_files(state: State, access: auth::AppMember<AgentQuery>) -> Handled {
    let q = access.params;
    let body = FilesQuery { app_id: AppId::Number(q.app_id), agent_id: q.agent_id, kind: LogFileKind::Package };
    let data: Value = state.manager.data("/xprofiler/files", &body).await?;
    let list: Vec<Value> = data["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f["filePath"].as_str().map(|p| (p, f)))
                .map(|(p, f)| {
                    let risk = f.get("risk").cloned().unwrap_or(Value::Null);
                    let modules = f.get("riskModules").cloned().unwrap_or_else(|| json!({}));
                    json!({"label": basename(p), "value": p, "risk": risk, "riskModules": modules})
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ModuleQuery {
    #[serde(deserialize_with = "lenient::uint")]
    app_id: u64,
    #[param(value_type = String)]
    agent_id: AgentId,
    module_file: String,
}

/// `GET /xapi/module`: dependencies and the versions the lock file resolved.
pub async fn module(state: State, access: auth::AppMember<ModuleQuery>) -> Handled {
    let q = access.params;
    let body = ModulesQuery { app_id: AppId::Number(q.app_id), agent_id: q.agent_id, module_file: q.module_file };
    let data: Value = state.manager.data("/xprofiler/modules", &body).await?;
    Ok(HttpResponse::Ok().json(Reply::ok(data)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn error_entries_always_carry_text_stack_and_extra() {
        let e = super::readable_error(&json!({"timestamp": 1, "type": "Error", "stack": "a\nb"}));
        assert_eq!(e, json!({"timestamp": 1, "type": "Error", "stack": "a\nb", "extra": ""}));
        let e = super::readable_error(&json!({"extra": {"k": 1}}));
        assert!(e["extra"].as_str().unwrap().contains("\"k\": 1"));
        assert_eq!(super::basename("/var/log/app/error.log"), "error.log");
    }
}
