//! The shipped nginx template in front of the real services, with the real agent: the agent connects through the
//! ws domain and uploads a profile larger than 1 MiB through the console domain (both by Host header, on
//! loopback), and the manager domain refuses an address outside its allow-list. nginx is rendered and started by
//! `nginx/test.sh --serve` (only ports and upstream addresses differ from the shipped defaults).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::Stack;
use crate::real_agent::{assets, start_node};

const CONSOLE: &str = "console.ezm.test";
const WS: &str = "ws.ezm.test";
const MANAGER: &str = "manager.ezm.test";

struct Nginx {
    port: u16,
    pidfile: String,
    dir: PathBuf,
}

impl Nginx {
    fn start(console_port: u16, ws_port: u16, manager_port: u16) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../nginx/test.sh");
        let out = Command::new(script)
            .arg("--serve")
            .env("NGINX_TEST_PORT", port.to_string())
            .env("NGINX_TEST_CONSOLE_PORT", console_port.to_string())
            .env("NGINX_TEST_WS_PORT", ws_port.to_string())
            .env("NGINX_TEST_MANAGER_PORT", manager_port.to_string())
            .env("NGINX_TEST_CONSOLE_DOMAIN", CONSOLE)
            .env("NGINX_TEST_WS_DOMAIN", WS)
            .env("NGINX_TEST_MANAGER_DOMAIN", MANAGER)
            .output()
            .expect("nginx/test.sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "nginx/test.sh --serve failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let value = |key: &str| stdout.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_else(|| panic!("no {key} in {stdout}")).to_owned();
        Nginx { port, pidfile: value("NGINX_TEST_PIDFILE"), dir: PathBuf::from(value("NGINX_TEST_DIR")) }
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pidfile) {
            let _ = Command::new("kill").args(["-QUIT", pid.trim()]).status();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// GET through nginx with a Host header, from a chosen loopback source address; returns the HTTP status.
async fn status_from(source: [u8; 4], port: u16, host: &str, path: &str) -> u16 {
    let client = reqwest::Client::builder().local_address(std::net::IpAddr::from(source)).build().unwrap();
    let r = client.get(format!("http://127.0.0.1:{port}{path}")).header("host", host).send().await.unwrap();
    r.status().as_u16()
}

#[actix_web::test]
async fn the_real_agent_works_through_nginx_by_domain() {
    let s = Stack::start(&[]).await;
    let console = s.start_console().await;
    let console_port: u16 = console.base.rsplit(':').next().unwrap().parse().unwrap();
    let manager_port: u16 = s.manager.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = Nginx::start(console_port, s.ws_port, manager_port);

    // The agent knows only the ws domain; a test hook resolves the test domains to loopback (NODE_OPTIONS, so the
    // agent's upload child has it too).
    let hook = format!("--require {}", assets().join("resolve.js").display());
    let env = [("NODE_OPTIONS", hook), ("EZM_TEST_HOSTS", format!("{WS},{CONSOLE}"))];
    let node = start_node(&format!("ws://{WS}:{}/", nginx.port), &env).await;
    s.eventually_within(30, "the agent is listed (connected through nginx)", || async { !s.clients().await.is_empty() }).await;
    // (The agent's only address is nginx's port; nginx logs the WebSocket request only when it closes.)
    let day = chrono::Local::now().format("%d").to_string();
    let rows = format!("SELECT COUNT(*) FROM process_{day} WHERE app = 1 AND pid = {}", node.app_pid);
    s.eventually_within(30, "the app's metrics arrive through nginx", || async { s.count(&rows).await >= 1 }).await;

    // A 3 MiB file of random bytes (gzip cannot shrink it below 1 MiB) uploaded through the console domain.
    let big = node.dir.join("x-heapsnapshot-big.cpuprofile");
    let mut bytes = vec![0u8; 3 << 20];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut bytes).unwrap();
    std::fs::write(&big, &bytes).unwrap();
    let path = big.display().to_string();
    let file_id = s.file_awaiting_upload(&path, "nginx-token").await;
    let stored = s.transfer(file_id, &path, &format!("http://{CONSOLE}:{}", nginx.port), "nginx-token").await;
    let size = std::fs::metadata(console.storage.join(&stored)).unwrap().len();
    assert!(size > 1 << 20, "stored {size} bytes");
    assert!(nginx.access_log().lines().any(|l| l.starts_with(CONSOLE) && l.contains("/xapi/upload_from_xtransit")), "the upload went through nginx");
    assert_eq!(s.file_status(file_id).await, (3, stored));

    // The manager domain: nginx's own host may use it; another address may not (127.0.0.2 is not on the list).
    assert_eq!(status_from([127, 0, 0, 1], nginx.port, MANAGER, "/healthz").await, 200);
    assert_eq!(status_from([127, 0, 0, 2], nginx.port, MANAGER, "/healthz").await, 403);
    assert_eq!(status_from([127, 0, 0, 2], nginx.port, WS, "/xapi/check_client_alive").await, 403);
    // Readiness details and counters likewise, on the public domains.
    assert_eq!(status_from([127, 0, 0, 2], nginx.port, WS, "/metrics").await, 403);
    assert_eq!(status_from([127, 0, 0, 2], nginx.port, CONSOLE, "/readyz").await, 403);
    assert_eq!(status_from([127, 0, 0, 1], nginx.port, WS, "/metrics").await, 200);
    assert_eq!(status_from([127, 0, 0, 2], nginx.port, CONSOLE, "/healthz").await, 200);
    // An unknown Host gets no answer at all (444: the connection is closed).
    let unknown = reqwest::Client::new().get(format!("http://127.0.0.1:{}/healthz", nginx.port)).header("host", "other.invalid").send().await;
    assert!(unknown.is_err(), "unknown host answered: {unknown:?}");

    node.stop().await;
    console.stop();
    drop(nginx);
    s.finish().await;
}
