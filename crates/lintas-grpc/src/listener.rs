//! The accept loop's defences: what a stranger who never completes TLS, or a
//! peer that opens connections and goes quiet, can make the node spend.
//!
//! Every accepted TCP connection takes a slot of the overall cap and of its
//! source address's cap, released when the connection closes; a connection
//! over either cap is closed at once. A connection on which nothing arrives
//! for the idle timeout is closed: HTTP/2 keepalive pings (answered by every
//! live client) keep busy and quietly streaming connections alive, so only
//! silent ones reach it. The TLS handshake has its own, shorter, timeout
//! (set on the TLS acceptor). Nagle's algorithm is off on every accepted
//! socket.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// What the accept loop allows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Open connections in all.
    pub total: usize,
    /// Open connections from one source address.
    pub per_address: usize,
    /// Close a connection after this long without a byte from the client.
    pub idle: Duration,
}

/// Open connections per source address.
#[derive(Debug, Default)]
struct PerAddress {
    open: Mutex<BTreeMap<IpAddr, usize>>,
}

impl PerAddress {
    fn take(self: &Arc<Self>, address: IpAddr, cap: usize) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(address).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: Arc::clone(self),
            address,
        })
    }
}

/// One connection's place in its address's count, given back on drop.
#[derive(Debug)]
struct AddressSlot {
    table: Arc<PerAddress>,
    address: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// An accepted connection holding its slots, closed when idle too long.
#[derive(Debug)]
pub(crate) struct GuardedStream {
    stream: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _total: OwnedSemaphorePermit,
    _address: AddressSlot,
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    let next = Instant::now() + self.idle;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(result)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl Connected for GuardedStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

/// The accepted connections of `listener` that fit the limits; the others
/// are closed as they arrive (and counted in the log at debug level).
pub(crate) fn guarded(
    listener: TcpListener,
    limits: ConnectionLimits,
) -> impl Stream<Item = io::Result<GuardedStream>> {
    let total = Arc::new(Semaphore::new(limits.total.max(1)));
    let per_address = Arc::new(PerAddress::default());
    accept_loop(listener, move |stream: TcpStream| {
        let address = stream.peer_addr().ok()?.ip();
        let Ok(total) = Arc::clone(&total).try_acquire_owned() else {
            tracing::debug!(%address, "connection refused: the node's connection cap is reached");
            return None;
        };
        let Some(slot) = per_address.take(address, limits.per_address.max(1)) else {
            tracing::debug!(%address, "connection refused: this address's connection cap is reached");
            return None;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%address, error = %e, "TCP_NODELAY not set");
        }
        Some(GuardedStream {
            stream,
            idle: limits.idle,
            deadline: Box::pin(tokio::time::sleep(limits.idle)),
            _total: total,
            _address: slot,
        })
    })
}

/// Accepts from `listener`, yielding what `admit` lets in; a connection it
/// refuses is dropped (closed) at once. The stream owns the listener, so
/// the port is released as soon as the server drops it; accept errors go
/// to the server's accept loop, which logs them and goes on.
fn accept_loop(
    listener: TcpListener,
    admit: impl Fn(TcpStream) -> Option<GuardedStream> + Send + 'static,
) -> impl Stream<Item = io::Result<GuardedStream>> {
    use tokio_stream::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).filter_map(move |accepted| {
        match accepted {
            Ok(stream) => admit(stream).map(Ok),
            Err(e) => Some(Err(e)),
        }
    })
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_stream::StreamExt;

    use super::*;

    async fn setup(
        limits: ConnectionLimits,
    ) -> (
        std::net::SocketAddr,
        impl Stream<Item = io::Result<GuardedStream>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        (addr, guarded(listener, limits))
    }

    #[tokio::test]
    async fn a_silent_connection_is_closed_and_a_talking_one_is_kept() {
        let limits = ConnectionLimits {
            total: 8,
            per_address: 8,
            idle: Duration::from_millis(300),
        };
        let (addr, incoming) = setup(limits).await;
        let mut incoming = Box::pin(incoming);
        let _quiet = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut talker = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut quiet_side = incoming
            .next()
            .await
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("accepted"));
        let mut talking_side = incoming
            .next()
            .await
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("accepted"));

        let started = Instant::now();
        let mut buf = [0u8; 8];
        let quiet = quiet_side.read(&mut buf).await;
        assert_eq!(quiet.map_err(|e| e.kind()), Err(io::ErrorKind::TimedOut));
        assert!(started.elapsed() >= Duration::from_millis(250));

        // A byte every 100 ms keeps the other one open past the timeout.
        for _ in 0..6 {
            talker
                .write_all(b"x")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let n = talking_side
                .read(&mut buf)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(n, 1);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test]
    async fn connections_over_the_caps_are_closed_and_slots_come_back() {
        let limits = ConnectionLimits {
            total: 100,
            per_address: 2,
            idle: Duration::from_secs(60),
        };
        let (addr, incoming) = setup(limits).await;
        // The server polls its accept stream all the time: so does this.
        let (tx, mut admitted) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut incoming = Box::pin(incoming);
            while let Some(conn) = incoming.next().await {
                if tx.send(conn).is_err() {
                    return;
                }
            }
        });
        let connect = || async {
            TcpStream::connect(addr)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let first = connect().await;
        let _second = connect().await;
        let a = admitted.recv().await;
        let _b = admitted.recv().await;
        // The third is over the address's cap: closed by the node.
        let mut third = connect().await;
        let mut buf = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buf)).await;
        assert!(matches!(n, Ok(Ok(0) | Err(_))), "{n:?}");
        // Closing one gives its slot back.
        drop(a);
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _fourth = connect().await;
        let fourth = tokio::time::timeout(Duration::from_secs(2), admitted.recv()).await;
        assert!(matches!(fourth, Ok(Some(Ok(_)))), "{fourth:?}");
    }
}
