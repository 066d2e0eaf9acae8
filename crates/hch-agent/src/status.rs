//! What the agent reports: its state, options, last cycle and the directives it put in force.
//! The agent publishes it as JSON (the MBean's `Status` attribute and the system property
//! [`STATUS_PROPERTY`], which `hch agent status PID` reads through `VM.system_properties`);
//! [`Status::render`] is the text both the CLI and the log use.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The system property the agent keeps its status in.
pub const STATUS_PROPERTY: &str = "hch.agent.status";
/// The agent's MBean.
pub const MBEAN_NAME: &str = "hch:type=HotCodeHelper";

/// The agent's status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The agent's version.
    pub version: String,
    /// The JVM's pid (as the JVM sees itself).
    pub pid: u32,
    /// `waiting`, `recording`, `analyzing`, `stopped` or `disabled: why`.
    pub state: String,
    /// The options in force, as the agent takes them.
    pub options: String,
    /// `start-up` (-agentpath) or `attach` (loaded at run time).
    pub loaded: String,
    /// When the agent started (ms since the epoch).
    pub started_ms: u64,
    /// Cycles completed.
    pub cycles: u64,
    /// When the next cycle starts (ms since the epoch), if one is planned.
    pub next_cycle_ms: Option<u64>,
    /// The last cycle.
    pub last: Option<Cycle>,
    /// The directives the agent put in force, if any.
    pub directives: Option<InForce>,
    /// The last errors, oldest first.
    pub errors: Vec<String>,
    /// JVMTI capabilities the agent holds (none, by design).
    pub capabilities: Vec<String>,
    /// Standing remarks (reporting only, biased profile).
    pub notes: Vec<String>,
}

/// One cycle's figures and what it did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    /// When the cycle ended (ms since the epoch).
    pub time_ms: u64,
    /// All samples.
    pub samples: u64,
    /// Samples in compiled code.
    pub compiled_samples: u64,
    /// Blobs in the hot set.
    pub hot_set: usize,
    /// Percent of the compiled samples the hot set covers.
    pub coverage: f64,
    /// Percent of the new hot set's samples that the directives in force cover, when some are.
    pub overlap: Option<f64>,
    /// What the cycle did, in words.
    pub action: String,
    /// CPU time of the agent's thread for the cycle (reading, analysis, reconciling), in ms.
    pub cpu_ms: u64,
}

/// The directives the agent put on the JVM's stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InForce {
    /// Method patterns.
    pub patterns: usize,
    /// `hot` or `stock`.
    pub dialect: String,
    /// When they were applied (ms since the epoch).
    pub applied_ms: u64,
    /// The directives file's text.
    pub text: String,
}

/// Milliseconds since the epoch.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A time as `2026-12-02T10:00:00Z`.
pub fn show_time(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

impl Cycle {
    /// The cycle in one line: samples, hot set, change and action.
    pub fn line(&self) -> String {
        let change = self
            .overlap
            .map_or("no directives of ours in force".to_string(), |o| {
                format!(
                    "change {:.0}% (directives in force cover {o:.0}% of its samples)",
                    100.0 - o
                )
            });
        format!(
            "{} samples ({} in compiled code), hot set {} blobs covering {:.1}%, {change}: {} [{} ms CPU]",
            self.samples, self.compiled_samples, self.hot_set, self.coverage, self.action, self.cpu_ms
        )
    }
}

impl Status {
    /// The status for people; `now_ms` places the next cycle.
    pub fn render(&self, now_ms: u64) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "agent       hch-agent {} in pid {}, loaded at {}, since {}",
            self.version,
            self.pid,
            self.loaded,
            show_time(self.started_ms)
        );
        let _ = writeln!(s, "state       {}", self.state);
        let next = match self.next_cycle_ms {
            Some(t) if t > now_ms => format!(
                "in {} (at {})",
                crate::options::show(Duration::from_secs((t - now_ms).div_ceil(1000))),
                show_time(t)
            ),
            Some(_) => "now".into(),
            None => "none planned".into(),
        };
        let _ = writeln!(s, "next cycle  {next}");
        let _ = writeln!(s, "options     {}", self.options);
        match &self.last {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "last cycle  #{} at {}: {}",
                    self.cycles,
                    show_time(c.time_ms),
                    c.line()
                );
            }
            None => {
                let _ = writeln!(s, "last cycle  none yet");
            }
        }
        match &self.directives {
            Some(d) => {
                let _ = writeln!(
                    s,
                    "directives  {} patterns ({} dialect) in force since {}",
                    d.patterns,
                    d.dialect,
                    show_time(d.applied_ms)
                );
            }
            None => {
                let _ = writeln!(s, "directives  none of the agent's in force");
            }
        }
        let caps = if self.capabilities.is_empty() {
            "none".to_string()
        } else {
            self.capabilities.join(", ")
        };
        let _ = writeln!(s, "JVMTI caps  {caps}");
        for n in &self.notes {
            let _ = writeln!(s, "note        {n}");
        }
        for e in &self.errors {
            let _ = writeln!(s, "error       {e}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_round_trips() {
        let st = Status {
            version: "0.1.0".into(),
            pid: 42,
            state: "waiting".into(),
            options: "delay=2m".into(),
            loaded: "attach".into(),
            started_ms: 0,
            cycles: 1,
            next_cycle_ms: Some(90_000),
            last: Some(Cycle {
                time_ms: 60_000,
                samples: 1200,
                compiled_samples: 1100,
                hot_set: 40,
                coverage: 95.0,
                overlap: Some(97.0),
                action: "left alone".into(),
                cpu_ms: 12,
            }),
            ..Status::default()
        };
        let text = st.render(30_000);
        assert!(
            text.contains("next cycle  in 1m (at 1970-01-01T00:01:30Z)"),
            "{text}"
        );
        assert!(text.contains("1200 samples (1100 in compiled code), hot set 40 blobs covering 95.0%, change 3% (directives in force cover 97% of its samples): left alone"), "{text}");
        assert!(text.contains("JVMTI caps  none"));
        let json = serde_json::to_string(&st).unwrap();
        assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), st);
    }
}
