//! `hch sparseness`: how scattered the hot code lies in the code cache. The hot set (from a
//! profile or a directives file) is joined with the nmethod addresses of `Compiler.codelist`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hch_codecache::sparse::{self, Figures, HotMethod, Sparseness};
use hch_codecache::MethodRef;
use hch_profile::hotset::Sizes;
use hch_target::jfr::RecordOptions;
use serde::Serialize;

use crate::cmd::codecache::{feature, from_files, snapshot, FileArgs, Snapshot};
use crate::exit::{coded, Code, Status};
use crate::target_args::Connect;

/// Examples shown by `hch sparseness --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch sparseness 12345 --duration 20s --svg map.svg      profile it with JFR for 20 s first
  hch sparseness 12345 --profile rec.jfr --svg map.svg   hot set from a recording of that JVM
  hch sparseness 12345 --profile hot.json                hot set from a directives file
  hch sparseness --codelist-file list.txt --codecache-file cc.txt --profile stacks.txt

Figures: hot bytes, distinct 4 KiB pages and 2 MiB regions they touch, their span, density
(hot bytes over the bytes of the pages touched), and the same if the hot code were packed.";

/// Arguments of `hch sparseness`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JVM: a pid, or host:port for JMX. Not needed with --codelist-file.
    pub target: Option<String>,
    /// The hot set: a JFR recording, collapsed stacks, or a Compiler Control directives file.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "duration",
        conflicts_with = "duration"
    )]
    pub profile: Option<PathBuf>,
    /// Profile the live TARGET with JFR for this long to find the hot set.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, requires = "target")]
    pub duration: Option<Duration>,
    /// Hot methods to take from a profile, hottest first.
    #[arg(long, default_value_t = 1000)]
    pub top: usize,
    /// Write an SVG map of the code heaps here.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: Connect,
    #[command(flatten)]
    pub files: FileArgs,
}

/// Runs `hch sparseness`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    // A live profile comes first: the addresses must be read after it, as they are now.
    let recording = match (&args.target, args.duration) {
        (Some(spec), Some(d)) => Some(record(spec, d, &args.connect)?),
        _ => None,
    };
    let snap = match &args.target {
        Some(spec) => {
            let mut t = args.connect.open(spec)?;
            let jdk = feature(t.as_mut());
            snapshot(t.as_mut(), jdk, true, false)?
        }
        None => from_files(&args.files)?,
    };
    let list = snap.list.as_ref().ok_or_else(|| {
        coded(
            Code::Usage,
            "give a TARGET or --codelist-file (and --codecache-file)",
        )
    })?;
    let hot = match (&recording, &args.profile) {
        (Some(bytes), _) => {
            hot_from_recording(bytes.clone(), Path::new("live recording"), list, args.top)?
        }
        (None, Some(path)) => hot_methods(path, list, args.top)?,
        (None, None) => return Err(coded(Code::Usage, "give --profile FILE or --duration D")),
    };
    let s = sparse::join(list, &snap.cache, &hot);
    if let Some(path) = &args.svg {
        std::fs::write(path, sparse::svg(list, &snap.cache, &s))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        crate::output::print_json(&Output {
            hot_methods: hot.len(),
            sparseness: &s,
        })?;
    } else {
        print_text(
            &mut std::io::stdout().lock(),
            &snap,
            hot.len(),
            &s,
            args.svg.as_deref(),
        )?;
    }
    Ok(Status(Code::Ok))
}

/// Records the target with JFR (CPU samples only); nothing is left running or on disk after.
pub(crate) fn record(spec: &str, d: Duration, c: &Connect) -> anyhow::Result<Vec<u8>> {
    let cancel = crate::cancel::on_interrupt()?;
    c.record(spec, &RecordOptions::new(d), &cancel)
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct Output<'a> {
    hot_methods: usize,
    sparseness: &'a Sparseness,
}

/// The hot methods of a profile or directives file, hottest first.
pub(crate) fn hot_methods(
    path: &Path,
    list: &hch_codecache::codelist::Codelist,
    top: usize,
) -> anyhow::Result<Vec<HotMethod>> {
    let head = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'[' || b == b'{')
    {
        return from_directives(path, &String::from_utf8_lossy(&head));
    }
    let a = hch_profile::from_recordings(&[path.to_path_buf()], &profile_options(list, top))
        .map_err(|e| coded(Code::BadInput, format!("{}: {e}", path.display())))?;
    Ok(hot_of(&a))
}

/// The hot methods of a recording held in memory.
pub(crate) fn hot_from_recording(
    bytes: Vec<u8>,
    source: &Path,
    list: &hch_codecache::codelist::Codelist,
    top: usize,
) -> anyhow::Result<Vec<HotMethod>> {
    let a = hch_profile::from_live_recording(bytes, source, &profile_options(list, top)).map_err(
        |e| {
            coded(
                Code::BadInput,
                format!("live recording: {}", hch_target::with_causes(&e)),
            )
        },
    )?;
    Ok(hot_of(&a))
}

/// The analysis options: measured sizes, no budget cut (sparseness wants the whole hot set).
fn profile_options(
    list: &hch_codecache::codelist::Codelist,
    top: usize,
) -> hch_profile::AnalyzeOptions {
    hch_profile::AnalyzeOptions {
        sizes: Sizes::from_codelist(list),
        hot: hch_profile::hotset::HotOptions {
            top,
            budget: u64::MAX,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Hot blobs as hot methods, hottest first.
fn hot_of(a: &hch_profile::Analysis) -> Vec<HotMethod> {
    a.hot.hot_methods()
}

/// The whole-method `match` patterns of a directives file, in order.
pub(crate) fn directives_patterns(path: &Path, text: &str) -> anyhow::Result<Vec<MethodRef>> {
    Ok(from_directives(path, text)?
        .into_iter()
        .map(|h| h.method)
        .collect())
}

/// The `match` patterns of a directives file, one sample each (directives carry no weights).
fn from_directives(path: &Path, text: &str) -> anyhow::Result<Vec<HotMethod>> {
    let v = hch_profile::json::parse(text, false).map_err(|e| {
        coded(
            Code::BadInput,
            format!(
                "{}:{}:{}: {}",
                path.display(),
                e.pos.line,
                e.pos.byte,
                e.message
            ),
        )
    })?;
    let mut out = Vec::new();
    collect_patterns(&v, &mut out);
    if out.is_empty() {
        return Err(coded(
            Code::BadInput,
            format!(
                "{}: no `match` patterns of whole methods found",
                path.display()
            ),
        ));
    }
    Ok(out)
}

/// Walks the JSON for `match` strings or arrays of strings.
fn collect_patterns(v: &hch_profile::json::Value, out: &mut Vec<HotMethod>) {
    use hch_profile::json::Value;
    match v {
        Value::Array(_, items) => items.iter().for_each(|i| collect_patterns(i, out)),
        Value::Object(_, fields) => {
            for (_, k, val) in fields {
                match (k.as_str(), val) {
                    ("match", Value::Str(_, p)) => out.extend(pattern_method(p)),
                    ("match", Value::Array(_, ps)) => out.extend(ps.iter().filter_map(|p| {
                        if let Value::Str(_, p) = p {
                            pattern_method(p)
                        } else {
                            None
                        }
                    })),
                    _ => collect_patterns(val, out),
                }
            }
        }
        _ => {}
    }
}

/// A whole-method pattern as a hot method of one sample; wildcards are left out.
fn pattern_method(p: &str) -> Option<HotMethod> {
    MethodRef::from_pattern(p).map(|method| HotMethod { method, samples: 1 })
}

/// The text report.
fn print_text(
    o: &mut impl Write,
    snap: &Snapshot,
    hot: usize,
    s: &Sparseness,
    svg: Option<&Path>,
) -> std::io::Result<()> {
    writeln!(
        o,
        "hot methods: {hot}; compiled now: {} nmethods; not compiled now: {}",
        s.placed.len(),
        s.unmatched.len()
    )?;
    writeln!(
        o,
        "{:<26} {:>8} {:>9} {:>8} {:>8} {:>10} {:>8} | packed: {:>6} {:>8} {:>8}",
        "",
        "nmethods",
        "hot KiB",
        "4K pages",
        "2M regs",
        "span KiB",
        "density",
        "pages",
        "regions",
        "density"
    )?;
    row(o, "all", &s.overall)?;
    for (h, f) in &s.per_heap {
        row(o, &format!("'{h}'"), f)?;
    }
    if let Some(share) = s.hot_heap_sample_share {
        writeln!(
            o,
            "hot code heap: {:.1} % of the hot samples are inside it",
            share * 100.0
        )?;
    } else if snap.cache.heaps.len() > 1 {
        writeln!(o, "hot code heap: none in this JVM (JDK 27+: -XX:+UnlockExperimentalVMOptions -XX:+HotCodeHeap)")?;
    }
    if let Some(p) = svg {
        writeln!(o, "map of the code heaps: {}", p.display())?;
    }
    Ok(())
}

/// One line of figures.
fn row(o: &mut impl Write, name: &str, f: &Figures) -> std::io::Result<()> {
    writeln!(
        o,
        "{name:<26} {:>8} {:>9.1} {:>8} {:>8} {:>10.1} {:>7.1}% | packed: {:>6} {:>8} {:>7.1}%",
        f.nmethods,
        f.hot_bytes as f64 / 1024.0,
        f.pages,
        f.regions,
        f.span_bytes as f64 / 1024.0,
        f.density * 100.0,
        f.packed_pages,
        f.packed_regions,
        f.packed_density * 100.0
    )
}
