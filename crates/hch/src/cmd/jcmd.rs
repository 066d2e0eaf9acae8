//! `hch jcmd` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch jcmd --help`.
pub const EXAMPLES: &str = "Examples:\n  hch jcmd --help";

/// Arguments of `hch jcmd`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch jcmd`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch jcmd` is not implemented yet"))
}
