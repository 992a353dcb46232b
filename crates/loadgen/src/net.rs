//! Networking helpers: loopback-only targets, source-address spreading, the file-descriptor limit, and opening one
//! agent WebSocket from a chosen source address.
//!
//! One source IP has about 28,000 ephemeral ports towards one destination, so connections are spread round-robin over
//! 127.0.0.1, 127.0.0.2, … (all of 127.0.0.0/8 is local on Linux). The load generator only ever sends to loopback.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// Default number of connections per loopback source address.
pub const CONNS_PER_SOURCE_IP: u64 = 20_000;

pub type Ws = WebSocketStream<TcpStream>;

/// Host and port of a `ws://` URL.
pub fn ws_host_port(url: &str) -> anyhow::Result<(String, u16)> {
    let uri: Uri = url.parse().with_context(|| format!("--url {url:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("ws") => {}
        Some("wss") => bail!("wss:// is not supported by the load generator; point it at the plain ws:// listener"),
        _ => bail!("--url must start with ws:// (got {url:?})"),
    }
    let host = uri.host().context("--url has no host")?.trim_start_matches('[').trim_end_matches(']').to_owned();
    Ok((host, uri.port_u16().unwrap_or(80)))
}

/// Resolves `host:port` and insists that every address is loopback: this tool never sends traffic elsewhere.
pub async fn resolve_loopback(host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await.with_context(|| format!("cannot resolve {host}:{port}"))?.collect();
    if addrs.is_empty() {
        bail!("{host}:{port} resolves to nothing");
    }
    if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        bail!("{host}:{port} resolves to {bad}, which is not a loopback address; the load generator only targets 127.0.0.0/8 or ::1");
    }
    // Prefer IPv4 so that connections can be spread over 127.0.0.x source addresses.
    Ok(addrs.iter().find(|a| a.is_ipv4()).copied().unwrap_or(addrs[0]))
}

/// The source addresses to bind: the given list (each must be loopback and of the destination's family), or as
/// many 127.0.0.x as `agents / per_ip` needs. An empty result means "let the kernel choose" (IPv6 destination).
pub fn source_ips(given: Option<&str>, agents: u64, per_ip: u64, dest: SocketAddr) -> anyhow::Result<Vec<IpAddr>> {
    if let Some(list) = given {
        let mut ips = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let ip: IpAddr = item.parse().with_context(|| format!("--source-ips: {item:?} is not an IP address"))?;
            if !ip.is_loopback() {
                bail!("--source-ips: {ip} is not a loopback address");
            }
            if ip.is_ipv4() != dest.is_ipv4() {
                bail!("--source-ips: {ip} is not of the same family as the destination {dest}");
            }
            ips.push(ip);
        }
        if ips.is_empty() {
            bail!("--source-ips is empty");
        }
        return Ok(ips);
    }
    if !dest.is_ipv4() {
        return Ok(Vec::new());
    }
    let count = agents.div_ceil(per_ip.max(1)).clamp(1, 250);
    Ok((1..=count as u8).map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).collect())
}

/// Raises RLIMIT_NOFILE: the soft limit to the hard limit, and (as root) the hard limit too when `wanted` is more.
/// Returns the soft limit now in force.
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on 64-bit Linux but not on every target
pub fn raise_nofile_limit(wanted: u64) -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass; RLIMIT_NOFILE is a valid resource.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if (lim.rlim_max as u64) < wanted {
            let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(1_048_576);
            let target = wanted.min(nr_open) as libc::rlim_t;
            let raised = libc::rlimit { rlim_cur: target, rlim_max: target };
            if target > lim.rlim_max && libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return Some(target as u64);
            }
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return Some(lim.rlim_max as u64);
            }
        }
        Some(lim.rlim_cur as u64)
    }
}

/// WebSocket settings: no limit below what the server may send (64 MiB messages, as tungstenite's default).
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig { max_message_size: Some(64 << 20), max_frame_size: Some(64 << 20), ..Default::default() }
}

/// A TCP socket bound to `source` (port chosen at connect time, so each source IP can reach the whole port range).
fn bound_socket(dest: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let domain = if dest.is_ipv4() { Domain::IPV4 } else { Domain::IPV6 };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_nodelay(true)?;
    if let Some(ip) = source {
        set_bind_address_no_port(&socket);
        socket.bind(&SocketAddr::new(ip, 0).into())?;
    }
    Ok(TcpSocket::from_std_stream(std::net::TcpStream::from(socket)))
}

/// IP_BIND_ADDRESS_NO_PORT (Linux): defer the port choice from bind() to connect(). Best effort.
fn set_bind_address_no_port(socket: &socket2::Socket) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket fd, a valid option and a pointer to a c_int of the stated size.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
}

/// Opens one agent connection: TCP from `source` to `dest`, then the WebSocket handshake for `url`.
/// Errors are returned as short texts for the summary.
pub async fn connect(url: &str, dest: SocketAddr, source: Option<IpAddr>, timeout: Duration) -> Result<Ws, String> {
    let socket = bound_socket(dest, source).map_err(|e| format!("socket/bind {source:?}: {e}"))?;
    let stream = match tokio::time::timeout(timeout, socket.connect(dest)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("tcp connect {dest}: {e}")),
        Err(_) => return Err(format!("tcp connect {dest}: timed out after {timeout:?}")),
    };
    match tokio::time::timeout(timeout, tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config()))).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(e)) => Err(format!("websocket handshake: {e}")),
        Err(_) => Err(format!("websocket handshake: timed out after {timeout:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_source_addresses() {
        assert_eq!(ws_host_port("ws://127.0.0.1:9190/chat").ok(), Some(("127.0.0.1".into(), 9190)));
        assert_eq!(ws_host_port("ws://localhost").ok(), Some(("localhost".into(), 80)));
        assert!(ws_host_port("http://127.0.0.1:1").is_err());
        assert!(ws_host_port("wss://127.0.0.1:1").is_err());

        let dest: SocketAddr = "127.0.0.1:9190".parse().expect("addr");
        let ips = source_ips(None, 50_000, CONNS_PER_SOURCE_IP, dest).expect("default");
        assert_eq!(ips.len(), 3);
        assert_eq!(ips[2], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)));
        assert_eq!(source_ips(None, 10, CONNS_PER_SOURCE_IP, dest).expect("default").len(), 1);
        assert!(source_ips(Some("127.0.0.9, 127.0.1.1"), 1, 1, dest).is_ok());
        assert!(source_ips(Some("10.0.0.1"), 1, 1, dest).is_err());
        assert!(source_ips(Some("::1"), 1, 1, dest).is_err());
    }

    #[tokio::test]
    async fn only_loopback_targets_are_accepted() {
        assert!(resolve_loopback("127.0.0.1", 1).await.is_ok());
        assert!(resolve_loopback("192.0.2.1", 1).await.is_err());
    }
}
