//! The manager binary: settings from the environment, JSON logs, serve until SIGTERM.

use common::settings::Service;
use common::Settings;
use manager::startup::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_process_env()?;
    settings.check_for(Service::Manager)?;
    common::telemetry::init(&settings.log);
    settings.log_startup("manager");
    let app = Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}
