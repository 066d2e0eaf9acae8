//! `hch watch` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch watch --help`.
pub const EXAMPLES: &str = "Examples:\n  hch watch --help";

/// Arguments of `hch watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch watch`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch watch` is not implemented yet"))
}
