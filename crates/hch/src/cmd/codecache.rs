//! `hch codecache`: read a JVM's code cache (summary, codelist, heap analytics) and print the
//! diagnosis with verdicts. Also the helpers `watch` and `sparseness` share: opening a target
//! and taking a snapshot.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::Context;
use hch_codecache::analytics;
use hch_codecache::codecache as cc;
use hch_codecache::report::{self, Report, Thresholds};
pub use hch_target::codecache::{feature, parse_codelist, snapshot, Snapshot};
use serde::Serialize;

use crate::exit::{coded, Code, Status};
use crate::target_args::Connect;

/// Examples shown by `hch codecache --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch codecache 12345                 diagnose the JVM with pid 12345 (containers too)
  hch codecache 12345 --json          the same as JSON
  hch codecache 10.0.0.5:9010         a remote JVM over JMX
  hch codecache --codecache-file cc.txt --codelist-file list.txt --jdk 17
                                      diagnose saved `jcmd` outputs

Exit status 6 means verdicts were found (something is wrong); 0 means healthy.";

/// Arguments of `hch codecache`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JVM: a pid, or host:port for JMX. Not needed with --codecache-file.
    pub target: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Skip Compiler.CodeHeap_Analytics (no largest free block / fragmentation figures).
    #[arg(long)]
    pub no_analytics: bool,
    #[command(flatten)]
    pub connect: Connect,
    #[command(flatten)]
    pub files: FileArgs,
}

/// Saved outputs to analyze instead of a live JVM.
#[derive(Debug, Clone, clap::Args)]
pub struct FileArgs {
    /// A saved `jcmd PID Compiler.codecache` output.
    #[arg(long, value_name = "FILE")]
    pub codecache_file: Option<PathBuf>,
    /// A saved `jcmd PID Compiler.codelist` output.
    #[arg(long, value_name = "FILE")]
    pub codelist_file: Option<PathBuf>,
    /// A saved `jcmd PID Compiler.CodeHeap_Analytics` output.
    #[arg(long, value_name = "FILE")]
    pub analytics_file: Option<PathBuf>,
    /// The JDK feature version that printed the files (state numbers differ: 17 vs 25).
    #[arg(long, value_name = "N")]
    pub jdk: Option<u32>,
}

/// Reads saved outputs.
pub fn from_files(f: &FileArgs) -> anyhow::Result<Snapshot> {
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let path = f
        .codecache_file
        .as_ref()
        .ok_or_else(|| coded(Code::Usage, "give a TARGET or --codecache-file"))?;
    let cache = cc::parse(&read(path)?)
        .map_err(|e| coded(Code::BadInput, format!("{}: {e}", path.display())))?;
    let list = match &f.codelist_file {
        Some(p) => Some(
            parse_codelist(&read(p)?, f.jdk)
                .map_err(|e| coded(Code::BadInput, format!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    let analytics = match &f.analytics_file {
        Some(p) => Some(
            analytics::parse(&read(p)?)
                .map_err(|e| coded(Code::BadInput, format!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    Ok(Snapshot {
        cache,
        list,
        analytics,
        notes: Vec::new(),
    })
}

/// The JSON document of `hch codecache --json`.
#[derive(Debug, Serialize)]
struct Output<'a> {
    target: &'a str,
    jdk: Option<u32>,
    report: &'a Report,
}

/// Runs `hch codecache`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let (name, jdk, snap) = match &args.target {
        Some(spec) => {
            // Ctrl-C waits for the few commands to end, so the analytics are always discarded.
            let stop = crate::cancel::on_interrupt()?;
            let mut t = args.connect.open(spec)?;
            let jdk = feature(t.as_mut());
            let snap = snapshot(t.as_mut(), jdk, true, !args.no_analytics)?;
            for n in &snap.notes {
                eprintln!("hch: note: {n}");
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(Status(Code::Interrupted));
            }
            (t.describe(), jdk, snap)
        }
        None => (
            "files".to_string(),
            args.files.jdk,
            from_files(&args.files)?,
        ),
    };
    let r = report::analyze(
        &snap.cache,
        snap.list.as_ref(),
        snap.analytics.as_ref(),
        &Thresholds::default(),
    );
    if args.json {
        crate::output::print_json(&Output {
            target: &name,
            jdk,
            report: &r,
        })?;
    } else {
        print_text(&mut std::io::stdout().lock(), &name, jdk, &r)?;
    }
    Ok(Status(if r.verdicts.is_empty() {
        Code::Ok
    } else {
        Code::Findings
    }))
}

/// The text report.
pub fn print_text(
    o: &mut impl Write,
    name: &str,
    jdk: Option<u32>,
    r: &Report,
) -> std::io::Result<()> {
    writeln!(
        o,
        "code cache of {name}{}",
        jdk.map(|j| format!(" (JDK {j})")).unwrap_or_default()
    )?;
    writeln!(
        o,
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>12} {:>6} {:>9} {:>8}",
        "heap",
        "size KiB",
        "used KiB",
        "max KiB",
        "free KiB",
        "largest free",
        "frag",
        "nmethods",
        "not ent"
    )?;
    for h in &r.heaps {
        let largest = h
            .largest_free_bytes
            .map_or("-".into(), |b| format!("{} KiB", b / 1024));
        let frag = h
            .fragmentation
            .map_or("-".into(), |f| format!("{:.0}%", f * 100.0));
        writeln!(
            o,
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>12} {:>6} {:>9} {:>8}",
            format!("'{}'", h.name),
            h.size_kb,
            h.used_kb,
            h.max_used_kb,
            h.free_kb,
            largest,
            frag,
            h.nmethods,
            h.not_entrant
        )?;
    }
    let t = &r.tiers;
    writeln!(o, "nmethods: {} (native wrappers {}, method handle intrinsics {}, C1 level 1/2/3 {}/{}/{}, C2 {})", r.nmethods, t.native_wrappers, t.method_handle_intrinsics, t.c1[0], t.c1[1], t.c1[2], t.c2)?;
    let states: Vec<String> = r.states.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(o, "states: {}", states.join(", "))?;
    writeln!(
        o,
        "not-entrant backlog: {} nmethods, {} KiB",
        r.not_entrant,
        r.not_entrant_bytes.div_ceil(1024)
    )?;
    if !r.top_methods.is_empty() {
        writeln!(o, "methods with the most versions:")?;
        for m in &r.top_methods {
            writeln!(
                o,
                "  {:>5}  {}  ({} in use, {} not entrant)",
                m.versions, m.method, m.in_use, m.not_entrant
            )?;
        }
    }
    print_compilation(o, r)?;
    print_verdicts(o, &r.verdicts)
}

/// Full count and compiler state.
fn print_compilation(o: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(
        o,
        "full count: {}",
        r.full_count.map_or("-".into(), |n| n.to_string())
    )?;
    match &r.compilation {
        Some(c) if c.enabled => writeln!(o, "compilation: enabled"),
        Some(c) => writeln!(
            o,
            "compilation: DISABLED ({})",
            c.reason.as_deref().unwrap_or("no reason printed")
        ),
        None => writeln!(o, "compilation: unknown"),
    }
}

/// The verdicts, or that there are none.
pub fn print_verdicts(o: &mut impl Write, verdicts: &[report::Verdict]) -> std::io::Result<()> {
    if verdicts.is_empty() {
        return writeln!(o, "verdicts: none, the code cache looks healthy");
    }
    for v in verdicts {
        writeln!(o, "\nVERDICT [{}] {}", v.id, v.title)?;
        for e in &v.evidence {
            writeln!(o, "  evidence: {e}")?;
        }
        writeln!(o, "  cause: {}", v.cause)?;
        writeln!(o, "  fix: {}", v.fix)?;
    }
    Ok(())
}
