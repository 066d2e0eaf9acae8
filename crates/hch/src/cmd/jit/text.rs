//! The text report of `hch jit`: what the input was, storms, churn, reasons, compiler load,
//! code cache, and method lifecycles.

use std::io::Write;

use hch_jit::{Format, Method, Ms, Report, TimeBase, Version};

use super::Args;

/// Prints the report to stdout.
pub fn print(r: &Report, args: &Args, error: Option<&hch_jit::Error>) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    header(&mut out, r, args, error)?;
    storms(&mut out, r)?;
    churn(&mut out, r, args)?;
    reasons(&mut out, r)?;
    load(&mut out, r)?;
    cache(&mut out, r)?;
    hot(&mut out, r)?;
    lifecycles(&mut out, r, args)?;
    out.flush()?;
    Ok(())
}

fn secs(ms: Ms) -> String {
    format!("{:.3} s", ms / 1000.0)
}

fn bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn header(
    out: &mut impl Write,
    r: &Report,
    args: &Args,
    error: Option<&hch_jit::Error>,
) -> anyhow::Result<()> {
    let s = &r.summary;
    let src = &s.source;
    let format = src.format.map_or("input", Format::label);
    let jdk = src
        .jdk
        .as_deref()
        .map(|v| format!(", JDK {v}"))
        .unwrap_or_default();
    writeln!(out, "{}: {format}{jdk}", args.input)?;
    if let Some((a, b)) = src.span_ms {
        let base = match src.time_base {
            TimeBase::JvmStart => "after the JVM started",
            TimeBase::RecordingStart => "after the recording started",
        };
        writeln!(out, "  covers {} to {} {base}", secs(a), secs(b))?;
    }
    if let (Some(rs), TimeBase::JvmStart) = (src.recording_start_ms, src.time_base) {
        writeln!(out, "  the recording started {} after the JVM", secs(rs))?;
    }
    writeln!(
        out,
        "  {} methods, {} compiles ({} failed), {} recompiles, {} uncommon traps, {} deoptimized frames, {} versions thrown away",
        s.methods, s.compiles, s.failed, s.recompiles, s.traps, s.frames, s.invalidations
    )?;
    if let Some(e) = error {
        writeln!(out, "  incomplete: {e}")?;
    }
    Ok(())
}

fn storms(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    writeln!(out, "\nStorms")?;
    if r.storms.is_empty() {
        writeln!(out, "  none")?;
    }
    for s in &r.storms {
        writeln!(
            out,
            "  {} to {}  {:?}: {} traps, {} thrown away, {} recompiles, {} methods, peak {:.0}/s",
            secs(s.start_ms),
            secs(s.end_ms),
            s.cause,
            s.traps,
            s.invalidations,
            s.recompiles,
            s.methods,
            s.peak_per_s
        )?;
        writeln!(out, "    {}", s.explanation)?;
        let top: Vec<String> = s
            .top_methods
            .iter()
            .map(|(m, c)| format!("{m} ({c})"))
            .collect();
        writeln!(out, "    most: {}", top.join(", "))?;
    }
    Ok(())
}

fn churn(out: &mut impl Write, r: &Report, args: &Args) -> anyhow::Result<()> {
    writeln!(out, "\nChurn: methods recompiled and deoptimized most")?;
    if r.churn.methods.is_empty() {
        writeln!(out, "  none")?;
        return Ok(());
    }
    writeln!(
        out,
        "  {:>8} {:>6} {:>6} {:>8}  {:<34} {:<24} METHOD",
        "RECOMP", "TRAPS", "AWAY", "COMPILES", "TOP TRAP REASON", "STATE"
    )?;
    let n = if args.top == 0 { usize::MAX } else { args.top };
    for c in r.churn.methods.iter().take(n) {
        let hot = match (c.hot, c.hot_percent) {
            (true, Some(p)) => format!("  [hot {p:.1}%]"),
            (true, None) => "  [hot]".into(),
            _ => String::new(),
        };
        writeln!(
            out,
            "  {:>8} {:>6} {:>6} {:>8}  {:<34} {:<24} {}{hot}",
            c.recompiles,
            c.traps,
            c.invalidations,
            c.compiles,
            c.top_reason.as_deref().unwrap_or("-"),
            c.state,
            c.method
        )?;
    }
    Ok(())
}

fn reasons(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    writeln!(out, "\nDeoptimization reasons")?;
    if r.churn.reasons.is_empty() {
        writeln!(out, "  no uncommon traps")?;
    }
    for x in &r.churn.reasons {
        let actions: Vec<String> = x.actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
        writeln!(
            out,
            "  {:>6} {:>5.1}%  {:<36} {} methods; {}",
            x.count,
            x.percent,
            x.reason,
            x.methods,
            actions.join(", ")
        )?;
    }
    Ok(())
}

fn load(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    writeln!(out, "\nCompiler load")?;
    let l = &r.load;
    if !l.threads.is_empty() {
        writeln!(
            out,
            "  {:<22} {:>8} {:>10} {:>5} {:>10}  LONGEST",
            "THREAD", "COMPILES", "BUSY", "UTIL", "BYTECODE/s"
        )?;
    }
    for t in &l.threads {
        writeln!(
            out,
            "  {:<22} {:>8} {:>10} {:>4.0}% {:>10}  {:.1} ms {}",
            t.thread,
            t.compiles,
            secs(t.busy_ms),
            100.0 * t.utilization,
            if t.bytes_per_s > 0.0 {
                bytes(t.bytes_per_s as u64)
            } else {
                "-".into()
            },
            t.longest_ms,
            t.longest
        )?;
    }
    writeln!(
        out,
        "  {:<6} {:>8} {:>7} {:>10} {:>9} {:>9} {:>10}",
        "TIER", "COMPILES", "FAILED", "TOTAL", "MEAN ms", "MAX ms", "CODE"
    )?;
    for t in &l.tiers {
        let timed = t.max_ms > 0.0;
        let or_dash = |v: String, known: bool| if known { v } else { "-".into() };
        writeln!(
            out,
            "  {:<6} {:>8} {:>7} {:>10} {:>9} {:>9} {:>10}",
            t.level.map_or("?".into(), |l| l.to_string()),
            t.compiles,
            t.failed,
            or_dash(secs(t.total_ms), timed),
            or_dash(format!("{:.2}", t.mean_ms), timed),
            or_dash(format!("{:.1}", t.max_ms), timed),
            or_dash(bytes(t.code_bytes), t.code_bytes > 0)
        )?;
    }
    for q in l.queues.iter().filter(|q| q.waits > 0 || q.max_size > 0) {
        let wait = |w: Option<Ms>| w.map_or("-".into(), |w| format!("{w:.1} ms"));
        writeln!(
            out,
            "  queue {}: longest {}, wait mean {}, p95 {}, max {} ({} compiles)",
            q.compiler.label(),
            q.max_size,
            wait(q.mean_wait_ms),
            wait(q.p95_wait_ms),
            wait(q.max_wait_ms),
            q.waits
        )?;
    }
    Ok(())
}

fn cache(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    writeln!(out, "\nCode cache")?;
    if r.code_cache.is_empty() && r.cache_events.is_empty() {
        writeln!(out, "  no samples")?;
    }
    let b = |x: Option<u64>| x.map_or("-".into(), bytes);
    for h in &r.code_cache {
        let figures = if h.peak_used.is_some() {
            format!(
                "used {} -> {} (peak {}), size {}",
                b(h.first_used),
                b(h.last_used),
                b(h.peak_used),
                b(h.capacity)
            )
        } else {
            format!(
                "free {} -> {} (least {})",
                b(h.first_free),
                b(h.last_free),
                b(h.min_free)
            )
        };
        writeln!(out, "  {:<22} {:>4} samples  {figures}", h.heap, h.samples)?;
    }
    for e in &r.cache_events {
        writeln!(
            out,
            "  {} {:?}{}{}",
            e.at_ms.map_or("?".into(), secs),
            e.kind,
            e.heap
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default(),
            e.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

fn hot(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    if r.hot.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nHot methods and their churn")?;
    for h in r.hot.iter().take(20) {
        writeln!(
            out,
            "  {:>6}  {:>3} recompiles {:>3} traps {:>3} away  {:<24} {}",
            h.hot_percent.map_or("hot".into(), |p| format!("{p:.1}%")),
            h.recompiles,
            h.traps,
            h.invalidations,
            h.state,
            h.method
        )?;
    }
    Ok(())
}

fn lifecycles(out: &mut impl Write, r: &Report, args: &Args) -> anyhow::Result<()> {
    let chosen: Vec<&Method> = if args.method.is_empty() {
        let n = if args.top == 0 {
            usize::MAX
        } else {
            args.top.min(5)
        };
        let names: Vec<&str> = r
            .churn
            .methods
            .iter()
            .take(n)
            .map(|c| c.method.as_str())
            .collect();
        r.timeline
            .methods
            .iter()
            .filter(|m| names.contains(&m.name.as_str()))
            .collect()
    } else {
        r.timeline
            .methods
            .iter()
            .filter(|m| args.method.iter().any(|p| m.name.contains(p.as_str())))
            .collect()
    };
    if chosen.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nLifecycles")?;
    for m in chosen {
        writeln!(out, "  {}: {}", m.name, hch_jit::state_words(&m.state))?;
        for (at, line) in history(m) {
            writeln!(out, "    {:>11}  {line}", at.map_or("?".into(), secs))?;
        }
    }
    Ok(())
}

/// A method's versions and traps in time order, in words.
fn history(m: &Method) -> Vec<(Option<Ms>, String)> {
    let mut lines: Vec<(Option<Ms>, String)> = m
        .versions
        .iter()
        .map(|v| (v.start_ms.or(v.queued_ms), version(v)))
        .collect();
    for d in &m.deopts {
        let mut s = format!(
            "{} {}{}",
            if d.frame {
                "frame deoptimized:"
            } else {
                "trap"
            },
            d.reason,
            d.action
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        );
        if let Some(id) = d.compile_id {
            s += &format!(" in #{id}");
        }
        if let Some(b) = d.bci {
            s += &format!(" at bci {b}");
        }
        if let Some(i) = &d.instruction {
            s += &format!(" ({i})");
        }
        if let Some(l) = d.line {
            s += &format!(", line {l}");
        }
        if let Some(i) = &d.inlined {
            s += &format!(", in inlined {i}");
        }
        lines.push((Some(d.at_ms), s));
    }
    lines.sort_by(|a, b| a.0.unwrap_or(f64::MAX).total_cmp(&b.0.unwrap_or(f64::MAX)));
    lines
}

fn version(v: &Version) -> String {
    let mut s = format!(
        "#{} tier {}{}",
        v.compile_id,
        v.level.map_or("?".into(), |l| l.to_string()),
        if v.osr {
            v.osr_bci.map_or(" OSR".into(), |b| format!(" OSR @ {b}"))
        } else {
            String::new()
        }
    );
    if let Some(d) = v.duration_ms {
        s += &format!(", compiled in {d:.2} ms");
    }
    if let Some(c) = v.code_size {
        s += &format!(", {}", bytes(c));
    }
    if let Some(f) = &v.failure {
        s += &format!(", FAILED: {f}");
    }
    if let Some(e) = &v.end {
        s += &format!(
            "; ended {}: {}{}",
            e.at_ms.map_or("?".into(), secs),
            e.reason,
            e.replaced_by
                .map(|b| format!(" (then #{b})"))
                .unwrap_or_default()
        );
    }
    s
}
