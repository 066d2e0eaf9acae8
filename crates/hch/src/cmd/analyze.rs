//! `hch analyze` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch analyze --help`.
pub const EXAMPLES: &str = "Examples:\n  hch analyze --help";

/// Arguments of `hch analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch analyze`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch analyze` is not implemented yet"))
}
