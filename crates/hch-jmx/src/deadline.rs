//! Overall deadlines for network exchanges. A per-read timeout lets a server that sends one
//! byte just before each timeout stretch an exchange forever; here every socket read and write
//! waits at most for what is left of the whole exchange's time.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The longest budget honoured; beyond it `Instant` arithmetic could overflow.
const MAX_BUDGET: Duration = Duration::from_secs(365 * 24 * 3600);

/// When an exchange must be over, and the budget it was given (for messages).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    end: Instant,
    budget: Duration,
}

impl Deadline {
    /// A deadline `budget` from now (capped at a year).
    pub(crate) fn after(budget: Duration) -> Deadline {
        let budget = budget.min(MAX_BUDGET);
        Deadline {
            end: Instant::now() + budget,
            budget,
        }
    }

    /// The time left, or `None` once the deadline has passed.
    pub(crate) fn left(&self) -> Option<Duration> {
        self.end
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The whole budget, for messages.
    pub(crate) fn budget(&self) -> Duration {
        self.budget
    }

    // The time left as an I/O result: a passed deadline is a `TimedOut` error.
    fn left_io(&self) -> io::Result<Duration> {
        self.left()
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
    }
}

/// A TCP socket whose every read and write is bounded by the current exchange's deadline.
/// Time-outs surface as `io::ErrorKind::TimedOut`.
#[derive(Debug)]
pub(crate) struct Timed {
    tcp: TcpStream,
    deadline: Deadline,
}

impl Timed {
    pub(crate) fn new(tcp: TcpStream, deadline: Deadline) -> Timed {
        Timed { tcp, deadline }
    }

    /// Starts a new exchange: later reads and writes share this deadline.
    pub(crate) fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = deadline;
    }

    pub(crate) fn deadline(&self) -> Deadline {
        self.deadline
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.set_read_timeout(Some(self.deadline.left_io()?))?;
        self.tcp.read(buf).map_err(timed_out)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.set_write_timeout(Some(self.deadline.left_io()?))?;
        self.tcp.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

// A socket time-out reads as EAGAIN (`WouldBlock`); callers look for `TimedOut` only.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "deadline passed")
    } else {
        e
    }
}

/// Formats a deadline for messages: `2s`, `1.5s`, `250ms`.
pub(crate) fn show(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
