//! `hch list` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch list --help`.
pub const EXAMPLES: &str = "Examples:\n  hch list --help";

/// Arguments of `hch list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch list`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch list` is not implemented yet"))
}
