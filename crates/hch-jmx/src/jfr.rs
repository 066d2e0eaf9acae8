//! The FlightRecorderMXBean flow that records on a remote JVM and streams the recording back:
//! newRecording → configuration → start → wait → stop → openStream → readStream… →
//! closeStream → closeRecording. A guard closes the recording on the target after an error,
//! a cancel or a panic, so nothing is left running there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Client, FLIGHT_RECORDER};
use crate::error::{Error, Result};
use crate::ser::{Arg, Value};

const LONG: &str = "long";
const STRING: &str = "java.lang.String";
const TABULAR: &str = "javax.management.openmbean.TabularData";

/// The largest recording streamed back (a recording of hch's few events is far smaller).
const MAX_RECORDING: usize = 4 << 30;

/// Which event settings the recording uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settings {
    /// A configuration shipped with the JDK, by name: `default` or `profile`.
    Predefined(String),
    /// The full text of a `.jfc` file.
    Jfc(String),
}

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Event settings.
    pub settings: Settings,
    /// How long to record.
    pub duration: Duration,
}

/// Records on the remote JVM and returns the recording's bytes (a `.jfr` file).
///
/// `cancel` is polled while waiting; when it turns true the recording is closed on the
/// target and [`Error::Cancelled`] is returned.
pub fn record(client: &mut Client, rec: &Recording, cancel: &AtomicBool) -> Result<Vec<u8>> {
    let (g, v) = client.invoke(FLIGHT_RECORDER, "newRecording", &[], &[])?;
    let id = g
        .long(v)
        .ok_or_else(|| unexpected("newRecording", "a recording id", g.describe(v)))?;
    let mut guard = Guard {
        client,
        id,
        stream: None,
        open: true,
    };
    guard.configure(&rec.settings)?;
    guard.call("startRecording", &[Arg::Long(id)], &[LONG])?;
    guard.wait(rec.duration, cancel)?;
    guard.call("stopRecording", &[Arg::Long(id)], &[LONG])?;
    let data = guard.stream_back(cancel)?;
    guard.finish()?;
    Ok(data)
}

// Owns the recording (and its stream) on the target until `finish`; closes them on drop.
struct Guard<'a> {
    client: &'a mut Client,
    id: i64,
    stream: Option<i64>,
    /// Whether the recording still exists on the target.
    open: bool,
}

impl Guard<'_> {
    fn call(
        &mut self,
        op: &str,
        params: &[Arg],
        sig: &[&str],
    ) -> Result<(crate::ser::Graph, Value)> {
        self.client.invoke(FLIGHT_RECORDER, op, params, sig)
    }

    fn configure(&mut self, settings: &Settings) -> Result<()> {
        let (op, text) = match settings {
            Settings::Predefined(name) => ("setPredefinedConfiguration", name),
            Settings::Jfc(xml) => ("setConfiguration", xml),
        };
        self.call(
            op,
            &[Arg::Long(self.id), Arg::Str(text.clone())],
            &[LONG, STRING],
        )
        .map(drop)
    }

    // Sleeps in short steps so a cancel is seen quickly; heartbeats keep the connection.
    fn wait(&mut self, duration: Duration, cancel: &AtomicBool) -> Result<()> {
        let end = Instant::now() + duration;
        while Instant::now() < end {
            check(cancel)?;
            std::thread::sleep(
                end.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100)),
            );
            self.client.keep_alive()?;
        }
        Ok(())
    }

    fn stream_back(&mut self, cancel: &AtomicBool) -> Result<Vec<u8>> {
        let (g, v) = self.call(
            "openStream",
            &[Arg::Long(self.id), Arg::Null],
            &[LONG, TABULAR],
        )?;
        let sid = g
            .long(v)
            .ok_or_else(|| unexpected("openStream", "a stream id", g.describe(v)))?;
        self.stream = Some(sid);
        let mut out = Vec::new();
        let mut empty_in_a_row = 0u32;
        loop {
            check(cancel)?;
            let (g, v) = self.call("readStream", &[Arg::Long(sid)], &[LONG])?;
            if v == Value::Null {
                return Ok(out);
            }
            let chunk = g
                .bytes(v)
                .ok_or_else(|| unexpected("readStream", "a byte[]", g.describe(v)))?;
            // A server that never ends the stream must not grow memory or spin forever.
            empty_in_a_row = if chunk.is_empty() {
                empty_in_a_row + 1
            } else {
                0
            };
            if out.len().saturating_add(chunk.len()) > MAX_RECORDING || empty_in_a_row > 1000 {
                return Err(unexpected(
                    "readStream",
                    "the end of the stream",
                    format!("more than {MAX_RECORDING} bytes or 1000 empty blocks"),
                ));
            }
            out.extend_from_slice(chunk);
        }
    }

    // The normal end: close the stream and the recording, reporting errors.
    fn finish(mut self) -> Result<()> {
        if let Some(sid) = self.stream.take() {
            self.call("closeStream", &[Arg::Long(sid)], &[LONG])?;
        }
        self.open = false;
        self.call("closeRecording", &[Arg::Long(self.id)], &[LONG])
            .map(drop)
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Best effort after an error: the connection may be what failed.
        if let Some(sid) = self.stream.take() {
            let _ = self.call("closeStream", &[Arg::Long(sid)], &[LONG]);
        }
        if self.open {
            let _ = self.call("closeRecording", &[Arg::Long(self.id)], &[LONG]);
        }
    }
}

fn check(cancel: &AtomicBool) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    Ok(())
}

fn unexpected(call: &str, expected: &'static str, got: String) -> Error {
    Error::UnexpectedValue {
        call: call.into(),
        expected,
        got,
    }
}
