//! `hch jit INPUT|TARGET`: the JIT over time. Reads a JFR recording or a JVM's JIT log (the
//! format told from the content), or records a live JVM's JIT events for `--duration`, and
//! prints the storms, the churn, the compilers' load, the code cache and method lifecycles as
//! text, JSON or a self-contained HTML page.

mod text;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hch_jit::{Options, Read, StormOptions};

use crate::cmd::inputs;
use crate::exit::{coded, Code, Status};
use crate::target_args::Connect;

/// Examples shown by `hch jit --help`.
pub const EXAMPLES: &str = "Examples:
  hch jit app.jfr                               storms, churn, compiler load, code cache
  hch jit hotspot_pid1234.log --html jit.html   a LogCompilation file (any size), as a page
  hch jit jit.log --method Foo.bar              -Xlog:jit* or PrintCompilation output; one method's life
  hch jit 1234 --duration 30s --html jit.html   record a live JVM's JIT events (PID or HOST:PORT)
  hch jit app.jfr --hot hot.json --json         overlay the hot set of `hch analyze --json`";

/// Arguments of `hch jit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A JFR recording, a LogCompilation XML file, an -Xlog:jit* or PrintCompilation log
    /// (gzip and `-` too); or a live JVM: a PID or HOST:PORT, recorded for --duration.
    #[arg(value_name = "INPUT|TARGET")]
    pub input: String,
    /// For a live JVM: how long to record.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::duration::parse)]
    pub duration: Duration,
    /// For a live JVM: the sampling interval (the samples give the hot set to overlay).
    #[arg(long, value_name = "DURATION", default_value = "20ms", value_parser = crate::duration::parse)]
    pub interval: Duration,
    /// For a live JVM: keep the recording in this file.
    #[arg(long, value_name = "FILE")]
    pub keep: Option<PathBuf>,
    /// Print the report as JSON (everything, the whole timeline included).
    #[arg(long)]
    pub json: bool,
    /// Also write the timeline as a self-contained HTML page (no network needed).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Rows of the churn table, and lifecycles printed (0: all).
    #[arg(long, value_name = "N", default_value_t = 15)]
    pub top: usize,
    /// Print the lifecycle of the methods whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub method: Vec<String>,
    /// Overlay a hot set: `hch analyze --json` output, a directives file, or a recording
    /// (or collapsed stacks) to compute it from.
    #[arg(long, value_name = "FILE")]
    pub hot: Option<PathBuf>,
    /// Events in one second that make a storm.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub storm_events: usize,
    #[command(flatten)]
    pub connect: Connect,
}

/// Hot methods by name, with their share of the samples when known.
type Hot = Vec<(String, Option<f64>)>;

/// Runs `hch jit`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let (read, live_hot) = if is_live(&args.input) {
        live(&args)?
    } else {
        (read_input(Path::new(&args.input))?, Vec::new())
    };
    let hot = match &args.hot {
        Some(f) => hot_from(f)?,
        None => live_hot,
    };
    let opts = Options {
        top: 0, // the page and the JSON have every row; the text prints --top

        storms: StormOptions {
            min_events: args.storm_events.max(1),
            ..StormOptions::default()
        },
        hot,
    };
    let Read { timeline, error } = read;
    let report = hch_jit::analyze(timeline, &opts);
    if let Some(path) = &args.html {
        std::fs::write(path, hch_jit::html(&report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        crate::output::print_json(&report)?;
    } else {
        text::print(&report, &args, error.as_ref())?;
    }
    match error {
        Some(e) => Err(anyhow::Error::new(e).context("the results above cover what could be read")),
        None => Ok(Status(Code::Ok)),
    }
}

/// A live JVM: the input is no file here and reads as a PID or HOST:PORT.
fn is_live(input: &str) -> bool {
    input != "-" && !Path::new(input).exists() && crate::target_args::parse_spec(input).is_ok()
}

/// Reads a file (or `-`), recognising its format.
fn read_input(path: &Path) -> anyhow::Result<Read> {
    if path.as_os_str() != "-" && !path.exists() {
        return Err(coded(
            Code::Usage,
            format!(
                "{}: no such file, and not a PID or HOST:PORT of a JVM",
                path.display()
            ),
        ));
    }
    let input = inputs::open(path)?;
    Ok(hch_jit::read_file(input.file, &input.label)?)
}

/// Records the JVM's JIT events (and samples, for the hot set) and reads them back.
fn live(args: &Args) -> anyhow::Result<(Read, Hot)> {
    let cancel = crate::cancel::on_interrupt()?;
    let opts = hch_jit::record_options(args.duration, args.interval);
    let bytes = args.connect.record(&args.input, &opts, &cancel)?;
    if let Some(keep) = &args.keep {
        std::fs::write(keep, &bytes).with_context(|| format!("writing {}", keep.display()))?;
    }
    let label = PathBuf::from(&args.input);
    let hot = hch_profile::from_live_recording(bytes.clone(), &label, &Default::default())
        .map(|a| hot_names(&a.hot))
        .unwrap_or_default();
    let file = hch_jfr::JfrFile::from_bytes(bytes);
    Ok((hch_jit::read_jfr(&file, &label), hot))
}

/// The hot set's methods, named as the timeline names them, with their share.
fn hot_names(hot: &hch_profile::HotSet) -> Hot {
    hot.blobs
        .iter()
        .map(|b| {
            let m = &b.method;
            let name = format!("{}.{}{}", m.class.replace('/', "."), m.name, m.descriptor);
            (name, Some(b.percent))
        })
        .collect()
}

/// A hot set from `hch analyze --json`, a directives file, or a recording to analyze.
fn hot_from(path: &Path) -> anyhow::Result<Hot> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) {
        if let Some(blobs) = v.pointer("/hot/blobs").and_then(|b| b.as_array()) {
            return Ok(blobs.iter().filter_map(blob_name).collect());
        }
        if let Some(list) = v.as_array() {
            let patterns = list
                .iter()
                .filter_map(|d| d.get("match"))
                .flat_map(|m| match m {
                    serde_json::Value::Array(a) => a.clone(),
                    one => vec![one.clone()],
                })
                .filter_map(|p| p.as_str().map(pattern_name))
                .map(|n| (n, None));
            return Ok(patterns.collect());
        }
    }
    let a = hch_profile::from_recordings(&[path.to_path_buf()], &Default::default())
        .with_context(|| format!("reading the hot set from {}", path.display()))?;
    Ok(hot_names(&a.hot))
}

fn blob_name(b: &serde_json::Value) -> Option<(String, Option<f64>)> {
    let m = b.get("method")?;
    let s = |k: &str| m.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let name = format!(
        "{}.{}{}",
        s("class").replace('/', "."),
        s("name"),
        s("descriptor")
    );
    Some((name, b.get("percent").and_then(|p| p.as_f64())))
}

/// A directive's `pkg/Class.method(desc)` pattern as the timeline names methods.
fn pattern_name(p: &str) -> String {
    p.replace('/', ".").replace("::", ".")
}
