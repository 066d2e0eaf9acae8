//! `hch jfr summary|print`: inspect recordings.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hch_jfr::{summarize, JfrFile, Summary};

use crate::exit::{Code, Status};
use crate::output::print_json;

/// Examples shown by `hch jfr --help`.
pub const EXAMPLES: &str = "Examples:
  hch jfr summary recording.jfr
  hch jfr summary --json a.jfr b.jfr
  hch jfr print --events jdk.ExecutionSample recording.jfr | head
  hch jfr print --events jdk.BooleanFlag,jdk.JVMInformation recording.jfr";

/// The `jfr` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Event counts and sizes per type, chunks and time span, like the JDK's `jfr summary`.
    #[command(after_help = EXAMPLES)]
    Summary {
        /// Recordings.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print events of the given types as JSON lines, constants resolved.
    #[command(after_help = EXAMPLES)]
    Print {
        /// Event type names, comma separated (e.g. jdk.ExecutionSample).
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// Recordings.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs a `jfr` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<Status> {
    match cmd {
        Command::Summary { files, json } => summary(&files, json),
        Command::Print { events, files } => print(&events, &files),
    }
}

/// Opens a recording as `hch analyze` opens its inputs: `-`, FIFOs and gzip work, devices
/// and empty files are refused.
fn open(path: &std::path::Path) -> anyhow::Result<JfrFile> {
    let input = crate::cmd::inputs::open(path)?;
    Ok(JfrFile::from_file(input.file, input.label)?)
}

fn summary(files: &[PathBuf], json: bool) -> anyhow::Result<Status> {
    let mut first_error = None;
    let mut all = Vec::new();
    for f in files {
        let file = open(f)?;
        let (s, err) = summarize(&file);
        if json {
            all.push(serde_json::json!({ "file": f, "summary": s, "error": err.as_ref().map(|e| e.to_string()) }));
        } else {
            print_summary(f, &s)?;
        }
        if let Some(e) = err {
            first_error.get_or_insert(e);
        }
    }
    if json {
        print_json(&all)?;
    }
    match first_error {
        Some(e) => {
            Err(anyhow::Error::new(e).context("the results above cover the complete chunks only"))
        }
        None => Ok(Status(Code::Ok)),
    }
}

/// Text in the layout of the JDK's `jfr summary`.
fn print_summary(path: &std::path::Path, s: &Summary) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n {}\n", path.display())?;
    writeln!(out, " Version: {}", s.version)?;
    writeln!(out, " Chunks: {}", s.chunks)?;
    writeln!(out, " Size: {} bytes", s.bytes)?;
    writeln!(out, " Start: {} (UTC)", format_time(s.start_nanos))?;
    writeln!(out, " Duration: {} s\n", s.duration_nanos / 1_000_000_000)?;
    writeln!(
        out,
        " {:<40}{:>11}{:>14}",
        "Event Type", "Count", "Size (bytes)"
    )?;
    writeln!(out, "{}", "=".repeat(66))?;
    for t in &s.types {
        writeln!(out, " {:<40}{:>11}{:>14}", t.name, t.count, t.bytes)?;
    }
    Ok(())
}

fn format_time(nanos: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

fn print(events: &[String], files: &[PathBuf]) -> anyhow::Result<Status> {
    let names: Vec<&str> = events.iter().map(String::as_str).collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for f in files {
        let file = open(f)?;
        let mut io_err = None;
        let r = hch_jfr::for_each_event(&file, &names, |chunk, name, fields| {
            let line = serde_json::json!({ "type": name, "chunk": chunk, "fields": fields });
            if let Err(e) = writeln!(out, "{line}") {
                io_err = Some(e);
            }
            Ok(())
        });
        if let Some(e) = io_err {
            return Err(e.into());
        }
        r.with_context(|| format!("printing events of {}", f.display()))?;
    }
    out.flush()?;
    Ok(Status(Code::Ok))
}
