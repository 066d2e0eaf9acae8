//! `hch info` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch info --help`.
pub const EXAMPLES: &str = "Examples:\n  hch info --help";

/// Arguments of `hch info`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch info`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch info` is not implemented yet"))
}
