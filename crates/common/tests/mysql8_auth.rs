//! Our MySQL pools against MySQL 8's default authentication plugin, `caching_sha2_password`.
//!
//! The original Node.js system failed there with ER_NOT_SUPPORTED_AUTH_MODE. No MySQL 8 server can run on the test
//! machines (MariaDB has no such plugin), so these tests start a small fake MySQL 8 server that speaks the real wire
//! protocol for the connection phase (HandshakeV10, HandshakeResponse41, the caching_sha2_password exchanges over
//! plain TCP) and for the few commands a pooled connection sends, and drive it through `common::mysql`.
//!
//! Protocol reference: the MySQL source's "Client/Server Protocol" pages (connection phase, caching_sha2_password,
//! COM_QUERY text result sets). Only what mysql_async needs is implemented: no TLS, no compression, no packets of
//! 16 MiB or more.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::settings::{MysqlSettings, MysqlTls};
use mysql_async::prelude::Queryable;
use rand::Rng;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{Oaep, RsaPrivateKey};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const USER: &str = "ezm";
const PASSWORD: &str = "s3cret-pässword";
const DATABASE: &str = "xprofiler_console";

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

/// First connection after a server start: the cache is empty, so the server demands full authentication (0x01 0x04);
/// over plain TCP the client asks for the RSA public key and sends the password encrypted with it.
#[tokio::test]
async fn full_authentication_over_plain_tcp_then_queries_work() {
    let server = FakeMysql8::start().await;
    // One connection at most, so that everything below happens on the same one.
    let pool = common::mysql::pool(&server.settings(PASSWORD, 1));

    common::mysql::ping(&pool).await.expect("ping (SELECT 1) through the pool");
    let mut conn = pool.get_conn().await.expect("pooled connection");
    let one: Option<u64> = conn.query_first("SELECT 1").await.expect("SELECT 1");
    assert_eq!(one, Some(1));
    conn.ping().await.expect("COM_PING");
    let id = conn.id();
    drop(conn);
    pool.disconnect().await.expect("pool disconnect");

    let seen = server.wait_for(id, |s| s.contains(&Seen::Quit)).await;
    assert_eq!(
        seen[..4],
        [
            Seen::Login { user: USER.into(), db: Some(DATABASE.into()), plugin: "caching_sha2_password".into() },
            Seen::FullAuthRequested,
            Seen::PublicKeyRequested,
            Seen::Authenticated,
        ],
        "{seen:#?}"
    );
    assert!(!seen.contains(&Seen::SslRequest), "no TLS was configured, none must be attempted: {seen:#?}");
    // What the pool sends after connecting: mysql_async reads max_allowed_packet (wait_timeout comes from our opts),
    // our ping's SELECT 1, the test's SELECT 1 and COM_PING, and COM_QUIT on disconnect; no COM_RESET_CONNECTION
    // when the connection goes back to the pool (it would drop the prepared statements, `common::mysql`).
    let commands: Vec<&Seen> = seen[4..].iter().collect();
    assert_eq!(
        commands,
        [&Seen::Query("SELECT @@max_allowed_packet".into()), &Seen::Query("SELECT 1".into()), &Seen::Query("SELECT 1".into()), &Seen::Ping, &Seen::Quit,],
        "{seen:#?}"
    );
    assert!(!seen.contains(&Seen::ResetConnection), "{seen:#?}");
}

/// Second connection: the server has the account in its cache, checks the scramble and answers 0x01 0x03 (fast
/// authentication success) followed by OK; no RSA key is involved.
#[tokio::test]
async fn fast_authentication_on_the_second_connection() {
    let server = FakeMysql8::start().await;
    let pool = common::mysql::pool(&server.settings(PASSWORD, 2));

    let mut first = pool.get_conn().await.expect("first connection");
    // Held while asking again, so the pool has to open a second connection.
    let mut second = pool.get_conn().await.expect("second connection");
    assert_ne!(first.id(), second.id());
    let one: Option<u64> = second.query_first("SELECT 1").await.expect("SELECT 1 on the second connection");
    assert_eq!(one, Some(1));
    first.ping().await.expect("COM_PING on the first connection");
    let (first_id, second_id) = (first.id(), second.id());
    drop((first, second));
    common::mysql::ping(&pool).await.expect("ping through the pool");
    pool.disconnect().await.expect("pool disconnect");

    let seen = server.wait_for(first_id, |s| s.contains(&Seen::Authenticated)).await;
    assert_eq!(seen[1..4], [Seen::FullAuthRequested, Seen::PublicKeyRequested, Seen::Authenticated], "{seen:#?}");
    let seen = server.wait_for(second_id, |s| s.contains(&Seen::Authenticated)).await;
    assert_eq!(seen[1..3], [Seen::FastAuthSuccess, Seen::Authenticated], "{seen:#?}");
    assert!(!seen.contains(&Seen::PublicKeyRequested), "{seen:#?}");
    assert_eq!(seen[3], Seen::Query("SELECT @@max_allowed_packet".into()), "{seen:#?}");
}

/// A wrong password ends in ERR 1045 whether the server has the account cached (the scramble does not match, so it
/// falls back to full authentication) or not, and our pool reports it as access denied.
#[tokio::test]
async fn wrong_password_is_access_denied() {
    let server = FakeMysql8::start().await;

    // Cold cache: full authentication with the RSA-encrypted wrong password.
    let bad = common::mysql::pool(&server.settings("not-the-password", 1));
    let err = tokio::time::timeout(Duration::from_secs(30), common::mysql::ping(&bad))
        .await
        .expect("the pool gives up instead of retrying")
        .expect_err("a wrong password must not connect");
    assert_access_denied(&err);

    // Warm the cache with a good login, then try the wrong password again: scramble mismatch, full auth, denied.
    let good = common::mysql::pool(&server.settings(PASSWORD, 1));
    common::mysql::ping(&good).await.expect("the right password connects");
    let err = common::mysql::ping(&bad).await.expect_err("still wrong with a warm cache");
    assert_access_denied(&err);
    good.disconnect().await.expect("disconnect");
    bad.disconnect().await.expect("disconnect");

    let denied = server.all().into_iter().filter(|(_, s)| *s == Seen::AccessDenied).count();
    assert_eq!(denied, 2);
    let fast = server.all().into_iter().filter(|(_, s)| *s == Seen::FastAuthSuccess).count();
    assert_eq!(fast, 0, "a wrong scramble must never get the fast path");
}

/// `ensure_database` connects without a default schema (no CLIENT_CONNECT_WITH_DB) and creates the database.
#[tokio::test]
async fn ensure_database_authenticates_without_a_schema() {
    let server = FakeMysql8::start().await;
    common::mysql::ensure_database(&server.settings(PASSWORD, 1)).await.expect("ensure_database");

    let all = server.all();
    let id = all.first().expect("one connection").0;
    let seen = server.wait_for(id, |s| s.contains(&Seen::Quit)).await;
    assert_eq!(seen[0], Seen::Login { user: USER.into(), db: None, plugin: "caching_sha2_password".into() });
    assert_eq!(seen[1..4], [Seen::FullAuthRequested, Seen::PublicKeyRequested, Seen::Authenticated]);
    assert!(seen.contains(&Seen::Query(format!("CREATE DATABASE IF NOT EXISTS `{DATABASE}` DEFAULT CHARACTER SET utf8mb4"))));
}

fn assert_access_denied(err: &mysql_async::Error) {
    let text = err.to_string();
    assert!(text.contains("Access denied for user 'ezm'"), "unclear error: {text}");
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1045, "28000"), "{e:?}");
        }
        other => panic!("expected the server's ERR 1045, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The fake MySQL 8 server
// ---------------------------------------------------------------------------------------------------------------

/// What the server saw on one connection, in order.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// The client asked to switch to TLS (an SSLRequest instead of a HandshakeResponse41).
    SslRequest,
    /// HandshakeResponse41.
    Login {
        user: String,
        db: Option<String>,
        plugin: String,
    },
    /// AuthMoreData 0x03 sent (scramble matched the cache).
    FastAuthSuccess,
    /// AuthMoreData 0x04 sent (not cached or scramble mismatch).
    FullAuthRequested,
    /// The client sent 0x02 (request_public_key).
    PublicKeyRequested,
    /// OK sent: the connection phase is over.
    Authenticated,
    /// ERR 1045 sent.
    AccessDenied,
    Query(String),
    Ping,
    ResetConnection,
    Quit,
}

// Capability flags (include/mysql_com.h).
const CLIENT_LONG_PASSWORD: u32 = 1;
const CLIENT_FOUND_ROWS: u32 = 1 << 1;
const CLIENT_LONG_FLAG: u32 = 1 << 2;
const CLIENT_CONNECT_WITH_DB: u32 = 1 << 3;
const CLIENT_LOCAL_FILES: u32 = 1 << 7;
const CLIENT_PROTOCOL_41: u32 = 1 << 9;
const CLIENT_SSL: u32 = 1 << 11;
const CLIENT_TRANSACTIONS: u32 = 1 << 13;
const CLIENT_SECURE_CONNECTION: u32 = 1 << 15;
const CLIENT_MULTI_STATEMENTS: u32 = 1 << 16;
const CLIENT_MULTI_RESULTS: u32 = 1 << 17;
const CLIENT_PS_MULTI_RESULTS: u32 = 1 << 18;
const CLIENT_PLUGIN_AUTH: u32 = 1 << 19;
const CLIENT_CONNECT_ATTRS: u32 = 1 << 20;
const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
const CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 1 << 22;
const CLIENT_DEPRECATE_EOF: u32 = 1 << 24;

/// What MySQL 8 announces without TLS, less what this fake does not implement (compression, session tracking,
/// query attributes, optional metadata).
const SERVER_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_FOUND_ROWS
    | CLIENT_LONG_FLAG
    | CLIENT_CONNECT_WITH_DB
    | CLIENT_LOCAL_FILES
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_STATEMENTS
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH
    | CLIENT_CONNECT_ATTRS
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
    | CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS
    | CLIENT_DEPRECATE_EOF;

const SERVER_STATUS_AUTOCOMMIT: u16 = 0x0002;
const UTF8MB4_0900_AI_CI: u8 = 255;
const BINARY_COLLATION: u16 = 63;
const MYSQL_TYPE_LONGLONG: u8 = 0x08;
const MAX_ALLOWED_PACKET: u64 = 64 * 1024 * 1024;

// Commands (first byte of a command packet).
const COM_QUIT: u8 = 0x01;
const COM_QUERY: u8 = 0x03;
const COM_PING: u8 = 0x0e;
const COM_RESET_CONNECTION: u8 = 0x1f;

/// One RSA key pair for the whole test binary (key generation is slow in debug builds). MySQL 8 generates a
/// 2048-bit pair at first start (caching_sha2_password_auto_generate_rsa_keys).
fn rsa_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation"))
}

struct FakeMysql8 {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<(u32, Seen)>>>,
}

/// Server-wide state shared by the connection tasks.
struct State {
    /// The caching_sha2_password cache: user -> SHA256(SHA256(password)), filled by a successful full
    /// authentication, as the real server does.
    cache: Mutex<HashMap<String, [u8; 32]>>,
    next_connection_id: AtomicU32,
    seen: Arc<Mutex<Vec<(u32, Seen)>>>,
}

impl FakeMysql8 {
    async fn start() -> Self {
        rsa_key();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State { cache: Mutex::new(HashMap::new()), next_connection_id: AtomicU32::new(8), seen: seen.clone() });
        // Ends with the test's runtime.
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let id = state.next_connection_id.fetch_add(1, Ordering::Relaxed);
                    let mut conn = ServerConn { wire: Wire { stream, seq: 0 }, state, id, peer, caps: 0 };
                    // An error here only means the client went away; the tests assert on what was seen.
                    let _ = conn.serve().await;
                });
            }
        });
        FakeMysql8 { addr, seen }
    }

    fn settings(&self, password: &str, pool_max: usize) -> MysqlSettings {
        MysqlSettings {
            host: self.addr.ip().to_string(),
            port: self.addr.port(),
            user: USER.into(),
            password: password.to_owned().into(),
            database: DATABASE.into(),
            pool_max,
            // plain TCP, as MySQL 8 without TLS: the full authentication then needs the RSA key exchange
            tls: MysqlTls::Disabled,
            tls_ca_file: String::new(),
        }
    }

    fn all(&self) -> Vec<(u32, Seen)> {
        self.seen.lock().unwrap().clone()
    }

    /// What connection `id` saw, once `done` holds for it (the server task may lag behind the client a little).
    async fn wait_for(&self, id: u32, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        for _ in 0..200 {
            let seen: Vec<Seen> = self.all().into_iter().filter(|(c, _)| *c == id).map(|(_, s)| s).collect();
            if done(&seen) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("connection {id} never got there: {:#?}", self.all());
    }
}

/// MySQL packet framing: 3-byte little-endian payload length, 1-byte sequence id, payload.
struct Wire {
    stream: TcpStream,
    /// Sequence id of the next packet we write: one more than the last one read (commands restart at 0).
    seq: u8,
}

impl Wire {
    async fn read(&mut self) -> std::io::Result<Vec<u8>> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).await?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        self.seq = header[3].wrapping_add(1);
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).await?;
        Ok(payload)
    }

    async fn write(&mut self, payload: &[u8]) -> std::io::Result<()> {
        assert!(payload.len() < 0xff_ffff, "multi-packet payloads are not implemented");
        let mut packet = (payload.len() as u32).to_le_bytes();
        packet[3] = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.stream.write_all(&packet).await?;
        self.stream.write_all(payload).await
    }
}

struct ServerConn {
    wire: Wire,
    state: Arc<State>,
    id: u32,
    peer: SocketAddr,
    /// Capabilities the client chose in its HandshakeResponse41.
    caps: u32,
}

enum Auth {
    Ok,
    Denied,
}

impl ServerConn {
    fn saw(&self, what: Seen) {
        self.state.seen.lock().unwrap().push((self.id, what));
    }

    async fn serve(&mut self) -> std::io::Result<()> {
        if let Auth::Denied = self.connection_phase().await? {
            return Ok(());
        }
        self.command_phase().await
    }

    async fn connection_phase(&mut self) -> std::io::Result<Auth> {
        // Real servers use printable salt bytes, never 0 or '$'.
        let nonce: [u8; 20] = std::array::from_fn(|_| rand::thread_rng().gen_range(b'%'..=b'~'));
        self.wire.write(&handshake_v10(self.id, &nonce)).await?;

        let response = self.wire.read().await?;
        let mut r = Reader(&response);
        self.caps = r.u32();
        if response.len() == 32 && self.caps & CLIENT_SSL != 0 {
            // SSLRequest: a client that wants TLS sends only this much, then starts the TLS handshake.
            self.saw(Seen::SslRequest);
            return Ok(Auth::Denied);
        }
        // HandshakeResponse41.
        let _max_packet = r.u32();
        let _collation = r.u8();
        r.take(23);
        let user = String::from_utf8_lossy(r.nul_terminated()).into_owned();
        let auth_response = if self.caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            let n = r.lenenc_int() as usize;
            r.take(n)
        } else if self.caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = r.u8() as usize;
            r.take(n)
        } else {
            r.nul_terminated()
        }
        .to_vec();
        let db = (self.caps & CLIENT_CONNECT_WITH_DB != 0).then(|| String::from_utf8_lossy(r.nul_terminated()).into_owned());
        let plugin = if self.caps & CLIENT_PLUGIN_AUTH != 0 { String::from_utf8_lossy(r.nul_terminated()).into_owned() } else { String::new() };
        // (CLIENT_CONNECT_ATTRS would follow; not needed.)
        self.saw(Seen::Login { user: user.clone(), db, plugin: plugin.clone() });
        assert_eq!(plugin, "caching_sha2_password", "this fake does not implement AuthSwitchRequest");

        if user != USER {
            return self.deny(&user, !auth_response.is_empty()).await;
        }
        if auth_response.is_empty() {
            // An empty password: only right if the account has none.
            return if PASSWORD.is_empty() { self.authenticated().await } else { self.deny(&user, false).await };
        }

        // Fast path: the scramble is XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) || nonce)); with the cached
        // SHA256(SHA256(pw)) the server recovers SHA256(pw) and checks that it hashes to the cached value.
        let cached = self.state.cache.lock().unwrap().get(&user).copied();
        if let Some(stage2) = cached {
            let mask = Sha256::new().chain_update(stage2).chain_update(nonce).finalize();
            let stage1: Vec<u8> = auth_response.iter().zip(mask).map(|(a, b)| a ^ b).collect();
            if Sha256::digest(&stage1)[..] == stage2[..] {
                self.wire.write(&[0x01, 0x03]).await?; // AuthMoreData: fast_auth_success
                self.saw(Seen::FastAuthSuccess);
                return self.authenticated().await;
            }
        }

        // Full authentication (like MySQL 8 after a restart, FLUSH PRIVILEGES or on a scramble mismatch).
        self.wire.write(&[0x01, 0x04]).await?; // AuthMoreData: perform_full_authentication
        self.saw(Seen::FullAuthRequested);
        let mut packet = self.wire.read().await?;
        if packet == [0x02] {
            // request_public_key -> AuthMoreData carrying the PEM public key.
            self.saw(Seen::PublicKeyRequested);
            let pem = rsa_key().to_public_key().to_public_key_pem(LineEnding::LF).expect("PEM");
            let mut more_data = vec![0x01];
            more_data.extend_from_slice(pem.as_bytes());
            self.wire.write(&more_data).await?;
            packet = self.wire.read().await?;
        }
        // RSA-OAEP (SHA-1 MGF1, empty label; mysql_common's Pkcs1OaepPadding) of (password + NUL) XOR nonce.
        // A cleartext password (allowed over TLS or a Unix socket only) would not decrypt: denied as well.
        let password = rsa_key().decrypt(Oaep::new::<sha1::Sha1>(), &packet).ok().map(|mut plain| {
            plain.iter_mut().enumerate().for_each(|(i, b)| *b ^= nonce[i % nonce.len()]);
            plain
        });
        if password.as_deref() != Some([PASSWORD.as_bytes(), b"\0"].concat().as_slice()) {
            return self.deny(&user, true).await;
        }
        let stage2: [u8; 32] = Sha256::digest(Sha256::digest(PASSWORD)).into();
        self.state.cache.lock().unwrap().insert(user, stage2);
        self.authenticated().await
    }

    async fn authenticated(&mut self) -> std::io::Result<Auth> {
        self.wire.write(&ok_packet(0x00)).await?;
        self.saw(Seen::Authenticated);
        Ok(Auth::Ok)
    }

    async fn deny(&mut self, user: &str, using_password: bool) -> std::io::Result<Auth> {
        let message = format!("Access denied for user '{user}'@'{}' (using password: {})", self.peer.ip(), if using_password { "YES" } else { "NO" });
        self.wire.write(&err_packet(1045, "28000", &message)).await?; // ER_ACCESS_DENIED_ERROR
        self.saw(Seen::AccessDenied);
        Ok(Auth::Denied)
    }

    async fn command_phase(&mut self) -> std::io::Result<()> {
        loop {
            let packet = match self.wire.read().await {
                Ok(packet) => packet,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            };
            match packet.first() {
                Some(&COM_QUIT) => {
                    self.saw(Seen::Quit);
                    return Ok(());
                }
                Some(&COM_PING) => {
                    self.saw(Seen::Ping);
                    self.wire.write(&ok_packet(0x00)).await?;
                }
                Some(&COM_RESET_CONNECTION) => {
                    self.saw(Seen::ResetConnection);
                    self.wire.write(&ok_packet(0x00)).await?;
                }
                Some(&COM_QUERY) => {
                    let sql = String::from_utf8_lossy(&packet[1..]).into_owned();
                    self.saw(Seen::Query(sql.clone()));
                    self.query(&sql).await?;
                }
                _ => self.wire.write(&err_packet(1047, "08S01", "Unknown command")).await?,
            }
        }
    }

    /// COM_QUERY for the statements a pooled connection of ours sends.
    async fn query(&mut self, sql: &str) -> std::io::Result<()> {
        if sql == "SELECT 1" {
            return self.result_set(&[("1", "1")]).await;
        }
        if sql.starts_with("CREATE DATABASE IF NOT EXISTS ") {
            return self.wire.write(&ok_packet(0x00)).await;
        }
        // mysql_async's read_settings: `SELECT @@max_allowed_packet[,@@wait_timeout[,@@socket]]`.
        if let Some(vars) = sql.strip_prefix("SELECT @@") {
            let mut row = Vec::new();
            for name in vars.split(",@@") {
                let value = match name {
                    "max_allowed_packet" => MAX_ALLOWED_PACKET.to_string(),
                    "wait_timeout" => "28800".to_string(),
                    _ => {
                        let message = format!("Unknown system variable '{name}'");
                        return self.wire.write(&err_packet(1193, "HY000", &message)).await;
                    }
                };
                row.push((format!("@@{name}"), value));
            }
            let row: Vec<(&str, &str)> = row.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            return self.result_set(&row).await;
        }
        let message = format!("fake MySQL 8 server: unsupported query {sql:?}");
        self.wire.write(&err_packet(1105, "HY000", &message)).await
    }

    /// A one-row text result set of unsigned BIGINT columns: column count, ColumnDefinition41 per column, (EOF unless
    /// CLIENT_DEPRECATE_EOF), the row, then EOF or, with CLIENT_DEPRECATE_EOF, an OK packet with the 0xFE header.
    async fn result_set(&mut self, columns: &[(&str, &str)]) -> std::io::Result<()> {
        let mut count = Vec::new();
        put_lenenc_int(&mut count, columns.len() as u64);
        self.wire.write(&count).await?;
        for (name, _) in columns {
            self.wire.write(&column_definition41(name)).await?;
        }
        let deprecate_eof = self.caps & CLIENT_DEPRECATE_EOF != 0;
        if !deprecate_eof {
            self.wire.write(&eof_packet()).await?;
        }
        let mut row = Vec::new();
        for (_, value) in columns {
            put_lenenc_str(&mut row, value.as_bytes());
        }
        self.wire.write(&row).await?;
        if deprecate_eof {
            self.wire.write(&ok_packet(0xfe)).await
        } else {
            self.wire.write(&eof_packet()).await
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------------------------

/// Protocol::HandshakeV10, announcing caching_sha2_password with a 20-byte nonce (8 + 12 bytes, the second part
/// NUL-terminated).
fn handshake_v10(connection_id: u32, nonce: &[u8; 20]) -> Vec<u8> {
    let mut p = vec![10]; // protocol version
    p.extend_from_slice(b"8.4.3\0");
    p.extend_from_slice(&connection_id.to_le_bytes());
    p.extend_from_slice(&nonce[..8]); // auth-plugin-data-part-1
    p.push(0); // filler
    p.extend_from_slice(&(SERVER_CAPABILITIES as u16).to_le_bytes());
    p.push(UTF8MB4_0900_AI_CI);
    p.extend_from_slice(&SERVER_STATUS_AUTOCOMMIT.to_le_bytes());
    p.extend_from_slice(&((SERVER_CAPABILITIES >> 16) as u16).to_le_bytes());
    p.push(21); // length of auth-plugin-data, terminator included
    p.extend_from_slice(&[0; 10]); // reserved
    p.extend_from_slice(&nonce[8..]); // auth-plugin-data-part-2
    p.push(0);
    p.extend_from_slice(b"caching_sha2_password\0");
    p
}

/// OK_Packet (header 0x00), or with header 0xFE the OK that ends a result set under CLIENT_DEPRECATE_EOF.
fn ok_packet(header: u8) -> Vec<u8> {
    let mut p = vec![header, 0, 0]; // affected rows, last insert id (lenenc 0)
    p.extend_from_slice(&SERVER_STATUS_AUTOCOMMIT.to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes()); // warnings
    p
}

/// EOF_Packet (only without CLIENT_DEPRECATE_EOF).
fn eof_packet() -> Vec<u8> {
    let mut p = vec![0xfe];
    p.extend_from_slice(&0u16.to_le_bytes()); // warnings
    p.extend_from_slice(&SERVER_STATUS_AUTOCOMMIT.to_le_bytes());
    p
}

/// ERR_Packet with the CLIENT_PROTOCOL_41 SQL state.
fn err_packet(code: u16, sql_state: &str, message: &str) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend_from_slice(&code.to_le_bytes());
    p.push(b'#');
    p.extend_from_slice(sql_state.as_bytes());
    p.extend_from_slice(message.as_bytes());
    p
}

/// Protocol::ColumnDefinition41 of an expression column (no table), BIGINT UNSIGNED NOT NULL.
fn column_definition41(name: &str) -> Vec<u8> {
    let mut p = Vec::new();
    for s in ["def", "", "", "", name, ""] {
        put_lenenc_str(&mut p, s.as_bytes()); // catalog, schema, table, org_table, name, org_name
    }
    p.push(0x0c); // length of the fixed-length fields
    p.extend_from_slice(&BINARY_COLLATION.to_le_bytes());
    p.extend_from_slice(&21u32.to_le_bytes()); // column length
    p.push(MYSQL_TYPE_LONGLONG);
    p.extend_from_slice(&(0x0001u16 | 0x0020 | 0x0080).to_le_bytes()); // NOT_NULL | UNSIGNED | BINARY
    p.push(0); // decimals
    p.extend_from_slice(&[0, 0]); // filler
    p
}

fn put_lenenc_int(p: &mut Vec<u8>, n: u64) {
    match n {
        0..=250 => p.push(n as u8),
        251..=0xffff => {
            p.push(0xfc);
            p.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            p.push(0xfd);
            p.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            p.push(0xfe);
            p.extend_from_slice(&n.to_le_bytes());
        }
    }
}

fn put_lenenc_str(p: &mut Vec<u8>, s: &[u8]) {
    put_lenenc_int(p, s.len() as u64);
    p.extend_from_slice(s);
}

/// Reads the client's packets; panics (failing the connection task, hence the test) on a malformed one.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn lenenc_int(&mut self) -> u64 {
        match self.u8() {
            0xfc => u16::from_le_bytes(self.take(2).try_into().unwrap()).into(),
            0xfd => u32::from_le_bytes([self.take(3), &[0]].concat().try_into().unwrap()).into(),
            0xfe => u64::from_le_bytes(self.take(8).try_into().unwrap()),
            n => n.into(),
        }
    }
    fn nul_terminated(&mut self) -> &'a [u8] {
        let end = self.0.iter().position(|&b| b == 0).expect("NUL-terminated string");
        let s = self.take(end);
        self.take(1);
        s
    }
}
