//! `hch list`: the JVMs on this host, also those in containers, and whether hch can attach.

use std::io::Write;

use hch_attach::JvmProcess;

use crate::exit::{Code, Status};
use crate::output::print_json;

/// Examples shown by `hch list --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch list            a table: pid, namespace pid, user, JDK, where, attachable, hch agent, main class
  hch list --json     the same as JSON

A process is a JVM when libjvm.so is mapped into it. NSPID is the pid inside its container.
AGENT is `loaded` when hch's agent library is mapped (hch agent status PID tells whether it runs).
Run as root to see every user's JVMs with their details.";

/// Arguments of `hch list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `hch list`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let jvms = hch_attach::list_jvms();
    if args.json {
        print_json(&jvms)?;
    } else {
        print_table(&jvms)?;
    }
    if jvms.is_empty() && !rustix::process::geteuid().is_root() {
        eprintln!("hch: no JVMs found; other users' JVMs show only to root");
    }
    Ok(Status(Code::Ok))
}

/// One row of cells per JVM, columns padded to the widest cell.
fn print_table(jvms: &[JvmProcess]) -> std::io::Result<()> {
    let unknown = || "?".to_string();
    let mut rows = vec![[
        "PID", "NSPID", "USER", "JDK", "WHERE", "ATTACH", "AGENT", "MAIN",
    ]
    .map(String::from)];
    for j in jvms {
        rows.push([
            j.pid.to_string(),
            j.ns_pid.to_string(),
            j.user.clone(),
            j.version.clone().unwrap_or_else(unknown),
            match j.in_container {
                Some(true) => "container",
                Some(false) => "host",
                None => "?",
            }
            .to_string(),
            j.attach.describe().to_string(),
            if j.agent { "loaded" } else { "-" }.to_string(),
            j.main.clone().unwrap_or_else(unknown),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = std::io::stdout().lock();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
