//! The log writer: lines are appended to a shared buffer and a thread of its own writes the
//! buffer to stderr every [`FLUSH_INTERVAL`], in one `write` per batch.
//!
//! `tracing_appender::non_blocking` hands each line to its thread through a channel, which wakes
//! that thread for every line: at 10,000 requests a second that is 10,000 futex wake-ups, context
//! switches and `write`s, a tenth of a request's CPU on two cores. Here a request's line costs a
//! `memcpy` under an uncontended lock; the writer wakes on its timer, or early when a burst fills
//! [`EARLY_FLUSH_BYTES`]. No line is dropped: past [`MAX_PENDING_BYTES`] a logging thread waits
//! for the writer. What a crash (`SIGKILL`, an abort) loses is at most the last interval's lines.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);
/// A buffer this full is written at once, without waiting for the interval.
const EARLY_FLUSH_BYTES: usize = 256 * 1024;
/// A buffer this full makes logging threads wait for the writer (no line is dropped).
const MAX_PENDING_BYTES: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    /// The writer is asleep with nothing to write; the next line must wake it.
    writer_idle: bool,
    /// The writer is waiting out its interval; a full buffer may wake it early.
    writer_batching: bool,
    /// Logging threads waiting for room.
    blocked_loggers: usize,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// The writer waits here (for a first line, for the interval, or to close).
    wake_writer: Condvar,
    /// Logging threads wait here when the buffer is full.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A logging thread that panicked mid-append leaves bytes, not broken invariants.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands out writers to the log formatter; cheap to clone.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Stops the writer thread when dropped, after it has written every pending line.
#[must_use = "dropping it stops the log writer"]
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread.
pub fn stderr() -> std::io::Result<(BatchedStderr, FlushOnDrop)> {
    stderr_to(std::io::stderr())
}

fn stderr_to<W: Write + Send + 'static>(out: W) -> std::io::Result<(BatchedStderr, FlushOnDrop)> {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn({
            let shared = Arc::clone(&shared);
            move || write_batches(&shared, out)
        })?;
    Ok((
        BatchedStderr {
            shared: Arc::clone(&shared),
        },
        FlushOnDrop {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_batches<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::with_capacity(EARLY_FLUSH_BYTES);
    loop {
        let mut pending = shared.lock();
        while pending.lines.is_empty() && !pending.closed {
            pending.writer_idle = true;
            pending = shared
                .wake_writer
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
            pending.writer_idle = false;
        }
        if !pending.closed && pending.lines.len() < EARLY_FLUSH_BYTES {
            // Let the batch gather: lines arriving now wake nobody.
            pending.writer_batching = true;
            pending = shared
                .wake_writer
                .wait_timeout_while(pending, FLUSH_INTERVAL, |p| {
                    !p.closed && p.lines.len() < EARLY_FLUSH_BYTES
                })
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            pending.writer_batching = false;
        }
        std::mem::swap(&mut pending.lines, &mut batch);
        let closing = pending.closed;
        if pending.blocked_loggers > 0 {
            shared.room.notify_all();
        }
        drop(pending);
        // Nowhere to report a failed write to stderr; the next batch tries again.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if closing && shared.lock().lines.is_empty() {
            return;
        }
    }
}

/// One formatted event: the formatter writes each line with a single `write_all`.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.shared.lock();
        while pending.lines.len() >= MAX_PENDING_BYTES && !pending.closed {
            pending.blocked_loggers += 1;
            pending = self
                .shared
                .room
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
            pending.blocked_loggers -= 1;
        }
        pending.lines.extend_from_slice(line);
        let wake = pending.writer_idle
            || (pending.writer_batching && pending.lines.len() >= EARLY_FLUSH_BYTES);
        drop(pending);
        if wake {
            self.shared.wake_writer.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake_writer.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read while the writer owns it.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_from_every_thread_arrives_whole_and_in_order_per_thread() {
        let sink = Sink::default();
        let (writer, guard) = stderr_to(sink.clone()).unwrap();
        // Enough to pass the early-flush and the waiting thresholds several times.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let line = format!("thread {t} line {i} {}\n", "x".repeat(100));
                        writer.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let written = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut next = [0usize; 4];
        for line in written.lines() {
            let mut words = line.split(' ');
            let t: usize = words.nth(1).unwrap().parse().unwrap();
            let i: usize = words.nth(1).unwrap().parse().unwrap();
            assert_eq!(i, next[t], "thread {t}'s lines out of order or lost");
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4]);
    }

    #[test]
    fn a_line_is_written_within_the_interval_without_a_flush() {
        let sink = Sink::default();
        let (writer, _guard) = stderr_to(sink.clone()).unwrap();
        writer.make_writer().write_all(b"one line\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the line never arrived"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"one line\n");
    }
}
