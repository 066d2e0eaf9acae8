//! The TARGET argument every live command takes: a PID, or HOST:PORT of a JMX agent, with the
//! options to reach it. One place, so every command reaches JVMs the same way.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hch_target::jfr::RecordOptions;
use hch_target::{OpenOptions, Target, TargetError, TargetSpec};

use crate::exit::{coded, Code};
use crate::remote_args::RemoteArgs;

/// How long a local JVM gets to answer the attach handshake unless `--timeout` says otherwise.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach a live JVM: the attach timeout for a PID, the login and deadline for HOST:PORT.
#[derive(Debug, Clone, clap::Args)]
pub struct Connect {
    /// For a PID: how long to wait for the JVM to answer the attach handshake (default 10s).
    /// For HOST:PORT: the deadline of each network exchange, i.e. connecting with its
    /// handshakes, and each call with its whole reply (default 60s).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

impl Connect {
    /// The library's options for `spec`; the remote ones (password file, warnings) are read
    /// only for HOST:PORT.
    pub fn options(&self, spec: &TargetSpec) -> anyhow::Result<OpenOptions> {
        let mut o = OpenOptions::default();
        o.attach.timeout = self.timeout.unwrap_or(ATTACH_TIMEOUT);
        if spec.is_remote() {
            o.remote = self.remote.to_options(&spec.to_string())?;
            o.remote.timeout = self.timeout;
        }
        Ok(o)
    }

    /// Connects to `spec`: a PID, or HOST:PORT.
    pub fn open(&self, spec: &str) -> anyhow::Result<Box<dyn Target>> {
        let spec = parse_spec(spec)?;
        Ok(hch_target::open_spec(&spec, &self.options(&spec)?)?)
    }

    /// Records `spec` with JFR and returns the recording (see [`record`]).
    pub fn record(
        &self,
        spec: &str,
        opts: &RecordOptions,
        cancel: &AtomicBool,
    ) -> anyhow::Result<Vec<u8>> {
        record(self.open(spec)?.as_mut(), opts, cancel)
    }
}

/// Parses a TARGET; a malformed one is a usage error (exit 2).
pub fn parse_spec(spec: &str) -> anyhow::Result<TargetSpec> {
    TargetSpec::parse(spec)
        .map_err(|e| coded(Code::Usage, format!("bad TARGET {spec:?}: {}", reason(e))))
}

/// clap's check of a TARGET argument: a malformed one is refused with exit 2 before anything
/// runs; the text is kept as given.
pub fn target_arg(spec: &str) -> Result<String, String> {
    TargetSpec::parse(spec)
        .map(|_| spec.to_string())
        .map_err(reason)
}

// The why of a spec error, without the "cannot reach" of the error's own message.
fn reason(e: TargetError) -> String {
    match e {
        TargetError::Unreachable { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Records a JVM already connected to, with a progress bar on a terminal: through the attach
/// mechanism for a PID, through the FlightRecorderMXBean for HOST:PORT. Nothing is left
/// running or on disk on the target afterwards, also when `cancel` turns true.
pub fn record(
    t: &mut dyn Target,
    opts: &RecordOptions,
    cancel: &AtomicBool,
) -> anyhow::Result<Vec<u8>> {
    if !opts.delay.is_zero() {
        eprintln!(
            "hch: waiting {} before recording {}",
            humantime::format_duration(opts.delay),
            t.describe()
        );
    }
    let pb = crate::output::progress(opts.duration.as_secs().max(1), "profiling");
    let mut progress = |elapsed: Duration, _total: Duration| pb.set_position(elapsed.as_secs());
    let bytes = t.record(opts, cancel, &mut progress);
    pb.finish_and_clear();
    Ok(bytes?)
}

/// A JVM to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The JVM: a PID on this host (see `hch list`; containers too), or HOST:PORT of its JMX agent.
    #[arg(value_name = "TARGET", value_parser = target_arg)]
    pub target: String,
    #[command(flatten)]
    pub connect: Connect,
}

impl TargetArgs {
    /// The library's options.
    pub fn options(&self) -> anyhow::Result<OpenOptions> {
        self.connect.options(&parse_spec(&self.target)?)
    }

    /// Connects.
    pub fn open(&self) -> anyhow::Result<Box<dyn Target>> {
        self.connect.open(&self.target)
    }
}
