//! TLS to MySQL (`console_mysql.tls` / `logs_mysql.tls`) against a real server that requires it: a private
//! MariaDB instance (`require_secure_transport=ON`, a certificate from a test CA made with openssl) on a free
//! loopback port, set up and removed by the test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::settings::{MysqlSettings, Settings};
use mysql_async::prelude::Queryable;

struct TlsServer {
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = std::env::temp_dir().join(format!("ezm-mysql-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let run = |cmd: &mut Command| {
            let out = cmd.current_dir(&dir).stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
            assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        // A CA, and a server certificate for 127.0.0.1 / localhost signed by it.
        run(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ezm test CA",
        ]));
        run(Command::new("openssl").args(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]));
        std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
        run(Command::new("openssl").args([
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]));
        let data = dir.join("data");
        run(Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display())));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let path = |name: &str| dir.join(name).display().to_string();
        let child = Command::new("/usr/sbin/mariadbd")
            .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1", "--skip-log-bin", "--require-secure-transport=ON"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", path("sock")))
            .arg(format!("--pid-file={}", path("pid")))
            .arg(format!("--ssl-ca={}", path("ca.pem")))
            .arg(format!("--ssl-cert={}", path("server.pem")))
            .arg(format!("--ssl-key={}", path("server.key")))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
            .spawn()
            .expect("mariadbd (Debian package mariadb-server) runs");
        TlsServer { dir, port, child }
    }

    fn settings(&self, tls: &str, ca: Option<&Path>) -> MysqlSettings {
        let mut env: HashMap<String, String> = [
            ("EZM__CONSOLE_MYSQL__HOST", "127.0.0.1".to_owned()),
            ("EZM__CONSOLE_MYSQL__PORT", self.port.to_string()),
            ("EZM__CONSOLE_MYSQL__DATABASE", "mysql".to_owned()),
            ("EZM__CONSOLE_MYSQL__TLS", tls.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let Some(ca) = ca {
            env.insert("EZM__CONSOLE_MYSQL__TLS_CA_FILE".into(), ca.display().to_string());
        }
        Settings::load(&env).expect("settings").console_mysql
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Connects once; returns the session's TLS cipher (empty when the connection is not encrypted).
async fn cipher(settings: &MysqlSettings) -> Result<String, mysql_async::Error> {
    let pool = common::mysql::pool(settings);
    let result = async {
        let mut conn = pool.get_conn().await?;
        let row: Option<(String, String)> = conn.query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'").await?;
        Ok(row.map(|(_, v)| v).unwrap_or_default())
    }
    .await;
    let _ = pool.disconnect().await;
    result
}

#[tokio::test]
async fn tls_modes_against_a_server_that_requires_tls() {
    let server = TlsServer::start();
    let ca = server.dir.join("ca.pem");
    // wait until the server accepts TLS connections
    let mut ready = false;
    for _ in 0..100 {
        if cipher(&server.settings("required", None)).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = || std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
    assert!(ready, "the TLS MariaDB did not come up:\n{}", log());

    let encrypted = cipher(&server.settings("required", None)).await.unwrap();
    assert!(!encrypted.is_empty(), "tls = required encrypts");
    let verified = cipher(&server.settings("verify_identity", Some(&ca))).await.unwrap();
    assert!(!verified.is_empty(), "tls = verify_identity with the CA file connects, encrypted");

    let err = cipher(&server.settings("verify_identity", None)).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("certificate"), "an unknown CA is refused: {err}");
    let err = cipher(&server.settings("disabled", None)).await.unwrap_err();
    assert!(matches!(err, mysql_async::Error::Server(_)), "the server refuses plain TCP: {err}");

    let bad = Settings::load(&[("EZM__LOGS_MYSQL__TLS".to_owned(), "sometimes".to_owned())].into()).unwrap_err();
    assert!(bad.to_string().contains("tls") || bad.to_string().contains("variant"), "{bad}");
}
