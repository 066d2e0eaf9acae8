//! The TARGET argument every live command takes: a PID, or HOST:PORT of a JMX agent, with the
//! options to reach it. One place, so every command reaches JVMs the same way.

use std::time::Duration;

use hch_target::{OpenOptions, Target};

use crate::remote_args::RemoteArgs;

/// A JVM to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The JVM: a PID on this host (see `hch list`; containers too), or HOST:PORT of its JMX agent.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// How long to wait for a local JVM to answer the attach handshake.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

impl TargetArgs {
    /// The library's options.
    pub fn options(&self) -> anyhow::Result<OpenOptions> {
        let mut o = OpenOptions::default();
        o.attach.timeout = self.timeout;
        o.remote = self.remote.to_options()?;
        Ok(o)
    }

    /// Whether the target is remote (HOST:PORT).
    pub fn is_remote(&self) -> bool {
        self.target.parse::<u32>().is_err()
    }

    /// Connects.
    pub fn open(&self) -> anyhow::Result<Box<dyn Target>> {
        Ok(hch_target::open(&self.target, &self.options()?)?)
    }
}
