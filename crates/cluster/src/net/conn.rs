//! Pieces shared by outbound and inbound connections: queued frames with their byte
//! reservations, the writer loop, and liveness tracking.
//!
//! Liveness: a connection records when it last received any byte and whether a write is
//! stuck. It is dead when nothing has been received for the liveness timeout while it was
//! not making progress writing either (a slow peer still reading a large frame is alive).
//! The connecting side asks for a ping when it has heard nothing for a ping interval; the
//! accepting side answers pings, so an idle but healthy connection is never silent for long.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufWriter, ReadBuf};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::wire::{Header, Kind, FRAME_OVERHEAD_BYTES, HEADER_BYTES};
use super::Verb;

/// Size of a connection's write buffer: small frames are coalesced up to this much before a
/// system call; larger bodies are written directly.
pub(crate) const WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// Large bodies are written in pieces of this size so that write progress is observable.
const WRITE_CHUNK_BYTES: usize = 256 * 1024;

/// A frame waiting to be written, with what it holds until then.
pub(crate) struct OutFrame {
    pub header: Header,
    pub body: Bytes,
    /// The bytes it occupies in an outbound lane queue, released when the frame is dropped.
    pub reservation: Option<Reservation>,
    /// The inbound in-flight slot of the request this frame answers, released when dropped.
    pub permit: Option<OwnedSemaphorePermit>,
}

impl OutFrame {
    pub fn new(header: Header, body: Bytes) -> OutFrame {
        OutFrame {
            header,
            body,
            reservation: None,
            permit: None,
        }
    }

    /// Bytes on the wire, framing included.
    pub fn wire_bytes(&self) -> usize {
        FRAME_OVERHEAD_BYTES + self.body.len()
    }
}

/// Bytes held in a lane queue; returned on drop.
pub(crate) struct Reservation {
    queued: Arc<AtomicUsize>,
    bytes: usize,
}

impl Reservation {
    /// Reserves `bytes` of `queued` under `limit_bytes`, or returns the bytes queued now. An
    /// empty queue accepts any single message so that a large one is never refused forever.
    pub fn try_new(
        queued: &Arc<AtomicUsize>,
        bytes: usize,
        limit_bytes: usize,
    ) -> Result<Reservation, usize> {
        let mut current = queued.load(Ordering::Acquire);
        loop {
            if current > 0 && current.saturating_add(bytes) > limit_bytes {
                return Err(current);
            }
            match queued.compare_exchange_weak(
                current,
                current + bytes,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Ok(Reservation {
                        queued: queued.clone(),
                        bytes,
                    })
                }
                Err(now) => current = now,
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.queued.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// A request for a control frame (ping or pong), coalesced: raising it twice before it is
/// served sends one frame.
#[derive(Default)]
pub(crate) struct Signal {
    wanted: AtomicBool,
    notify: Notify,
}

impl Signal {
    pub fn raise(&self) {
        if !self.wanted.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    fn take(&self) -> bool {
        self.wanted.swap(false, Ordering::AcqRel)
    }
}

/// When a connection last received bytes and whether its writer is stuck.
pub(crate) struct Liveness {
    origin: Instant,
    /// Milliseconds since `origin` (plus one) of the last byte received.
    last_rx_ms: AtomicU64,
    /// Milliseconds since `origin` (plus one) of the last write progress while a write is
    /// under way; 0 while the writer is idle.
    writing_since_ms: AtomicU64,
}

impl Liveness {
    pub fn new() -> Liveness {
        let liveness = Liveness {
            origin: Instant::now(),
            last_rx_ms: AtomicU64::new(0),
            writing_since_ms: AtomicU64::new(0),
        };
        liveness.received();
        liveness
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    pub fn received(&self) {
        self.last_rx_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn write_progressed(&self) {
        self.writing_since_ms
            .store(self.now_ms(), Ordering::Relaxed);
    }

    fn write_finished(&self) {
        self.writing_since_ms.store(0, Ordering::Relaxed);
    }

    /// How long nothing has been received.
    pub fn silent_for(&self) -> Duration {
        let last = self.last_rx_ms.load(Ordering::Relaxed);
        Duration::from_millis(self.now_ms().saturating_sub(last))
    }

    /// Whether the connection is dead by the rule in the module docs.
    pub fn is_dead(&self, timeout: Duration) -> bool {
        if self.silent_for() <= timeout {
            return false;
        }
        match self.writing_since_ms.load(Ordering::Relaxed) {
            0 => true,
            since => Duration::from_millis(self.now_ms().saturating_sub(since)) > timeout,
        }
    }
}

/// A reader that records in [`Liveness`] whenever bytes arrive.
pub(crate) struct ProgressReader<R> {
    inner: R,
    liveness: Arc<Liveness>,
}

impl<R> ProgressReader<R> {
    pub fn new(inner: R, liveness: Arc<Liveness>) -> ProgressReader<R> {
        ProgressReader { inner, liveness }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ProgressReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.liveness.received();
        }
        result
    }
}

/// Writes a raw length-prefixed frame (the handshake) and flushes.
pub(crate) async fn write_raw_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(frame.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(frame).await?;
    writer.flush().await
}

/// Writes one message frame into the buffered writer.
async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut BufWriter<W>,
    header: &Header,
    body: &[u8],
    liveness: &Liveness,
) -> io::Result<()> {
    let len = u32::try_from(HEADER_BYTES + body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut head = [0u8; FRAME_OVERHEAD_BYTES];
    head[..4].copy_from_slice(&len.to_be_bytes());
    head[4..].copy_from_slice(&header.encode());
    liveness.write_progressed();
    writer.write_all(&head).await?;
    for chunk in body.chunks(WRITE_CHUNK_BYTES) {
        writer.write_all(chunk).await?;
        liveness.write_progressed();
    }
    liveness.write_finished();
    Ok(())
}

async fn flush<W: AsyncWrite + Unpin>(
    writer: &mut BufWriter<W>,
    liveness: &Liveness,
) -> io::Result<()> {
    liveness.write_progressed();
    writer.flush().await?;
    liveness.write_finished();
    Ok(())
}

/// Hooks of the writer loop.
pub(crate) trait FrameSink {
    /// Called before a frame is written; `false` skips (drops) it.
    fn before_write(&mut self, frame: &OutFrame) -> bool;
    /// Called once the frame is in the write buffer.
    fn after_write(&mut self, frame: &OutFrame);
}

/// How a writer loop ended.
pub(crate) enum PumpEnd {
    /// The connection's token was cancelled.
    Cancelled,
    /// Every sender of the queue is gone.
    QueueClosed,
    /// Writing failed.
    Failed(io::Error),
}

/// What a writer loop needs to know about its connection.
pub(crate) struct WriterContext<'a> {
    /// The negotiated protocol version, stamped on every header written.
    pub version: u8,
    /// The connection's token: cancelling it ends the loop at its next wait.
    pub token: &'a CancellationToken,
    /// The connection's liveness record (write progress is noted in it).
    pub liveness: &'a Liveness,
    /// Raising this signal writes a control frame of this kind (ping or pong).
    pub control: (&'a Signal, Kind),
}

/// A connection's writer loop: writes `first`, then queued frames, flushing whenever the
/// queue is momentarily empty, and a control frame whenever the context's signal is raised.
pub(crate) async fn pump<W: AsyncWrite + Unpin, S: FrameSink>(
    writer: &mut BufWriter<W>,
    rx: &mut UnboundedReceiver<OutFrame>,
    mut first: Option<OutFrame>,
    context: WriterContext<'_>,
    sink: &mut S,
) -> PumpEnd {
    let WriterContext {
        version,
        token,
        liveness,
        control: (signal, control_kind),
    } = context;
    loop {
        if signal.take() {
            let header = Header {
                version,
                ..Header::new(control_kind, Verb(0), 0, 0)
            };
            let result = tokio::select! {
                biased;
                _ = token.cancelled() => return PumpEnd::Cancelled,
                result = write_frame(writer, &header, &[], liveness) => result,
            };
            if let Err(e) = result {
                return PumpEnd::Failed(e);
            }
        }
        let frame = match first.take() {
            Some(frame) => frame,
            None => match rx.try_recv() {
                Ok(frame) => frame,
                Err(TryRecvError::Disconnected) => {
                    let _ = flush(writer, liveness).await;
                    return PumpEnd::QueueClosed;
                }
                Err(TryRecvError::Empty) => {
                    let flushed = tokio::select! {
                        biased;
                        _ = token.cancelled() => return PumpEnd::Cancelled,
                        result = flush(writer, liveness) => result,
                    };
                    if let Err(e) = flushed {
                        return PumpEnd::Failed(e);
                    }
                    tokio::select! {
                        biased;
                        _ = token.cancelled() => return PumpEnd::Cancelled,
                        _ = signal.notify.notified() => continue,
                        frame = rx.recv() => match frame {
                            Some(frame) => frame,
                            None => return PumpEnd::QueueClosed,
                        },
                    }
                }
            },
        };
        if !sink.before_write(&frame) {
            continue;
        }
        let header = Header {
            version,
            ..frame.header
        };
        let result = tokio::select! {
            biased;
            _ = token.cancelled() => return PumpEnd::Cancelled,
            result = write_frame(writer, &header, &frame.body, liveness) => result,
        };
        if let Err(e) = result {
            return PumpEnd::Failed(e);
        }
        sink.after_write(&frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_respect_the_limit_and_release_on_drop() {
        let queued = Arc::new(AtomicUsize::new(0));
        let a = Reservation::try_new(&queued, 60, 100).unwrap();
        assert_eq!(Reservation::try_new(&queued, 50, 100).err(), Some(60));
        let b = Reservation::try_new(&queued, 40, 100).unwrap();
        assert_eq!(queued.load(Ordering::Acquire), 100);
        drop(a);
        drop(b);
        assert_eq!(queued.load(Ordering::Acquire), 0);
        // An empty queue takes one oversized message, and nothing more.
        let big = Reservation::try_new(&queued, 500, 100).unwrap();
        assert!(Reservation::try_new(&queued, 1, 100).is_err());
        drop(big);
        assert_eq!(queued.load(Ordering::Acquire), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn liveness_rule() {
        let liveness = Liveness::new();
        let timeout = Duration::from_secs(1);
        assert!(!liveness.is_dead(timeout));
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert!(liveness.is_dead(timeout), "silent and idle");
        liveness.write_progressed();
        assert!(!liveness.is_dead(timeout), "silent but writing");
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert!(liveness.is_dead(timeout), "silent and write stuck");
        liveness.received();
        assert!(!liveness.is_dead(timeout));
    }
}
