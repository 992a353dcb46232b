//! Test harness (feature `testing`): a console on port 0 for integration tests, here and in the ws-server's
//! end-to-end tests, storing uploads in a temporary directory of its own; and a private moto server (an
//! S3-compatible store) for the S3 storage backend.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        let mut names: Vec<String> = std::fs::read_dir(&self.storage).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    /// Stops the console and deletes its storage directory.
    pub fn stop(self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.storage);
    }
}

/// Where `tests/s3/install-moto.sh` puts the server (it honours `EZM_TOOLS_DIR` the same way).
fn moto_binary() -> PathBuf {
    let tools = std::env::var_os("EZM_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/easy-monitor"));
    tools.join("moto-venv/bin/moto_server")
}

/// A moto server of this test's own, on `127.0.0.1:<port picked by the OS>`. Dropping it kills the process.
pub struct Moto {
    child: Child,
    log: PathBuf,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let binary = moto_binary();
        assert!(binary.exists(), "{} is missing: install moto with `crates/console/tests/s3/install-moto.sh` (deploy/local/test.sh runs it)", binary.display());
        let log = std::env::temp_dir().join(format!("ezm-moto-{}.log", uuid::Uuid::new_v4().simple()));
        let out = std::fs::File::create(&log).expect("temporary log file");
        let err = out.try_clone().expect("log file handle");
        // `-p 0`: the OS picks a free port and the server prints it ("Running on http://127.0.0.1:<port>").
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut moto = Moto { child, log, endpoint: String::new() };
        let started = Instant::now();
        while moto.endpoint.is_empty() {
            let text = moto.log_text();
            if let Some(port) = text.split("Running on http://127.0.0.1:").nth(1) {
                let port: String = port.chars().take_while(char::is_ascii_digit).collect();
                moto.endpoint = format!("http://127.0.0.1:{port}");
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited ({status}) before listening:\n{text}");
            }
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not report its port in 30 s:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("moto at {} (log {})", moto.endpoint, moto.log.display());
        moto
    }

    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Waits until the server answers HTTP, then creates `bucket` (moto checks no signature by default).
    pub async fn create_bucket(&self, bucket: &str) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        while http.get(format!("{}/", self.endpoint)).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server does not answer:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let created = http.put(format!("{}/{bucket}", self.endpoint)).send().await.expect("moto answers");
        assert!(created.status().is_success(), "create bucket {bucket}: {}", created.status());
    }

    /// A raw, unsigned S3 GET (moto does not check signatures): what any client sees, not what our client says.
    pub async fn get(&self, path_and_query: &str) -> (u16, Vec<u8>) {
        let r = reqwest::get(format!("{}/{path_and_query}", self.endpoint)).await.expect("moto answers");
        (r.status().as_u16(), r.bytes().await.expect("body").to_vec())
    }

    /// The S3 settings of the console pointed at this server (`EZM__CONSOLE__…` variables).
    pub fn overrides<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("EZM__CONSOLE__STORAGE_BACKEND", "s3"),
            ("EZM__CONSOLE__S3_BUCKET", bucket),
            ("EZM__CONSOLE__S3_ENDPOINT", &self.endpoint),
            ("EZM__CONSOLE__S3_ALLOW_HTTP", "true"),
            ("EZM__CONSOLE__S3_ACCESS_KEY_ID", "test"),
            ("EZM__CONSOLE__S3_SECRET_ACCESS_KEY", "test"),
            ("EZM__CONSOLE__S3_PREFIX", prefix),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("moto log ({}):\n{}", self.log.display(), self.log_text());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}
