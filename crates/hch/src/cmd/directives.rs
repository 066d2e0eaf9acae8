//! `hch directives …` and `hch apply` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch apply --help`.
pub const APPLY_EXAMPLES: &str = "Examples:\n  hch apply 1234 hot.json";

/// A target and a directives file.
#[derive(Debug, clap::Args)]
pub struct TargetFileArgs {
    /// The JVM: a PID, or host:port for a remote JVM.
    pub target: String,
    /// The directives file.
    pub file: Option<std::path::PathBuf>,
}

/// The `directives` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a directives file to a JVM's directive stack.
    Add(TargetFileArgs),
}

/// Runs a `directives` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<Status> {
    let _ = cmd;
    Err(coded(1, "`hch directives` is not implemented yet"))
}
