//! `hch compact TARGET`: lays a JVM's hot code out compactly on a stock JDK, through the agent
//! and HotSpot's WhiteBox API (experimental: the JVM must run with the WhiteBox flags). Each
//! hot method's code is made not entrant and compiled again, in hot order, so the new copies
//! lie back to back; before and after, hch's own sparseness is measured on the live codelist.
//! A local PID gets the agent loaded through the attach mechanism; a remote HOST:PORT must run
//! it already (its MBean takes the request over JMX).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hch_codecache::sparse::{self, Figures, Sparseness};
use hch_codecache::MethodRef;
use serde::Serialize;

use crate::cmd::agent::{jmx, library, open_vm};
use crate::cmd::codecache::{feature, snapshot};
use crate::cmd::sparseness::{hot_from_recording, hot_methods, record};
use crate::exit::{coded, Code, Status};
use crate::relayout::{self, Ask, Channel, WHITEBOX_FLAGS};
use crate::target_args::{parse_spec, Connect};
use hch_target::TargetSpec;

/// Examples shown by `hch compact --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch compact --print-flags                          the JVM flags that enable it
  hch compact 12345                                  profile 20 s, then compact the hot set
  hch compact 12345 --duration 60s --svg compact.svg before and after, side by side
  hch compact 12345 --directives hot.json            the methods of a directives file, in order
  hch compact 12345 --budget 2M --time-limit 20s     at most 2 MiB of hot code, within 20 s
  hch compact db1:9010 --duration 30s                over JMX, where the JVM runs hch's agent

Experimental. It needs a JVM started with -XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI and
loads hch's agent into a local one; a remote one (HOST:PORT) must run the agent already
(-agentpath:/path/libhch_agent.so). Each hot method is recompiled once (its callers run in the interpreter for a
few milliseconds); methods whose compile fails or times out are left to the JVM's own JIT.";

/// Arguments of `hch compact`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JVM: a PID on this host, or HOST:PORT of a JMX agent (the JVM runs hch's agent).
    #[arg(value_name = "TARGET", required_unless_present = "print_flags")]
    pub target: Option<String>,
    /// Print the JVM flags that make compaction possible, and exit.
    #[arg(long)]
    pub print_flags: bool,
    /// Profile the JVM with JFR for this long to find the hot set (default 20s).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, conflicts_with_all = ["directives", "profile"])]
    pub duration: Option<Duration>,
    /// Take the hot set from a directives file (its `match` patterns, in order).
    #[arg(long, value_name = "FILE", conflicts_with = "profile")]
    pub directives: Option<PathBuf>,
    /// Take the hot set from a recording of this JVM (JFR or collapsed stacks).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Hot methods to move, hottest first.
    #[arg(long, default_value_t = 1000)]
    pub top: usize,
    /// Move at most this much hot code (bytes of its current copies, hottest first), e.g. 4M.
    #[arg(long, value_name = "SIZE", value_parser = crate::cmd::analyze::parse_size)]
    pub budget: Option<u64>,
    /// Stop after this long; methods not reached keep their code.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, default_value = "60s")]
    pub time_limit: Duration,
    /// compact (default), or sparse: the opposite, one method per 64 KiB, for experiments.
    #[arg(long, value_name = "LAYOUT", default_value = "compact", value_parser = ["compact", "sparse"])]
    pub layout: String,
    /// Write SVG maps of the hot code before and after, side by side.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The agent library (default: next to hch, or $HCH_AGENT_LIB).
    #[arg(long, value_name = "PATH")]
    pub lib: Option<PathBuf>,
    #[command(flatten)]
    pub connect: Connect,
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    target: &'a str,
    layout: &'a str,
    hot_methods: usize,
    before: &'a Figures,
    after: &'a Figures,
    agent: &'a hch_agent::relayout::Report,
}

/// Runs `hch compact`.
pub fn run(a: Args) -> anyhow::Result<Status> {
    if a.print_flags {
        println!("{}", WHITEBOX_FLAGS.join(" "));
        return Ok(Status(Code::Ok));
    }
    let spec = a.target.as_deref().unwrap_or_default();
    let parsed = parse_spec(spec)?;
    let pid = match parsed {
        TargetSpec::Pid(pid) => Some(pid),
        _ => None,
    };
    // The agent's channel first: a remote JVM without the agent is refused before profiling.
    let mut ch = match pid {
        Some(pid) => Channel::Attach {
            vm: open_vm(pid, &a.connect)?,
            lib: library(a.lib.as_deref())?,
        },
        None => Channel::Jmx {
            jmx: jmx(&parsed, &a.connect)?,
            at: spec.to_string(),
        },
    };
    let place = ch.place();
    let mut t = a.connect.open(spec)?;
    relayout::require_whitebox(t.as_mut(), &place)?;
    ch.require_agent()?;
    let cancel = crate::cancel::on_interrupt()?;
    let recording = match (&a.directives, &a.profile) {
        (None, None) => Some(record(
            spec,
            a.duration.unwrap_or(Duration::from_secs(20)),
            &a.connect,
        )?),
        _ => None,
    };
    let jdk = feature(t.as_mut());
    let before_snap = snapshot(t.as_mut(), jdk, true, false)?;
    let list = before_snap.list.as_ref().context("no codelist")?;
    let hot = match (&recording, a.directives.as_ref().or(a.profile.as_ref())) {
        (Some(bytes), _) => {
            hot_from_recording(bytes.clone(), Path::new("live recording"), list, a.top)?
        }
        (None, Some(p)) => hot_methods(p, list, a.top)?,
        (None, None) => unreachable!("a recording or a file"),
    };
    let before = sparse::join(list, &before_snap.cache, &hot);
    let methods = within_budget(&before.placed, a.budget);
    if methods.is_empty() {
        return Err(coded(
            Code::Error,
            format!(
                "{place}: none of the {} hot methods has compiled code now; nothing to compact",
                hot.len()
            ),
        ));
    }
    let layout = if a.layout == "sparse" {
        "sparse"
    } else {
        "compact"
    };
    let ask = Ask {
        methods: &methods,
        layout,
        time: a.time_limit,
        flush: false,
    };
    if !a.json {
        eprintln!(
            "hch: {place}: re-laying out {} hot methods ({layout}) through WhiteBox; experimental",
            methods.len()
        );
    }
    let report = relayout::run(&mut ch, &ask, &cancel)?;
    let after_snap = snapshot(t.as_mut(), jdk, true, false)?;
    let after_list = after_snap.list.as_ref().context("no codelist")?;
    let after = sparse::join(after_list, &after_snap.cache, &hot);
    if let Some(path) = &a.svg {
        let maps = [
            sparse::map_of(list, &before_snap.cache, &before, "before"),
            sparse::map_of(
                after_list,
                &after_snap.cache,
                &after,
                &format!("after hch compact ({layout})"),
            ),
        ];
        std::fs::write(path, sparse::svg_maps(&maps))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        crate::output::print_json(&Output {
            pid,
            target: spec,
            layout,
            hot_methods: hot.len(),
            before: &before.overall,
            after: &after.overall,
            agent: &report,
        })?;
    } else {
        print_text(
            &mut std::io::stdout().lock(),
            &place,
            &report,
            &before,
            &after,
            a.svg.as_deref(),
        )?;
    }
    Ok(Status(Code::Ok))
}

/// The methods to move, hottest first, each once, while their code fits in `budget`.
fn within_budget(placed: &[sparse::Placed], budget: Option<u64>) -> Vec<MethodRef> {
    let mut seen = std::collections::HashSet::new();
    let mut used = 0u64;
    let mut out = Vec::new();
    for p in placed {
        used += p.end.saturating_sub(p.start);
        if budget.is_some_and(|b| used > b) {
            break;
        }
        if seen.insert(p.method.pattern()) {
            out.push(p.method.clone());
        }
    }
    out
}

/// The text report: what moved, then the figures before and after.
fn print_text(
    o: &mut impl Write,
    place: &str,
    r: &hch_agent::relayout::Report,
    before: &Sparseness,
    after: &Sparseness,
    svg: Option<&Path>,
) -> std::io::Result<()> {
    writeln!(o, "{place}: recompiled {} of {} compiled hot methods in {:.1} s ({} holes plugged, {} KiB, then freed)", r.moved, r.compiled, r.millis as f64 / 1000.0, r.plugs, r.plug_bytes / 1024)?;
    if let Some(s) = &r.stopped {
        writeln!(o, "stopped early: {s}")?;
    }
    if !r.fallback.is_empty() {
        writeln!(
            o,
            "left to the JVM's own JIT (compile failed or timed out): {}",
            r.fallback.join(", ")
        )?;
    }
    let (b, f) = (&before.overall, &after.overall);
    writeln!(
        o,
        "\nhot code, measured on Compiler.codelist   before      after"
    )?;
    writeln!(
        o,
        "  hot nmethods                        {:>10} {:>10}",
        b.nmethods, f.nmethods
    )?;
    writeln!(
        o,
        "  distinct 4 KiB pages                {:>10} {:>10}",
        b.pages, f.pages
    )?;
    writeln!(
        o,
        "  distinct 2 MiB regions              {:>10} {:>10}",
        b.regions, f.regions
    )?;
    writeln!(
        o,
        "  span                                {:>7} KiB {:>6} KiB",
        b.span_bytes / 1024,
        f.span_bytes / 1024
    )?;
    writeln!(
        o,
        "  density (hot bytes / page bytes)    {:>9.1}% {:>9.1}%",
        b.density * 100.0,
        f.density * 100.0
    )?;
    writeln!(
        o,
        "  pages if packed                     {:>10} {:>10}",
        b.packed_pages, f.packed_pages
    )?;
    if !after.unmatched.is_empty() {
        writeln!(o, "{} hot methods had no compiled code in the codelist afterwards (the JIT compiles them again as they run)", after.unmatched.len())?;
    }
    if let Some(p) = svg {
        writeln!(o, "maps before and after: {}", p.display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(pattern: &str, start: u64, len: u64) -> sparse::Placed {
        sparse::Placed {
            method: MethodRef::from_pattern(pattern).unwrap(),
            level: 4,
            start,
            end: start + len,
            heap: "CodeHeap 'non-profiled nmethods'".into(),
            samples: 1.0,
        }
    }

    #[test]
    fn the_budget_keeps_the_hottest_that_fit_each_method_once() {
        let p = [
            placed("a/A.f()V", 0x1000, 600),
            placed("a/A.f()V", 0x9000, 600),
            placed("a/B.g(I)I", 0x2000, 500),
            placed("a/C.h()V", 0x3000, 100),
        ];
        let names = |b| -> Vec<String> {
            within_budget(&p, b)
                .iter()
                .map(MethodRef::pattern)
                .collect()
        };
        assert_eq!(names(None), ["a/A.f()V", "a/B.g(I)I", "a/C.h()V"]);
        // Both copies of f count (1200); g brings it to 1700; the cut is at the first miss.
        assert_eq!(names(Some(1700)), ["a/A.f()V", "a/B.g(I)I"]);
        assert_eq!(names(Some(1699)), ["a/A.f()V"]);
        assert_eq!(names(Some(100)), Vec::<String>::new());
    }
}
