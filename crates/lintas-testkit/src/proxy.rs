//! A TCP proxy that misbehaves on purpose, for fault tests: it cuts
//! connections after a random lifetime, delays what it forwards, refuses
//! connections while it is "down", and spreads connections over several
//! backends with failover, as a load balancer in front of an agency's
//! replicas does.
//!
//! ```no_run
//! # async fn demo(node: std::net::SocketAddr) -> std::io::Result<()> {
//! use lintas_testkit::proxy::{FaultyProxy, ProxyFaults};
//! let proxy = FaultyProxy::start(vec![node], ProxyFaults::cutting(30, 300)).await?;
//! // Point the peers at proxy.addr() instead of the node.
//! proxy.set_down(true); // the node is unreachable until set_down(false)
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to each connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProxyFaults {
    /// Cut each connection after a lifetime drawn uniformly from this
    /// range of milliseconds; `None` keeps connections.
    pub cut_after_ms: Option<(u64, u64)>,
    /// Hold each forwarded chunk for up to this many milliseconds (drawn
    /// per chunk); 0 forwards at once.
    pub delay_ms: u64,
}

impl ProxyFaults {
    /// Cuts each connection after `min..=max` milliseconds.
    pub fn cutting(min: u64, max: u64) -> Self {
        ProxyFaults {
            cut_after_ms: Some((min, max.max(min))),
            delay_ms: 0,
        }
    }
}

#[derive(Debug)]
struct State {
    backends: Vec<SocketAddr>,
    faults: ProxyFaults,
    down: AtomicBool,
    next: AtomicUsize,
    connections: AtomicU64,
    cuts: AtomicU64,
    refused: AtomicU64,
}

/// The running proxy; it stops accepting when dropped (connections already
/// open run on until they end or are cut).
#[derive(Debug)]
pub struct FaultyProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl FaultyProxy {
    /// Listens on a free loopback port and forwards to `backends`.
    ///
    /// # Errors
    /// No port could be bound.
    pub async fn start(backends: Vec<SocketAddr>, faults: ProxyFaults) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Self::start_on(listener, backends, faults)
    }

    /// Forwards what `listener` accepts to `backends` (for a proxy whose
    /// address must be known before its backends exist).
    ///
    /// # Errors
    /// The listener has no local address.
    pub fn start_on(
        listener: TcpListener,
        backends: Vec<SocketAddr>,
        faults: ProxyFaults,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            backends,
            faults,
            down: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            connections: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let me = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if me.down.load(Ordering::SeqCst) {
                    me.refused.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                tokio::spawn(Arc::clone(&me).serve(client));
            }
        });
        Ok(FaultyProxy {
            addr,
            state,
            accept,
        })
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// While down, new connections are closed as they arrive (the target
    /// looks unreachable); connections already open are not touched.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Connections forwarded so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Connections the proxy cut at the end of their lifetime.
    pub fn cuts(&self) -> u64 {
        self.state.cuts.load(Ordering::SeqCst)
    }

    /// Connections closed on arrival while down or with no backend up.
    pub fn refused(&self) -> u64 {
        self.state.refused.load(Ordering::SeqCst)
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl State {
    /// The first backend that accepts, starting from the next in turn.
    async fn connect(&self) -> Option<TcpStream> {
        let n = self.backends.len();
        let first = self.next.fetch_add(1, Ordering::SeqCst);
        for i in 0..n {
            if let Ok(stream) = TcpStream::connect(self.backends[(first + i) % n]).await {
                return Some(stream);
            }
        }
        None
    }

    async fn serve(self: Arc<Self>, client: TcpStream) {
        let Some(server) = self.connect().await else {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return;
        };
        self.connections.fetch_add(1, Ordering::SeqCst);
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let delay = self.faults.delay_ms;
        let both = async {
            tokio::join!(
                pump(client_read, server_write, delay),
                pump(server_read, client_write, delay)
            )
        };
        match self.faults.cut_after_ms {
            Some((min, max)) => {
                let life = Duration::from_millis(fastrand::u64(min..=max));
                if tokio::time::timeout(life, both).await.is_err() {
                    self.cuts.fetch_add(1, Ordering::SeqCst);
                }
            }
            None => {
                both.await;
            }
        }
    }
}

/// Copies one direction until end of stream or an error, holding each
/// chunk for up to `delay_ms`; shuts the writing side down at the end.
async fn pump(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin, delay_ms: u64) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=delay_ms))).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = stream.into_split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn round_trip(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(b"lintas").await?;
        let mut got = vec![0u8; 6];
        stream.read_exact(&mut got).await?;
        Ok(got)
    }

    #[tokio::test]
    async fn forwards_fails_over_refuses_while_down_and_cuts() {
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            l.local_addr().unwrap_or_else(|e| panic!("{e}"))
        };
        let live = echo_server().await;
        let proxy = FaultyProxy::start(
            vec![dead, live],
            ProxyFaults {
                cut_after_ms: None,
                delay_ms: 5,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..3 {
            let got = round_trip(proxy.addr())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, b"lintas");
        }
        assert_eq!(proxy.connections(), 3);

        proxy.set_down(true);
        assert!(round_trip(proxy.addr()).await.is_err());
        assert_eq!(proxy.refused(), 1);
        proxy.set_down(false);

        let cutting = FaultyProxy::start(vec![live], ProxyFaults::cutting(20, 20))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stream = TcpStream::connect(cutting.addr())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "cut: {read:?}");
        assert_eq!(cutting.cuts(), 1);
    }
}
