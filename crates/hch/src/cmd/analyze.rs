//! `hch analyze`: flat profile, hot code set and directives from recordings or collapsed stacks.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use hch_profile::fleet::{self, Overlap, Weight};
use hch_profile::{hotset::Cutoff, Analysis, AnalyzeOptions, Dialect, HotOptions, Sizes};

use crate::cmd::inputs;
use crate::exit::{coded, Code, Status};

/// A line on stderr that never panics nor kills: a closed stderr must not stop `record` from
/// ending its JVM and removing its files.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;

/// Examples shown by `hch analyze --help`.
pub const EXAMPLES: &str = "Examples:
  hch analyze app.jfr                          flat profile head, hot set summary, warnings
  hch analyze app.jfr --flat 50 -a             50 rows with frame types (_[j] _[i] _[0] _[1] _[k])
  hch analyze a.jfr b.jfr -o hot.json          merge two recordings, write directives
  hch analyze app.jfr --codelist codelist.txt --budget 4M -o hot.json --dialect stock
  hch analyze profile.collapsed --collapsed    async-profiler/FlameGraph collapsed stacks in and out
  hch analyze app.jfr --pprof app.pb.gz         also write pprof (go tool pprof, Pyroscope, Parca)
  hch analyze i1.jfr i2.jfr i3.pb.gz --weight equal -o hot.json
                                               one hot set for a fleet, and how alike the instances are
  hch analyze cpu.pb.gz                        read a pprof (Pyroscope/Parca export, async-profiler's converter)
  hch analyze app.jfr --json | jq .hot.blobs[0]";

/// Options shared by `analyze` and `record`: views, hot set limits and directives.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Rows of the flat profile to print (async-profiler's `-o flat=N` text).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub flat: usize,
    /// Frame type suffixes as async-profiler's `-a`: _[j] JIT, _[i] inlined, _[0] interpreted, _[1] C1, _[k] kernel.
    #[arg(short = 'a', long)]
    pub annotate: bool,
    /// Print collapsed stacks (`frame;frame;leaf count`) instead of the flat profile and summary.
    #[arg(long, conflicts_with = "json")]
    pub collapsed: bool,
    /// Print everything as JSON (flat rows limited by --flat, hot set, directives, warnings).
    #[arg(long)]
    pub json: bool,
    /// At most N hot code blobs (the design's ~1000).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub top: usize,
    /// Stop once the hot blobs cover P percent of the compiled samples.
    #[arg(long, value_name = "P", value_parser = parse_percent)]
    pub coverage: Option<f64>,
    /// Leave out blobs with fewer than K samples.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub min_samples: u64,
    /// Size of the hot code segment the blobs must fit in (e.g. 8M, 512K).
    #[arg(long, value_name = "SIZE", default_value = "8M", value_parser = parse_size)]
    pub budget: u64,
    /// Blob sizes from a `jcmd PID Compiler.codelist` capture (else the design's 4 KB average).
    #[arg(long, value_name = "FILE")]
    pub codelist: Option<PathBuf>,
    /// Also write the profile (whole stacks) as gzipped pprof `profile.proto` to this file,
    /// for `go tool pprof`, Pyroscope, Parca or Grafana.
    #[arg(long, value_name = "FILE")]
    pub pprof: Option<PathBuf>,
    /// Write Compiler Control directives for the hot set to this file.
    #[arg(short = 'o', long = "directives", value_name = "OUT")]
    pub directives: Option<PathBuf>,
    /// auto: what the live JVM takes and acts on (`hot` for a file alone); hot: the design's
    /// `c2: { Hot: true }` (stock JDKs reject it); dragonwell: `AllocInNonProfiledHotCodeHeap`;
    /// stock: only options every JDK 9+ accepts.
    #[arg(long, value_enum, default_value_t = DialectArg::Auto)]
    pub dialect: DialectArg,
}

/// `--dialect` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    /// What the live JVM takes and acts on; `hot` when there is no JVM to ask.
    Auto,
    /// The design's `Hot: true` option (JVMs with a hot code segment only).
    Hot,
    /// Options every stock JDK 9+ accepts.
    Stock,
    /// Alibaba Dragonwell 21/25's `AllocInNonProfiledHotCodeHeap: true`.
    Dragonwell,
}

impl DialectArg {
    /// The dialect for a file alone (no JVM to ask).
    pub fn offline(self) -> Dialect {
        match self {
            DialectArg::Auto | DialectArg::Hot => Dialect::Hot,
            DialectArg::Stock => Dialect::Stock,
            DialectArg::Dragonwell => Dialect::Dragonwell,
        }
    }
}

/// `--weight` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WeightArg {
    /// Each input (instance) counts as much as the busiest one.
    Equal,
    /// Each sample counts once: busy instances weigh more.
    Samples,
}

/// Arguments of `hch analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JFR recordings (JDK or async-profiler), pprof, collapsed-stack and flat text files;
    /// several are merged (one per instance of a service: see --weight).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// With several inputs: how much each counts in the merged hot set. Either way hch reports
    /// how alike the inputs' own hot sets are.
    #[arg(long, value_enum, default_value_t = WeightArg::Samples)]
    pub weight: WeightArg,
    #[command(flatten)]
    pub opts: Options,
}

/// Runs `hch analyze`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let lib = library_options(&args.opts)?;
    let weight = match args.weight {
        WeightArg::Equal => Weight::Equal,
        WeightArg::Samples => Weight::Samples,
    };
    let (analysis, overlap) = from_inputs(&args.files, &lib, weight)?;
    let extra = match &overlap {
        Some(o) => vec![("fleet", serde_json::to_value(o)?)],
        None => Vec::new(),
    };
    let status = report_with(analysis, &args.opts, &extra)?;
    if let (Some(o), false) = (&overlap, args.opts.json || args.opts.collapsed) {
        print_overlap(o, &mut std::io::stdout().lock())?;
    }
    next_steps(&args);
    Ok(status)
}

/// How alike the instances' hot sets are, and what that means for one directives file.
fn print_overlap(o: &Overlap, out: &mut impl Write) -> std::io::Result<()> {
    let weight = match o.weight {
        Weight::Equal => "each input counts equally",
        _ => "each sample counts once",
    };
    writeln!(
        out,
        "\nFleet: {} inputs merged ({weight}); hot set overlap (Jaccard) min {:.2}, mean {:.2}.",
        o.instances.len(),
        o.min_jaccard,
        o.mean_jaccard
    )?;
    for p in &o.pairs {
        let (a, b) = (&o.instances[p.a], &o.instances[p.b]);
        writeln!(
            out,
            "  {} ({} samples, {} blobs) ~ {} ({} samples, {} blobs): {:.2} of the methods shared, {:.2} of the compiled time alike",
            a.source.display(),
            a.samples,
            a.hot_blobs,
            b.source.display(),
            b.samples,
            b.hot_blobs,
            p.jaccard,
            p.weighted
        )?;
    }
    if o.min_jaccard < 0.5 {
        writeln!(out, "  Some instances run different hot code: one directives file fits them poorly; consider one per group of alike instances.")?;
    } else {
        writeln!(
            out,
            "  The instances run much the same hot code: one directives file fits them."
        )?;
    }
    Ok(())
}

/// What to do next with this analysis, filled in.
fn next_steps(args: &Args) {
    if args.opts.json || args.opts.collapsed {
        return;
    }
    let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let lines = match &args.opts.directives {
        Some(out) => vec![
            format!(
                "hch directives check {}    # will a JVM load it?",
                out.display()
            ),
            format!(
                "hch directives replace PID {}    # apply it to a running JVM",
                out.display()
            ),
        ],
        None => vec![format!(
            "hch analyze {} -o hot.json    # write the hot set's directives",
            files.join(" ")
        )],
    };
    say!("\nnext:");
    for l in lines {
        say!("  {l}");
    }
}

/// What `hch_profile::from_recordings` does, over inputs opened by [`inputs::open`]: `-`,
/// FIFOs and gzip-compressed files work, devices and empty files are refused.
/// With several inputs, each is an instance: its own hot set is compared with the others'.
fn from_inputs(
    paths: &[PathBuf],
    lib: &AnalyzeOptions,
    weight: Weight,
) -> anyhow::Result<(Analysis, Option<Overlap>)> {
    let mut parts = Vec::new();
    let mut first_error = None;
    for p in paths {
        let mut profile = hch_profile::Profile::new();
        let partial = read_input(&mut profile, inputs::open(p)?, lib).map_err(input_error)?;
        first_error = first_error.or(partial);
        parts.push((p.clone(), profile));
    }
    let overlap = (parts.len() > 1).then(|| {
        let hot: Vec<_> = parts
            .iter()
            .map(|(_, p)| hch_profile::hotset::hot_set(p, &lib.hot, &lib.sizes))
            .collect();
        let instances = parts
            .iter()
            .zip(&hot)
            .map(|((path, p), h)| (path.clone(), p.total_samples, h))
            .collect();
        fleet::overlap(instances, weight)
    });
    let merged = fleet::merge(parts.into_iter().map(|(_, p)| p).collect(), weight);
    let mut a = hch_profile::analysis::analyze(merged, lib);
    a.error = first_error;
    Ok((a, overlap))
}

/// Adds one input's samples; the library tells its format from its first bytes.
fn read_input(
    profile: &mut hch_profile::Profile,
    input: inputs::Input,
    lib: &AnalyzeOptions,
) -> Result<Option<hch_profile::Error>, hch_profile::Error> {
    let depth = match lib.full_stacks {
        true => hch_jfr::StackDepth::Full,
        false => hch_jfr::StackDepth::Host,
    };
    hch_profile::input::read_opened(profile, &input.label, input.file, depth)
}

/// Converts the CLI options into the library's, reading the codelist if one is given.
pub fn library_options(o: &Options) -> anyhow::Result<AnalyzeOptions> {
    let hot = HotOptions {
        top: o.top,
        coverage: o.coverage,
        min_samples: o.min_samples,
        budget: o.budget,
    };
    let dialect = o.dialect.offline();
    let sizes = match &o.codelist {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading --codelist {}", p.display()))?;
            let list = hch_codecache::codelist::parse(&text).map_err(|e| {
                coded(
                    Code::BadInput,
                    format!("{}: not a Compiler.codelist capture: {e}", p.display()),
                )
            })?;
            Sizes::from_codelist(&list)
        }
        None => Sizes::default(),
    };
    Ok(AnalyzeOptions {
        hot,
        sizes,
        dialect,
        annotate: o.annotate,
        full_stacks: o.collapsed || o.pprof.is_some(),
    })
}

/// A library input error with its exit code: bad input files are 5, I/O is 1.
pub fn input_error(e: hch_profile::Error) -> anyhow::Error {
    match e {
        hch_profile::Error::Io { .. } | hch_profile::Error::Jfr { .. } => anyhow::Error::new(e),
        other => coded(Code::BadInput, other.to_string()),
    }
}

/// Prints the outputs asked for, writes directives, and turns a partial read into exit 5.
pub fn report(a: Analysis, o: &Options) -> anyhow::Result<Status> {
    report_with(a, o, &[])
}

/// [`report`], with more members for `--json` (e.g. what a live profile cost the JVM).
pub fn report_with(
    mut a: Analysis,
    o: &Options,
    extra: &[(&str, serde_json::Value)],
) -> anyhow::Result<Status> {
    let mut out = std::io::stdout().lock();
    if o.collapsed {
        hch_profile::collapsed::write(&a.profile, o.annotate, &mut out)?;
    } else if o.json {
        a.flat.rows.truncate(o.flat);
        let mut doc = serde_json::to_value(&a)?;
        if let Some(map) = doc.as_object_mut() {
            for (k, v) in extra {
                map.insert(k.to_string(), v.clone());
            }
        }
        crate::output::print_json(&doc)?;
    } else {
        hch_profile::flat::write_text(&a.flat, o.flat, &mut out)?;
        summary(&a, o, &mut out)?;
    }
    out.flush()?;
    for w in &a.warnings {
        say!("hch: warning: {w}");
    }
    if let Some(path) = &o.directives {
        write_directives(&a, o, path)?;
    }
    if let Some(path) = &o.pprof {
        write_pprof(&a.profile, path)?;
    }
    match a.error.take() {
        Some(e) => Err(anyhow::Error::new(e)
            .context("the input is broken after the part shown (results above are sound)")),
        None => Ok(Status(Code::Ok)),
    }
}

/// Writes the profile as gzipped pprof.
fn write_pprof(p: &hch_profile::Profile, path: &std::path::Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("creating --pprof {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    hch_profile::pprof::write(p, &mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("writing --pprof {}", path.display()))?;
    say!("hch: wrote pprof {}", path.display());
    Ok(())
}

/// The hot set in words: blobs, coverage, bytes against the budget and where sizes came from.
fn summary(a: &Analysis, o: &Options, out: &mut impl Write) -> std::io::Result<()> {
    let h = &a.hot;
    let other = h.total_samples.saturating_sub(h.compiled_samples);
    writeln!(out)?;
    writeln!(
        out,
        "Hot set: {} code blobs cover {:.1}% of {} samples in compiled code ({} samples in all, {} with an interpreted or native top); {} candidates, {}.",
        h.blobs.len(),
        h.coverage,
        h.compiled_samples,
        h.total_samples,
        other,
        h.candidates,
        cutoff_words(h.cutoff, o)
    )?;
    let sizes = if h.sizes_from_codelist {
        let rest = if h.measured_sizes < h.blobs.len() {
            ", an assumed 4 KB for the rest"
        } else {
            ""
        };
        format!(
            "real sizes from the JVM's codelist for {} of {} blobs{rest}",
            h.measured_sizes,
            h.blobs.len()
        )
    } else {
        "sizes are an assumed 4 KB per blob (a live profile, or --codelist FILE, gives real ones)"
            .to_string()
    };
    writeln!(
        out,
        "Size: {} of the {} budget; {sizes}.",
        human(h.bytes),
        human(h.budget)
    )?;
    if h.sizes_from_codelist {
        levels(h, out)?;
    }
    let shown = o.flat.min(10);
    if shown > 0 && !h.blobs.is_empty() {
        writeln!(
            out,
            "A code blob is one method's compiled machine code; a sample counts for the blob that runs it, \
             inlined callees included, so this list differs from the flat profile above (leaf frames, % of all samples)."
        )?;
        writeln!(
            out,
            "  {:>7}  {:>7}  code blob (% of the compiled samples)",
            "share", "samples"
        )?;
    }
    for b in h.blobs.iter().take(shown) {
        let name = hch_profile::names::method_name(&b.method, true);
        writeln!(
            out,
            "  {:>6.2}%  {:>7}  {name}{}",
            b.percent, b.samples, b.method.descriptor
        )?;
    }
    if h.blobs.len() > shown && shown > 0 {
        writeln!(
            out,
            "  ... {} more (--json lists them all)",
            h.blobs.len() - shown
        )?;
    }
    for n in &a.directives.notes {
        writeln!(out, "Note: {n}")?;
    }
    Ok(())
}

/// C1 or C2, from the codelist: a `c2` option such as `Hot: true` only acts on C2 compiles.
fn levels(h: &hch_profile::HotSet, out: &mut impl Write) -> std::io::Result<()> {
    let c2 = h.blobs.iter().filter(|b| b.level == Some(4)).count();
    let c1 = h
        .blobs
        .iter()
        .filter(|b| matches!(b.level, Some(1..=3)))
        .count();
    let gone = h.blobs.iter().filter(|b| b.level.is_none()).count();
    writeln!(
        out,
        "Compile levels (codelist): {c2} blobs are C2 code, {c1} only C1 (a `c2` option does not act on them until C2 compiles them), {gone} not in the codelist (deoptimized since, or the codelist is from another run)."
    )
}

/// Why the hot set ended, in words.
fn cutoff_words(c: Cutoff, o: &Options) -> String {
    match c {
        Cutoff::Top => format!("cut at --top {}", o.top),
        Cutoff::Coverage => format!("cut at --coverage {}%", o.coverage.unwrap_or(100.0)),
        Cutoff::MinSamples => format!("cut at --min-samples {}", o.min_samples),
        Cutoff::Budget => format!("cut at the --budget {}", human(o.budget)),
        _ => "all taken".to_string(),
    }
}

/// Writes the directives file and says plainly which JVMs will load it.
fn write_directives(a: &Analysis, _o: &Options, path: &std::path::Path) -> anyhow::Result<()> {
    if a.directives.is_empty() {
        say!(
            "hch: warning: the hot set is empty: no directives written to {}",
            path.display()
        );
        return Ok(());
    }
    hch_profile::dump(path, &a.directives)?;
    let dialect = a.directives.dialect;
    say!(
        "hch: wrote {} method patterns to {} (dialect {})",
        a.directives.patterns.len(),
        path.display(),
        dialect.name()
    );
    match dialect {
        Dialect::Hot => say!("hch: note: stock JDKs (17 to 25 checked) reject the whole file because of `Hot: true` (\"No such key: 'Hot'\"); it is for a JVM with a hot code segment. For a stock JVM write it with --dialect stock."),
        Dialect::Dragonwell => say!("hch: note: only Alibaba Dragonwell 21/25 takes `AllocInNonProfiledHotCodeHeap`, and acts on it with -XX:NonProfiledHotCodeHeapSize=<size>; other JVMs reject the whole file."),
        _ => {}
    }
    say!(
        "hch: to load it: at start-up `java -XX:+UnlockDiagnosticVMOptions -XX:CompilerDirectivesFile={} ...`; into a running JVM `hch directives replace PID {}`",
        path.display(),
        path.display()
    );
    Ok(())
}

pub use hch_profile::hotset::parse_size;

/// A percentage in (0, 100].
fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage"))?;
    if v > 0.0 && v <= 100.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not in (0, 100]"))
    }
}

/// Bytes for people: `1.6M`, `512K`.
fn human(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1}M", b as f64 / f64::from(1u32 << 20))
    } else {
        format!("{}K", b.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
