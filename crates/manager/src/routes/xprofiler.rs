//! Routes the console calls (`/xprofiler/*`): agents, error logs, modules, and commands relayed to agents.

use actix_web::{web, HttpResponse};
use protocol::service::Reply;
use protocol::{AppId, ExecCommand};
use serde_json::{json, Value};

use crate::error::ManagerError;
use crate::logstore::{self, FileKind};
use common::signed::Signed;
use crate::startup::AppState;
use crate::{registry, relay};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/xprofiler/client", web::post().to(client))
        .route("/xprofiler/clients", web::post().to(clients))
        .route("/xprofiler/files", web::post().to(files))
        .route("/xprofiler/errors", web::post().to(errors))
        .route("/xprofiler/modules", web::post().to(modules))
        .route("/xprofiler/agent_osinfo", web::post().to(agent_osinfo))
        .route("/xprofiler/agent_node_processes", web::post().to(agent_node_processes))
        .route("/xprofiler/check_process_status", web::post().to(check_process_status))
        .route("/xprofiler/check_processes_alive", web::post().to(check_processes_alive))
        .route("/xprofiler/check_file_status", web::post().to(check_file_status))
        .route("/xprofiler/take_action", web::post().to(take_action))
        .route("/xprofiler/transfer_file", web::post().to(transfer_file));
}

type Handled = Result<HttpResponse, ManagerError>;

fn ok(data: Value) -> Handled {
    Ok(HttpResponse::Ok().json(Reply::ok(data)))
}

fn command(name: &str) -> Result<ExecCommand, ManagerError> {
    ExecCommand::new(name).map_err(|e| ManagerError::bad(e.to_string()))
}

fn bad(e: protocol::CommandError) -> ManagerError {
    ManagerError::bad(e.to_string())
}

async fn client(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId"])?;
    let app: AppId = body.get("appId")?;
    let agent = body.text("agentId").unwrap_or_default();
    let client = match registry::live_client(&state, &app, &agent).await? {
        Some(c) => json!({"appId": app, "agentId": agent, "clientId": c.client_id, "server": c.server, "timestamp": c.timestamp}),
        None => json!({}),
    };
    ok(json!({"client": client}))
}

async fn clients(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId"])?;
    let app: AppId = body.get("appId")?;
    match registry::live_clients(&state, &app).await? {
        Some(clients) => ok(json!({"clients": clients})),
        None => ok(json!({})),
    }
}

async fn files(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "type"])?;
    let app = body.get::<AppId>("appId")?.to_string();
    let agent = body.text("agentId")?;
    let kind: FileKind = body.get("type")?;
    let files = logstore::files(&state, &app, &agent, kind).await?;
    match kind {
        FileKind::Error => ok(json!({"files": files})),
        // The dependency audit is a later feature: until then package files carry no risk data.
        FileKind::Package => ok(json!({"files": files.into_iter().map(|f| json!({"filePath": f})).collect::<Vec<_>>()})),
    }
}

async fn errors(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "errorFile", "currentPage", "pageSize"])?;
    let app = body.get::<AppId>("appId")?.to_string();
    let page = body.uint("currentPage")?.max(1);
    let size = body.uint("pageSize")?.clamp(1, 1000);
    ok(logstore::errors(&state, &app, &body.text("agentId")?, &body.text("errorFile")?, page, size).await?)
}

async fn modules(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "moduleFile"])?;
    let app = body.get::<AppId>("appId")?.to_string();
    ok(logstore::modules(&state, &app, &body.text("agentId")?, &body.text("moduleFile")?).await?)
}

/// The seven command routes share this: identify the agent, build the command, relay it.
async fn run(state: &AppState, body: &Signed, command: ExecCommand) -> Handled {
    let app: AppId = body.get("appId")?;
    let agent = body.text("agentId")?;
    let expired = body.opt_uint("expiredTime");
    ok(relay::exec(state, &app, &agent, command, expired).await?)
}

async fn agent_osinfo(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId"])?;
    run(&state, &body, command("get_os_info")?).await
}

async fn agent_node_processes(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId"])?;
    run(&state, &body, command("get_node_processes")?).await
}

async fn check_process_status(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "pid"])?;
    let cmd = command("check_process_status")?.arg(body.text("pid")?).map_err(bad)?;
    run(&state, &body, cmd).await
}

async fn check_processes_alive(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "pids"])?;
    let pids: Vec<Value> = body.get("pids")?;
    let pids: Vec<String> = pids.iter().map(|p| p.as_str().map(str::to_owned).unwrap_or_else(|| p.to_string())).collect();
    let cmd = command("check_processes_alive")?.args(pids).map_err(bad)?;
    run(&state, &body, cmd).await
}

async fn check_file_status(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "filePath"])?;
    let cmd = command("check_file_status")?.arg(body.text("filePath")?).map_err(bad)?;
    run(&state, &body, cmd).await
}

async fn take_action(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "pid", "command", "options"])?;
    let options: Value = body.get("options")?;
    let cmd = ExecCommand::xprofctl(&body.text("pid")?, &body.text("command")?, &options).map_err(bad)?;
    run(&state, &body, cmd).await
}

async fn transfer_file(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "fileId", "fileType", "filePath", "server", "token"])?;
    let args = [body.text("fileId")?, body.text("fileType")?, body.text("filePath")?, body.text("server")?, body.text("token")?];
    let cmd = command("upload_file")?.args(args).map_err(bad)?;
    run(&state, &body, cmd).await
}
