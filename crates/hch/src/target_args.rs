//! The TARGET argument every live command takes: a PID, or HOST:PORT of a JMX agent, with the
//! options to reach it. One place, so every command reaches JVMs the same way.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hch_target::jfr::RecordOptions;
use hch_target::remote::{record_remote, RemoteRecording, RemoteSettings};
use hch_target::{OpenOptions, Target};

use crate::remote_args::RemoteArgs;

/// How to reach a live JVM: the attach timeout for a PID, the login for HOST:PORT.
#[derive(Debug, Clone, clap::Args)]
pub struct Connect {
    /// How long to wait for a local JVM to answer the attach handshake.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::duration::parse)]
    pub timeout: Duration,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

impl Connect {
    /// The library's options.
    pub fn options(&self) -> anyhow::Result<OpenOptions> {
        let mut o = OpenOptions::default();
        o.attach.timeout = self.timeout;
        o.remote = self.remote.to_options()?;
        Ok(o)
    }

    /// Connects to `spec`: a PID, or HOST:PORT.
    pub fn open(&self, spec: &str) -> anyhow::Result<Box<dyn Target>> {
        Ok(hch_target::open(spec, &self.options()?)?)
    }

    /// Records `spec` with JFR and returns the recording: through the attach mechanism with a
    /// progress bar for a PID, through the FlightRecorderMXBean for HOST:PORT. Nothing is left
    /// running or on disk on the target afterwards, also when `cancel` turns true.
    pub fn record(
        &self,
        spec: &str,
        opts: &RecordOptions,
        cancel: &AtomicBool,
    ) -> anyhow::Result<Vec<u8>> {
        if is_remote(spec) {
            let rec = RemoteRecording {
                settings: RemoteSettings::Jfc(opts.settings_xml()),
                duration: opts.duration,
            };
            eprintln!("hch: recording {spec} for {:?} over JMX", opts.duration);
            return Ok(record_remote(
                spec,
                &self.remote.to_options()?,
                &rec,
                cancel,
            )?);
        }
        record_local(self.open(spec)?.as_mut(), opts, cancel)
    }
}

/// Records a JVM already attached to, with a progress bar on a terminal.
pub fn record_local(
    t: &mut dyn Target,
    opts: &RecordOptions,
    cancel: &AtomicBool,
) -> anyhow::Result<Vec<u8>> {
    let pb = crate::output::progress(opts.duration.as_secs().max(1), "profiling");
    let mut progress = |elapsed: Duration, _total: Duration| pb.set_position(elapsed.as_secs());
    let bytes = hch_target::jfr::record(t, opts, cancel, &mut progress);
    pb.finish_and_clear();
    Ok(bytes?)
}

/// Whether a target spec names a remote JVM (HOST:PORT) rather than a PID.
pub fn is_remote(spec: &str) -> bool {
    spec.parse::<u32>().is_err()
}

/// A JVM to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The JVM: a PID on this host (see `hch list`; containers too), or HOST:PORT of its JMX agent.
    #[arg(value_name = "TARGET")]
    pub target: String,
    #[command(flatten)]
    pub connect: Connect,
}

impl TargetArgs {
    /// The library's options.
    pub fn options(&self) -> anyhow::Result<OpenOptions> {
        self.connect.options()
    }

    /// Whether the target is remote (HOST:PORT).
    pub fn is_remote(&self) -> bool {
        is_remote(&self.target)
    }

    /// Connects.
    pub fn open(&self) -> anyhow::Result<Box<dyn Target>> {
        self.connect.open(&self.target)
    }
}
