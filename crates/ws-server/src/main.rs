//! The ws-server binary: settings from the environment, JSON logs, serve until SIGTERM.

use common::settings::Service;
use common::Settings;
use ws_server::startup::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_process_env()?;
    settings.check_for(Service::WsServer)?;
    common::telemetry::init(&settings.log);
    settings.log_startup("ws-server");
    let app = Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}
