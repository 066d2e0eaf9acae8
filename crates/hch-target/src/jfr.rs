//! A JFR recording on a running JVM with only the events hch needs, handed back as bytes, with
//! nothing left behind: no recording, no settings file, no dump.
//!
//! The steps: a minimal `.jfc` goes into the JVM's `/tmp`; `JFR.start name=hch-… settings=…
//! duration=… filename=…`; hch waits in small steps, watching for a cancel and for the JVM's
//! exit; `JFR.stop` makes the JVM write the file; hch reads it and removes both files. A guard
//! stops the recording and removes the files on every other way out (error, cancel, panic).
//!
//! Two safety nets: the recording is started with a `duration` a minute longer than asked, so
//! that the JVM stops it by itself if hch is killed outright (the JVM then writes the dump into
//! its `/tmp`, where a later `hch` run can find it by its `hch-` name); and the file names are
//! new and owned by the JVM's user.
//!
//! Costs to know: on JDK 11 to 22 the first `JFR.start` in a JVM deoptimizes all compiled code
//! (JFR adds the retransform capability late, and the first redefinition marks every nmethod);
//! JDK 23 and later record the dependencies needed and deoptimize next to nothing. The first
//! start also takes seconds to answer. `JvmInfo::first_jfr_costs_a_storm` tells beforehand.
//!
//! Stack depth: `stackdepth` is one setting for the whole JVM, fixed once JFR has been
//! initialized there (by the first recording; `JFR.configure` does not initialize it, nor
//! `VM.flags`, but `JFR.check` does on 17 and later). hch sends
//! `JFR.configure stackdepth=N` only when asked for a depth other than the default 64: it takes
//! effect on a JVM that has not recorded yet and is ignored afterwards (JDK 17 even answers
//! "Stack depth: N" then, but keeps the old depth; measured on 17.0.15 and 25.0.3). For a
//! reliable depth, start the JVM with `-XX:FlightRecorderOptions:stackdepth=N`.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{Target, TargetError};

/// JFR's own default stack depth.
pub const DEFAULT_STACK_DEPTH: u32 = 64;
/// How much longer than asked the JVM's own timer runs (see the module docs).
const SAFETY_MARGIN: Duration = Duration::from_secs(60);
/// The wait's step: the latency of a cancel and of noticing the JVM's exit.
const STEP: Duration = Duration::from_millis(100);
/// Numbers this process's recordings, so that their names never collide.
static NEXT_RECORDING: AtomicU32 = AtomicU32::new(0);

/// One event type's settings in the `.jfc` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSettings {
    /// The event type, e.g. `jdk.ExecutionSample`.
    pub name: String,
    /// Setting name and value pairs, e.g. `("period", "10 ms")`; `enabled` is implied.
    pub settings: Vec<(String, String)>,
}

impl EventSettings {
    /// An event with its settings.
    pub fn new(name: &str, settings: &[(&str, &str)]) -> EventSettings {
        let settings = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EventSettings {
            name: name.to_string(),
            settings,
        }
    }
}

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOptions {
    /// How long to record.
    pub duration: Duration,
    /// The `jdk.ExecutionSample` period (JFR accepts 1 ms and more).
    pub interval: Duration,
    /// Frames per stack trace (see the module docs: it may not take effect).
    pub stack_depth: u32,
    /// Events besides `jdk.ExecutionSample`, which is always recorded.
    pub events: Vec<EventSettings>,
    /// How long to wait before recording starts (the design's starting point: leave warm-up
    /// out). The JVM is watched and a cancel honoured meanwhile.
    pub delay: Duration,
}

impl RecordOptions {
    /// The defaults (10 ms interval, depth 64, [`RecordOptions::default_events`]) for a duration.
    pub fn new(duration: Duration) -> RecordOptions {
        RecordOptions {
            duration,
            interval: Duration::from_millis(10),
            stack_depth: DEFAULT_STACK_DEPTH,
            events: RecordOptions::default_events(),
            delay: Duration::ZERO,
        }
    }

    /// What hch reads besides samples: the JVM's identity and flags (`DebugNonSafepoints`
    /// among them, once per chunk) and the settings (the sampling period). `hch record` and
    /// `hch profile` both record exactly these; nothing records what nothing reads.
    pub fn default_events() -> Vec<EventSettings> {
        let once = [("period", "beginChunk")];
        vec![
            EventSettings::new("jdk.JVMInformation", &once),
            // The sampling period as the JVM applied it: the flat profile's counter is samples x period.
            EventSettings::new("jdk.ActiveSetting", &[]),
            EventSettings::new("jdk.BooleanFlag", &once),
        ]
    }

    /// The `.jfc` settings file: `jdk.ExecutionSample` at the interval, then the other events.
    /// Events not listed stay off.
    pub fn settings_xml(&self) -> String {
        let period = format!("{} us", self.interval.as_micros().max(1000));
        let samples = EventSettings::new("jdk.ExecutionSample", &[("period", &period)]);
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration version=\"2.0\" label=\"hch\" \
             description=\"hch: CPU samples for the hot code set\" provider=\"hch\">\n",
        );
        for e in std::iter::once(&samples).chain(&self.events) {
            xml += &format!("  <event name=\"{}\">\n", escape(&e.name));
            xml += "    <setting name=\"enabled\">true</setting>\n";
            for (k, v) in &e.settings {
                xml += &format!(
                    "    <setting name=\"{}\">{}</setting>\n",
                    escape(k),
                    escape(v)
                );
            }
            xml += "  </event>\n";
        }
        xml + "</configuration>\n"
    }
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions::new(Duration::from_secs(30))
    }
}

/// Escapes text for XML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Records for `opts.duration` and returns the `.jfr` bytes. `progress(elapsed, total)` is
/// called about every 100 ms; setting `cancel` stops early with an `Interrupted` I/O error.
/// The recording and files are gone from the JVM when this returns, whatever happened.
pub fn record(
    t: &mut dyn Target,
    opts: &RecordOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Duration, Duration),
) -> Result<Vec<u8>, TargetError> {
    wait_delay(t, opts.delay, cancel)?;
    with_stack_depth(t, opts.stack_depth, |t| {
        let n = NEXT_RECORDING.fetch_add(1, Ordering::Relaxed);
        let name = format!("hch-{}-{n}", std::process::id());
        let mut rec = Recording {
            name,
            files: Vec::new(),
            running: false,
            t,
        };
        rec.start(opts)?;
        rec.wait(opts.duration, cancel, progress)?;
        rec.stop_and_read()
    })
}

/// Waits out the delay before a recording, watching the JVM and the cancel flag.
pub fn wait_delay(
    t: &mut dyn Target,
    delay: Duration,
    cancel: &AtomicBool,
) -> Result<(), TargetError> {
    let start = Instant::now();
    while start.elapsed() < delay {
        if cancel.load(Ordering::Relaxed) {
            return Err(TargetError::Io {
                context: format!("{}: cancelled before recording started", t.describe()),
                source: std::io::ErrorKind::Interrupted.into(),
            });
        }
        t.check_alive()?;
        std::thread::sleep(STEP.min(delay - start.elapsed().min(delay)));
    }
    Ok(())
}

/// The `Stack depth: N` line of `JFR.configure`'s answer (JDK 17 and 25 print it).
pub fn stack_depth_in(configure: &str) -> Option<u32> {
    configure
        .lines()
        .find_map(|l| l.trim().strip_prefix("Stack depth:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Runs `f` with JFR's global stack depth set to `depth`, and puts back the depth the JVM had
/// afterwards, whatever `f` did: the setting outlives hch otherwise.
pub fn with_stack_depth<G: Target + ?Sized, T>(
    t: &mut G,
    depth: u32,
    f: impl FnOnce(&mut G) -> Result<T, TargetError>,
) -> Result<T, TargetError> {
    if depth == DEFAULT_STACK_DEPTH {
        return f(t);
    }
    let old = stack_depth_in(&t.jcmd("JFR.configure")?).unwrap_or(DEFAULT_STACK_DEPTH);
    t.jcmd(&format!("JFR.configure stackdepth={depth}"))?;
    let result = f(t);
    let _ = t.jcmd(&format!("JFR.configure stackdepth={old}"));
    result
}

/// The guard: whatever it started or placed on the target is undone when it drops.
struct Recording<'a> {
    t: &'a mut dyn Target,
    name: String,
    files: Vec<String>,
    running: bool,
}

impl Recording<'_> {
    /// Places the settings, reserves the output file and starts the recording.
    fn start(&mut self, opts: &RecordOptions) -> Result<(), TargetError> {
        let settings = self
            .t
            .put_file("settings.jfc", opts.settings_xml().as_bytes())?;
        self.files.push(settings.clone());
        // An empty file reserves a fresh name that the JVM's user owns; JFR overwrites it.
        let output = self.t.put_file("recording.jfr", b"")?;
        self.files.push(output.clone());
        let limit = (opts.duration + SAFETY_MARGIN).as_secs();
        let command = format!(
            "JFR.start name={} settings={settings} duration={limit}s filename={output}",
            self.name
        );
        let answer = self.t.jcmd(&command)?;
        if !answer.contains("Started recording") {
            return Err(TargetError::CommandFailed {
                target: self.t.describe(),
                command,
                output: answer.trim_end().into(),
            });
        }
        self.running = true;
        Ok(())
    }

    /// Waits for `duration` in small steps, reporting progress, watching `cancel` and the JVM.
    fn wait(
        &mut self,
        duration: Duration,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(Duration, Duration),
    ) -> Result<(), TargetError> {
        let start = Instant::now();
        loop {
            let elapsed = start.elapsed().min(duration);
            progress(elapsed, duration);
            if elapsed >= duration {
                return Ok(());
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(TargetError::Io {
                    context: format!(
                        "{}: cancelled; the recording was stopped and its files removed",
                        self.t.describe()
                    ),
                    source: std::io::ErrorKind::Interrupted.into(),
                });
            }
            if self.t.check_alive().is_err() {
                self.running = false;
                let reason = format!(
                    "the JVM exited {elapsed:.1?} into the recording, so there is no profile"
                );
                return Err(TargetError::Unreachable {
                    target: self.t.describe(),
                    reason,
                });
            }
            std::thread::sleep(STEP.min(duration - elapsed));
        }
    }

    /// Stops the recording (the JVM writes the file) and reads the file.
    fn stop_and_read(mut self) -> Result<Vec<u8>, TargetError> {
        let command = format!("JFR.stop name={}", self.name);
        let answer = self.t.jcmd(&command)?;
        self.running = false;
        if !answer.contains("Stopped recording") {
            return Err(TargetError::CommandFailed {
                target: self.t.describe(),
                command,
                output: answer.trim_end().into(),
            });
        }
        let output = self
            .files
            .last()
            .expect("the output file was placed")
            .clone();
        self.t.read_file(&output)
    }
}

impl Drop for Recording<'_> {
    fn drop(&mut self) {
        if self.running {
            let _ = self.t.jcmd(&format!("JFR.stop name={}", self.name));
        }
        for f in &self.files {
            let _ = self.t.remove_file(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_file() {
        let mut o = RecordOptions::new(Duration::from_secs(5));
        o.interval = Duration::from_millis(20);
        o.events = vec![EventSettings::new(
            "jdk.Compilation",
            &[("threshold", "0 ms")],
        )];
        let xml = o.settings_xml();
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration version=\"2.0\""
        ));
        assert!(xml.contains("<event name=\"jdk.ExecutionSample\">\n    <setting name=\"enabled\">true</setting>\n    <setting name=\"period\">20000 us</setting>\n  </event>"));
        assert!(xml.contains("<setting name=\"threshold\">0 ms</setting>"));
        assert!(xml.ends_with("</configuration>\n"));
        assert_eq!(escape("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
    }

    #[test]
    fn stack_depth_from_configure() {
        // JDK 25.0.3's answer to `JFR.configure`, shortened.
        let text = "Current configuration:\n\nRepository path: N/A\n\nStack depth: 64\nGlobal buffer count: 20\n";
        assert_eq!(stack_depth_in(text), Some(64));
        assert_eq!(stack_depth_in("Stack depth: 128\n"), Some(128));
        assert_eq!(stack_depth_in("nothing"), None);
    }
}
