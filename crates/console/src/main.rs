//! The console binary: settings from the environment, JSON logs, serve until SIGTERM.

use common::settings::Service;
use common::Settings;
use console::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_process_env()?;
    settings.check_for(Service::Console)?;
    common::telemetry::init(&settings.log);
    settings.log_startup("console");
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}
