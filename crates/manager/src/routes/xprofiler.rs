//! Routes the console calls (`/xprofiler/*`): agents, error logs, modules, and commands relayed to agents.

use actix_web::{web, HttpResponse};
use common::signed::Signed;
use protocol::service::{
    AgentCommand, AppQuery, ClientQuery, CommandTarget, ErrorsQuery, FileStatusCommand, FilesQuery, LogFileKind, ModulesQuery, ProcessCommand,
    ProcessesCommand, Reply, TakeAction, TransferFile,
};
use protocol::ExecCommand;
use serde_json::{json, Value};

use crate::clients::audit::Auditor;
use crate::error::ManagerError;
use crate::state::AppState;

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
type State = web::Data<AppState>;

fn ok(data: Value) -> Handled {
    Ok(HttpResponse::Ok().json(Reply::ok(data)))
}

fn command(name: &str) -> Result<ExecCommand, ManagerError> {
    ExecCommand::new(name).map_err(bad)
}

fn bad(e: protocol::CommandError) -> ManagerError {
    ManagerError::bad(e.to_string())
}

async fn client(state: State, Signed(q): Signed<ClientQuery>) -> Handled {
    let client = match state.registry.live_client(&q.app_id, &q.agent_id).await? {
        Some(c) => json!({"appId": q.app_id, "agentId": q.agent_id, "clientId": c.client_id, "server": c.server, "timestamp": c.timestamp}),
        None => json!({}),
    };
    ok(json!({"client": client}))
}

async fn clients(state: State, Signed(q): Signed<AppQuery>) -> Handled {
    match state.registry.live_clients(&q.app_id, chrono::Utc::now().timestamp_millis()).await? {
        Some(clients) => ok(json!({"clients": clients})),
        None => ok(json!({})),
    }
}

async fn files(state: State, Signed(q): Signed<FilesQuery>) -> Handled {
    let files = state.logs.files(&q.app_id.to_string(), &q.agent_id, q.kind).await?;
    match q.kind {
        LogFileKind::Error => ok(json!({"files": files})),
        // With the last audit's `risk` and `riskModules` when one is kept (never audited in the request, unlike the
        // original without `fromCache`).
        LogFileKind::Package => {
            let (app, agent) = (q.app_id.to_string(), q.agent_id.as_str().to_owned());
            let mut out = Vec::with_capacity(files.len());
            for f in files {
                let mut entry = json!({"filePath": f});
                if let Some(Value::Object(kept)) = Auditor::kept(&state.redis, &app, &agent, &f).await? {
                    entry.as_object_mut().expect("a JSON object literal").extend(kept);
                }
                out.push(entry);
            }
            ok(json!({"files": out}))
        }
    }
}

async fn errors(state: State, Signed(q): Signed<ErrorsQuery>) -> Handled {
    let (page, size) = (q.current_page.max(1), q.page_size.clamp(1, 1000));
    ok(state.logs.errors(&q.app_id.to_string(), &q.agent_id, &q.error_file, page, size).await?)
}

async fn modules(state: State, Signed(q): Signed<ModulesQuery>) -> Handled {
    ok(state.logs.modules(&q.app_id.to_string(), &q.agent_id, &q.module_file).await?)
}

/// The seven command routes share this: relay the command to the agent.
async fn run(state: &AppState, target: &CommandTarget, command: ExecCommand) -> Handled {
    ok(state.relay.exec(target, command).await?)
}

async fn agent_osinfo(state: State, Signed(q): Signed<AgentCommand>) -> Handled {
    run(&state, &q.target, command("get_os_info")?).await
}

async fn agent_node_processes(state: State, Signed(q): Signed<AgentCommand>) -> Handled {
    run(&state, &q.target, command("get_node_processes")?).await
}

async fn check_process_status(state: State, Signed(q): Signed<ProcessCommand>) -> Handled {
    let cmd = command("check_process_status")?.arg(q.pid).map_err(bad)?;
    run(&state, &q.target, cmd).await
}

async fn check_processes_alive(state: State, Signed(q): Signed<ProcessesCommand>) -> Handled {
    let cmd = command("check_processes_alive")?.args(q.pids).map_err(bad)?;
    run(&state, &q.target, cmd).await
}

async fn check_file_status(state: State, Signed(q): Signed<FileStatusCommand>) -> Handled {
    let cmd = command("check_file_status")?.arg(q.file_path).map_err(bad)?;
    run(&state, &q.target, cmd).await
}

async fn take_action(state: State, Signed(q): Signed<TakeAction>) -> Handled {
    let cmd = ExecCommand::xprofctl(&q.pid, &q.command, &q.options).map_err(bad)?;
    run(&state, &q.target, cmd).await
}

async fn transfer_file(state: State, Signed(q): Signed<TransferFile>) -> Handled {
    let cmd = command("upload_file")?.args([q.file_id, q.file_type, q.file_path, q.server, q.token]).map_err(bad)?;
    run(&state, &q.target, cmd).await
}
