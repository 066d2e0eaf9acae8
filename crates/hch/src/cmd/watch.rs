//! `hch watch`: snapshots of a JVM's code cache over time (the cheap summary every tick, the
//! codelist every few ticks), alerts on steady growth, Prometheus metrics, and a final report.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hch_codecache::watch::{Alert, Subject, WatchOptions, Watcher};
use serde::Serialize;

use crate::cmd::codecache::{feature, snapshot, Snapshot};
use crate::exit::{coded, Code, Status};
use crate::http;
use crate::target_args::{target_arg, Connect};

/// Examples shown by `hch watch --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch watch 12345                          every 5 s until Ctrl-C, then a final report
  hch watch 12345 --every 2s --for 10m     a bounded watch
  hch watch 12345 --csv > cache.csv        one CSV row per snapshot
  hch watch 12345 --listen 127.0.0.1:9400  also serve Prometheus metrics on /metrics
                                           (and /healthz)

Alerts are printed when something grows steadily (Theil-Sen slope over the last snapshots),
e.g. `+1.0 not-entrant versions of Unsafe.park per second`. Exit status 6 means alerts were raised.";

/// Arguments of `hch watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JVM: a pid, or host:port for JMX.
    #[arg(value_name = "TARGET", value_parser = target_arg)]
    pub target: String,
    /// Time between snapshots.
    #[arg(long, default_value = "5s", value_parser = crate::duration::parse)]
    pub every: Duration,
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::duration::parse)]
    pub duration: Option<Duration>,
    /// Take the codelist (costlier) every N snapshots.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub codelist_every: u32,
    /// One CSV row per snapshot on stdout.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// One JSON object per snapshot and alert on stdout (JSON lines).
    #[arg(long)]
    pub json: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics (and `ok` at /healthz), to many
    /// clients at once; a request head must arrive within 10 s and fit in 16 KiB.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub connect: Connect,
}

/// One JSON line.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Snapshot {
        t: f64,
        heaps: Vec<(&'a str, u64, u64)>,
        nmethods: Option<usize>,
        not_entrant: Option<usize>,
        compilation_enabled: Option<bool>,
    },
    Alert {
        alert: &'a Alert,
    },
    Final {
        seconds: f64,
        snapshots: u32,
        alerts: &'a [Alert],
        latest: &'a hch_codecache::watch::Latest,
    },
}

/// Runs `hch watch`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    if args.every.is_zero() || args.codelist_every == 0 {
        return Err(coded(
            Code::Usage,
            "--every and --codelist-every must be above zero",
        ));
    }
    let stop = crate::cancel::on_interrupt()?;
    let metrics = Arc::new(Mutex::new(String::new()));
    // Kept until the watch ends: dropping it stops the server.
    let _server = match &args.listen {
        Some(addr) => Some(serve(addr, Arc::clone(&metrics))?),
        None => None,
    };
    let mut t = args.connect.open(&args.target)?;
    let jdk = feature(t.as_mut());
    let mut w = Watcher::new(WatchOptions::default());
    let mut out = std::io::stdout().lock();
    let start = Instant::now();
    let mut raised: Vec<Alert> = Vec::new();
    let mut tick = 0u32;
    if args.csv {
        writeln!(
            out,
            "t_s,heap,used_kb,size_kb,nmethods,not_entrant,compilation_enabled"
        )?;
    }
    while !stop.load(Ordering::Relaxed) && args.duration.is_none_or(|d| start.elapsed() < d) {
        let with_list = tick.is_multiple_of(args.codelist_every);
        let snap = snapshot(t.as_mut(), jdk, with_list, false)?;
        let now = start.elapsed().as_secs_f64();
        let mut new = w.observe_summary(now, &snap.cache);
        if let Some(l) = &snap.list {
            new.extend(w.observe_codelist(now, l));
        }
        // Metrics first, so a scrape after an alert line sees the alert.
        *metrics.lock().unwrap_or_else(|p| p.into_inner()) = exposition(&w, &args.target);
        print_tick(&mut out, &args, now, &snap, &new)?;
        raised.extend(new);
        tick += 1;
        sleep_until(
            start + args.every * tick,
            &stop,
            args.duration.map(|d| start + d),
        );
    }
    final_report(
        &mut out,
        &args,
        &w,
        &raised,
        start.elapsed().as_secs_f64(),
        tick,
    )?;
    Ok(Status(if raised.is_empty() {
        Code::Ok
    } else {
        Code::Findings
    }))
}

/// Sleeps in small steps so Ctrl-C and the end of `--for` are seen at once.
fn sleep_until(at: Instant, stop: &AtomicBool, end: Option<Instant>) {
    let at = end.map_or(at, |e| at.min(e));
    while !stop.load(Ordering::Relaxed) && Instant::now() < at {
        std::thread::sleep(
            Duration::from_millis(50).min(at.saturating_duration_since(Instant::now())),
        );
    }
}

/// Prints one snapshot in the chosen format, then its new alerts.
fn print_tick(
    o: &mut impl Write,
    args: &Args,
    now: f64,
    s: &Snapshot,
    new: &[Alert],
) -> anyhow::Result<()> {
    let ne = s.list.as_ref().map(|l| {
        l.entries
            .iter()
            .filter(|e| e.state == hch_codecache::codelist::State::NotEntrant)
            .count()
    });
    let nm = s.list.as_ref().map(|l| l.entries.len());
    let enabled = s.cache.compilation.as_ref().map(|c| c.enabled);
    if args.json {
        let heaps = s
            .cache
            .heaps
            .iter()
            .map(|h| (h.name.as_str(), h.used_kb, h.size_kb))
            .collect();
        serde_json::to_writer(
            &mut *o,
            &Line::Snapshot {
                t: now,
                heaps,
                nmethods: nm,
                not_entrant: ne,
                compilation_enabled: enabled,
            },
        )?;
        writeln!(o)?;
        for a in new {
            serde_json::to_writer(&mut *o, &Line::Alert { alert: a })?;
            writeln!(o)?;
        }
    } else if args.csv {
        let opt = |v: Option<usize>| v.map_or(String::new(), |n| n.to_string());
        for h in &s.cache.heaps {
            writeln!(
                o,
                "{now:.1},{},{},{},{},{},{}",
                h.name,
                h.used_kb,
                h.size_kb,
                opt(nm),
                opt(ne),
                enabled.map_or(String::new(), |e| e.to_string())
            )?;
        }
        for a in new {
            eprintln!("ALERT t={now:.0}s {}", a.message);
        }
    } else {
        let heaps: Vec<String> = s
            .cache
            .heaps
            .iter()
            .map(|h| format!("'{}' {} KiB", h.name, h.used_kb))
            .collect();
        let list = nm
            .map(|n| format!(" | nmethods {n}, not entrant {}", ne.unwrap_or(0)))
            .unwrap_or_default();
        writeln!(
            o,
            "t={now:>5.0}s  {}{list}{}",
            heaps.join(", "),
            if enabled == Some(false) {
                " | COMPILATION DISABLED"
            } else {
                ""
            }
        )?;
        for a in new {
            writeln!(o, "ALERT t={now:.0}s {}", a.message)?;
        }
    }
    o.flush()?;
    Ok(())
}

/// The final report: trends of every series with enough points and the alerts raised.
fn final_report(
    o: &mut impl Write,
    args: &Args,
    w: &Watcher,
    raised: &[Alert],
    secs: f64,
    ticks: u32,
) -> anyhow::Result<()> {
    if args.json {
        let doc = Line::Final {
            seconds: secs,
            snapshots: ticks,
            alerts: raised,
            latest: w.latest(),
        };
        serde_json::to_writer(&mut *o, &doc)?;
        writeln!(o)?;
        return Ok(());
    }
    let mut e = std::io::stderr().lock();
    let o: &mut dyn Write = if args.csv { &mut e } else { o };
    writeln!(
        o,
        "\nwatched {} for {secs:.0} s ({ticks} snapshots)",
        args.target
    )?;
    for (s, t) in w.trends() {
        let name = match &s {
            Subject::HeapUsed(h) => format!("heap '{h}' used KiB"),
            Subject::NotEntrantVersions(m) => format!("not-entrant versions of {}", m.short()),
        };
        if t.slope.abs() > 1e-9 || matches!(s, Subject::HeapUsed(_)) {
            writeln!(
                o,
                "  {name}: {} now, {:+.3}/s (Theil-Sen over {} points)",
                t.last, t.slope, t.points
            )?;
        }
    }
    if raised.is_empty() {
        writeln!(o, "alerts: none")?;
    }
    for a in raised {
        writeln!(o, "ALERT (t={:.0}s) {}", a.at_secs, a.message)?;
    }
    Ok(())
}

/// The metrics of the watched JVM, named as `hch exporter` names them, labelled by target.
fn exposition(w: &Watcher, target: &str) -> String {
    let figures = crate::metrics::JvmFigures {
        labels: vec![("target".to_string(), target.to_string())],
        attachable: true,
        up: true,
        watcher: Some(w),
        ..Default::default()
    };
    crate::metrics::encode_all(&[figures], false)
}

/// Serves the latest metrics text (what the loop stores after each tick) over HTTP.
fn serve(addr: &str, metrics: Arc<Mutex<String>>) -> anyhow::Result<http::Server> {
    let handler: http::Handler =
        Arc::new(move || metrics.lock().unwrap_or_else(|p| p.into_inner()).clone());
    let server = http::serve(addr, handler).map_err(|e| coded(Code::Error, format!("{e:#}")))?;
    eprintln!(
        "serving Prometheus metrics on http://{}/metrics",
        server.local_addr()
    );
    Ok(server)
}
