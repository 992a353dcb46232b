//! Test harness (feature `testing`): a console on port 0 for integration tests, here and in the ws-server's
//! end-to-end tests, storing uploads in a temporary directory of its own.

use std::path::PathBuf;

use common::Settings;

use crate::Application;

pub struct TestConsole {
    pub base: String,
    pub storage: PathBuf,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestConsole {
    /// Starts a console with `settings` (its databases and Redis); uploads go to a fresh directory named after `id`.
    /// With port 0 (the tests' default) it takes a free loopback port, and its `console.base_url` (where transfers
    /// send agents) is its own URL.
    pub async fn start(mut settings: Settings, id: &str) -> TestConsole {
        let storage = std::env::temp_dir().join(format!("ezm-console-{id}"));
        settings.console.storage_dir = storage.display().to_string();
        if settings.console.port == 0 {
            // The URL must be known before the console is built. A port just freed is rarely handed out again at
            // once: a small race, accepted for tests.
            let free = std::net::TcpListener::bind((settings.console.host.as_str(), 0)).and_then(|l| l.local_addr()).expect("a free port");
            settings.console.port = free.port();
            settings.console.base_url = format!("http://127.0.0.1:{}", free.port());
        }
        let app = Application::build(settings).await.expect("console starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped());
        TestConsole { base, storage, server }
    }

    /// The names of the stored objects, sorted.
    pub fn stored(&self) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(&self.storage).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    /// Stops the console and deletes its storage directory.
    pub fn stop(self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.storage);
    }
}
