//! `hch jfr summary|print` (stub until the reader lands).

use crate::exit::{coded, Status};

/// The `jfr` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Event counts and sizes per type, chunks and time span, like `jfr summary`.
    Summary {
        /// Recordings.
        files: Vec<std::path::PathBuf>,
    },
}

/// Runs a `jfr` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<Status> {
    let _ = cmd;
    Err(coded(1, "`hch jfr` is not implemented yet"))
}
