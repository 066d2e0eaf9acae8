//! The agent's options, from the string after `=` in `-agentpath:libhch_agent.so=...` or the
//! attach `load` command: `key=value` pairs separated by commas.
//!
//! Every key is checked: an unknown key, a bad duration or size, a budget of 0 or a log file
//! in a directory that does not exist is an error that names the key and what it takes.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// The longest duration any option takes: 30 days (as the CLI's).
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The longest recording: JFR keeps a whole cycle's samples until it is read.
pub const MAX_RECORDING: Duration = Duration::from_secs(3600);

/// Which directive options the agent applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialectChoice {
    /// `hot` on a JVM with a hot code segment; elsewhere profile and report, apply nothing.
    Auto,
    /// Options every JDK 9+ accepts (`c2: { Enable: true }`): applied on any JVM.
    Stock,
    /// The design's `c2: { Hot: true }`: refused by a JVM without a hot code segment.
    Hot,
    /// Alibaba Dragonwell's `c2: { AllocInNonProfiledHotCodeHeap: true }`.
    Dragonwell,
}

impl fmt::Display for DialectChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DialectChoice::Auto => "auto",
            DialectChoice::Stock => "stock",
            DialectChoice::Hot => "hot",
            DialectChoice::Dragonwell => "dragonwell",
        })
    }
}

/// What the agent does and how often.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    /// Wait this long after start before the first cycle.
    pub delay: Duration,
    /// A cycle starts at most this often (and directives change at most this often).
    pub interval: Duration,
    /// How long each cycle records.
    pub duration: Duration,
    /// The `jdk.ExecutionSample` period.
    pub sampling: Duration,
    /// At most this many hot code blobs.
    pub top: usize,
    /// Stop once the hot blobs cover this percent of the compiled samples.
    pub coverage: Option<f64>,
    /// Leave out blobs with fewer samples.
    pub min_samples: u64,
    /// Bytes of the hot code segment the blobs must fit in.
    pub budget: u64,
    /// Which directives to apply.
    pub dialect: DialectChoice,
    /// Directives in force are kept while they cover at least this percent of the new hot
    /// set's samples; below, they are replaced.
    pub overlap: f64,
    /// The log file (appended to); `None` (`log=` empty) logs to the JVM's stderr.
    pub log: Option<PathBuf>,
    /// `compact=whitebox`: after each cycle, lay the hot set out compactly through WhiteBox
    /// (a JVM started with its flags; experimental). `off` by default.
    pub compact: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            delay: Duration::from_secs(120),
            interval: Duration::from_secs(600),
            duration: Duration::from_secs(60),
            sampling: Duration::from_millis(10),
            top: 1000,
            coverage: None,
            min_samples: 1,
            budget: 8 << 20,
            dialect: DialectChoice::Auto,
            overlap: 80.0,
            compact: false,
            log: None,
        }
    }
}

/// Every key, for the message about an unknown one.
pub const KEYS: &str = "delay, interval, duration, sampling, top, coverage, min_samples, budget, dialect, overlap, compact, log";

/// A bad option, with the key and what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option `{key}`: {reason}")]
pub struct OptionError {
    /// The key as given.
    pub key: String,
    /// What is wrong and what it takes.
    pub reason: String,
}

fn bad(key: &str, reason: impl Into<String>) -> OptionError {
    OptionError {
        key: key.to_string(),
        reason: reason.into(),
    }
}

impl Options {
    /// Parses `key=value,key=value`; an empty string gives the defaults.
    pub fn parse(text: &str) -> Result<Options, OptionError> {
        Options::default().with(text)
    }

    /// These options with the keys in `text` changed (what a second load or `setOptions` does).
    pub fn with(&self, text: &str) -> Result<Options, OptionError> {
        let mut o = self.clone();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| bad(item, "expected key=value"))?;
            o.set(key.trim(), value.trim())?;
        }
        o.check()?;
        Ok(o)
    }

    /// Sets one key.
    fn set(&mut self, key: &str, v: &str) -> Result<(), OptionError> {
        match key {
            "delay" => self.delay = duration(key, v)?,
            "interval" => self.interval = duration(key, v)?,
            "duration" => self.duration = duration(key, v)?,
            "sampling" => self.sampling = duration(key, v)?,
            "top" => self.top = number(key, v)?,
            "coverage" => self.coverage = Some(percent(key, v)?),
            "min_samples" => self.min_samples = number(key, v)?,
            "budget" => self.budget = size(key, v)?,
            "dialect" => self.dialect = dialect(v)?,
            "overlap" => self.overlap = percent(key, v)?,
            "compact" => {
                self.compact = match v {
                    "whitebox" => true,
                    "off" => false,
                    _ => return Err(bad(key, format!("`{v}`: expected whitebox or off"))),
                }
            }
            "log" if v.is_empty() => self.log = None,
            "log" => self.log = Some(log_path(v)?),
            _ => return Err(bad(key, format!("unknown key; the keys are {KEYS}"))),
        }
        Ok(())
    }

    /// Checks the options together.
    fn check(&self) -> Result<(), OptionError> {
        if self.budget == 0 {
            return Err(bad("budget", "0 leaves no room for any code; give e.g. 8M"));
        }
        if self.top == 0 {
            return Err(bad("top", "0 selects nothing; give e.g. 1000"));
        }
        if self.duration.is_zero() || self.duration > MAX_RECORDING {
            return Err(bad("duration", "must be more than 0 and at most 1h"));
        }
        if self.interval < self.duration {
            return Err(bad(
                "interval",
                format!(
                    "{} is shorter than the recording's duration {}; a cycle starts at most once per interval",
                    show(self.interval),
                    show(self.duration)
                ),
            ));
        }
        if self.sampling < Duration::from_millis(1) || self.sampling > Duration::from_secs(1) {
            return Err(bad("sampling", "JFR samples every 1 ms to 1 s"));
        }
        Ok(())
    }

    /// The options as the agent takes them, with every key: what `hch agent load` sends.
    pub fn to_agent_string(&self) -> String {
        let mut parts = vec![
            format!("delay={}", show(self.delay)),
            format!("interval={}", show(self.interval)),
            format!("duration={}", show(self.duration)),
            format!("sampling={}", show(self.sampling)),
            format!("top={}", self.top),
        ];
        if let Some(c) = self.coverage {
            parts.push(format!("coverage={c}"));
        }
        parts.push(format!("min_samples={}", self.min_samples));
        parts.push(format!("budget={}", show_size(self.budget)));
        parts.push(format!("dialect={}", self.dialect));
        parts.push(format!("overlap={}", self.overlap));
        if self.compact {
            parts.push("compact=whitebox".into());
        }
        if let Some(l) = &self.log {
            parts.push(format!("log={}", l.display()));
        }
        parts.join(",")
    }
}

/// A duration as the options write it: `2m`, `60s`, `10ms` (whole milliseconds).
pub fn show(d: Duration) -> String {
    let d = Duration::from_millis(d.as_millis() as u64);
    humantime::format_duration(d).to_string().replace(' ', "")
}

fn duration(key: &str, v: &str) -> Result<Duration, OptionError> {
    let d = humantime::parse_duration(v).map_err(|e| {
        bad(
            key,
            format!("`{v}` is not a duration ({e}); e.g. 500ms, 60s, 10m, 1h"),
        )
    })?;
    if d > MAX_DURATION {
        return Err(bad(key, format!("`{v}` is longer than 30 days")));
    }
    Ok(d)
}

fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, OptionError> {
    v.parse()
        .map_err(|_| bad(key, format!("`{v}` is not a whole number")))
}

fn percent(key: &str, v: &str) -> Result<f64, OptionError> {
    let p: f64 = v
        .trim_end_matches('%')
        .parse()
        .map_err(|_| bad(key, format!("`{v}` is not a percentage")))?;
    if p > 0.0 && p <= 100.0 {
        Ok(p)
    } else {
        Err(bad(key, format!("{p} is not in (0, 100]")))
    }
}

pub use hch_profile::hotset::parse_size;

fn size(key: &str, v: &str) -> Result<u64, OptionError> {
    parse_size(v).map_err(|e| bad(key, e))
}

fn dialect(v: &str) -> Result<DialectChoice, OptionError> {
    match v {
        "auto" => Ok(DialectChoice::Auto),
        "stock" => Ok(DialectChoice::Stock),
        "hot" => Ok(DialectChoice::Hot),
        "dragonwell" => Ok(DialectChoice::Dragonwell),
        _ => Err(bad(
            "dialect",
            format!("`{v}`: expected auto, stock, hot or dragonwell"),
        )),
    }
}

/// A size as the options write it: `8M`, `512K`, `4000`.
pub fn show_size(b: u64) -> String {
    match b {
        _ if b >= 1 << 30 && b.is_multiple_of(1 << 30) => format!("{}G", b >> 30),
        _ if b >= 1 << 20 && b.is_multiple_of(1 << 20) => format!("{}M", b >> 20),
        _ if b >= 1 << 10 && b.is_multiple_of(1 << 10) => format!("{}K", b >> 10),
        _ => b.to_string(),
    }
}

/// A log file path: absolute, in a directory that exists.
fn log_path(v: &str) -> Result<PathBuf, OptionError> {
    let p = PathBuf::from(v);
    if !p.is_absolute() {
        return Err(bad("log", format!("`{v}` is not an absolute path")));
    }
    let dir = p.parent().unwrap_or(&p);
    if !dir.is_dir() {
        return Err(bad(
            "log",
            format!("the directory {} does not exist", dir.display()),
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_full_string() {
        let o = Options::parse("").unwrap();
        assert_eq!(o, Options::default());
        let o = Options::parse(
            "delay=2m,interval=10m,duration=60s,top=1000,coverage=95,budget=8M,dialect=stock,log=/tmp/hch-agent.log",
        )
        .unwrap();
        assert_eq!(o.delay, Duration::from_secs(120));
        assert_eq!(o.coverage, Some(95.0));
        assert_eq!(o.dialect, DialectChoice::Stock);
        assert_eq!(
            o.log.as_deref(),
            Some(std::path::Path::new("/tmp/hch-agent.log"))
        );
        assert_eq!(Options::parse(&o.to_agent_string()).unwrap(), o);
        let changed = o.with("interval=20m,log=").unwrap();
        assert_eq!(
            (changed.interval, changed.log.as_deref()),
            (Duration::from_secs(1200), None)
        );
        assert_eq!(changed.delay, o.delay);
    }

    #[test]
    fn bad_options_name_the_key() {
        let e = |s: &str| Options::parse(s).unwrap_err();
        assert_eq!(e("colour=red").key, "colour");
        assert!(e("colour=red").reason.contains("delay, interval"));
        assert!(e("delay=soon")
            .to_string()
            .starts_with("option `delay`: `soon` is not a duration"));
        assert!(e("budget=0").reason.contains("0 leaves no room"));
        assert!(e("log=/no/such/dir/x.log")
            .reason
            .contains("/no/such/dir does not exist"));
        assert!(e("log=rel.log").reason.contains("absolute"));
        assert_eq!(e("interval=10s,duration=20s").key, "interval");
        assert_eq!(e("top").reason, "expected key=value");
        assert_eq!(e("coverage=0").key, "coverage");
        assert_eq!(e("dialect=fast").key, "dialect");
        assert_eq!(e("compact=yes").key, "compact");
        assert!(Options::parse("compact=whitebox").unwrap().compact);
        assert_eq!(e("delay=31days").key, "delay");
    }
}
