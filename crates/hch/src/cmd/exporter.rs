//! `hch exporter`: one process per host that finds every local JVM (containers too), queries
//! each one's code cache in the background at most every `--interval`, a few at a time, and
//! serves the cached figures to Prometheus. A scrape never attaches to anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hch_attach::JvmProcess;
use hch_codecache::watch::{WatchOptions, Watcher};
use hch_target::codecache::{feature, snapshot};
use hch_target::{OpenOptions, Target, TargetSpec};

use crate::exit::{coded, Code, Status};
use crate::http;
use crate::metrics::{self, JvmFigures, Labels};

/// Examples shown by `hch exporter --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch exporter --listen 127.0.0.1:9404              every JVM on this host, queried every 15 s
  hch exporter --listen 0.0.0.0:9404 --interval 30s --parallel 2
  hch exporter --listen 127.0.0.1:9404 --match kafka  only JVMs whose command line says kafka

Metrics are at http://ADDR/metrics (OpenMetrics text), `ok` at /healthz. Only JVMs hch may
attach to are queried (not -XX:+DisableAttachMechanism, not before they handle SIGQUIT).
Alert rules: deploy/prometheus/hch-alerts.yml. Runs until Ctrl-C or SIGTERM (exit 0).";

/// Arguments of `hch exporter`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to serve on, e.g. 127.0.0.1:9404 (no default: choose who may scrape).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// Query each JVM at most this often; JVMs are also looked for this often.
    #[arg(long, default_value = "15s", value_parser = crate::duration::parse)]
    pub interval: Duration,
    /// Query at most this many JVMs at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub parallel: usize,
    /// Read the heap analytics (largest free block; the JVM walks its code heaps) every N
    /// queries of a JVM; 0 never.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub analytics_every: u64,
    /// Only JVMs whose command line contains TEXT (repeat for any of several).
    #[arg(long = "match", value_name = "TEXT")]
    pub matching: Vec<String>,
    /// How long to wait for a JVM's attach handshake.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse)]
    pub timeout: Duration,
}

/// A JVM is one pid with one start time.
type Key = (u32, Option<u64>);

/// What the exporter knows of one JVM.
#[derive(Debug)]
struct Jvm {
    info: JvmProcess,
    labels: Labels,
    watcher: Watcher,
    jdk: Option<u32>,
    largest_free: BTreeMap<String, u64>,
    dns: Option<bool>,
    agent: Option<bool>,
    up: bool,
    failures: u64,
    query_seconds: Option<f64>,
    queries: u64,
    busy: bool,
    last_start: Option<Instant>,
}

type Jvms = Arc<Mutex<BTreeMap<Key, Jvm>>>;

fn lock(j: &Jvms) -> MutexGuard<'_, BTreeMap<Key, Jvm>> {
    j.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `hch exporter`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    if args.interval.is_zero() || args.parallel == 0 {
        return Err(coded(
            Code::Usage,
            "--interval and --parallel must be above zero",
        ));
    }
    let stop = crate::cancel::on_interrupt()?;
    let jvms: Jvms = Arc::default();
    let server = serve(&args.listen, Arc::clone(&jvms))?;
    let (jobs, queue) = mpsc::channel::<Key>();
    let queue = Arc::new(Mutex::new(queue));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.parallel)
        .map(|_| {
            let (jvms, queue) = (Arc::clone(&jvms), Arc::clone(&queue));
            let opts = Poll {
                started,
                analytics_every: args.analytics_every,
                timeout: args.timeout,
            };
            std::thread::spawn(move || worker(&jvms, &queue, &opts))
        })
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let tick = Instant::now();
        discover(&jvms, &args.matching);
        schedule(&jvms, &jobs, args.interval);
        sleep_until(tick + args.interval, &stop);
    }
    drop(jobs);
    drop(server);
    for w in workers {
        let _ = w.join();
    }
    Ok(Status(Code::Ok))
}

/// Sleeps in small steps so that Ctrl-C is seen at once.
fn sleep_until(at: Instant, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) && Instant::now() < at {
        std::thread::sleep(
            Duration::from_millis(50).min(at.saturating_duration_since(Instant::now())),
        );
    }
}

/// Brings the set of JVMs up to date: new ones are added, vanished ones (and their series)
/// dropped. Reads only `/proc` and the JVMs' hsperfdata, never attaches.
fn discover(jvms: &Jvms, matching: &[String]) {
    let found: BTreeMap<Key, JvmProcess> = hch_attach::list_jvms()
        .into_iter()
        .filter(|j| matches(j.pid, matching))
        .map(|j| ((j.pid, j.start_time), j))
        .collect();
    let mut map = lock(jvms);
    map.retain(|k, j| {
        let keep = found.contains_key(k);
        if !keep {
            eprintln!("hch exporter: JVM {} is gone", j.info.pid);
        }
        keep
    });
    for (k, info) in found {
        match map.get_mut(&k) {
            // The attach state changes as a JVM starts up (it handles SIGQUIT later).
            Some(j) => j.info.attach = info.attach,
            None => {
                eprintln!(
                    "hch exporter: found JVM {} ({}), attach {}",
                    info.pid,
                    info.main.as_deref().unwrap_or("?"),
                    info.attach.describe()
                );
                map.insert(k, Jvm::new(info));
            }
        }
    }
}

/// Whether the command line of `pid` contains one of the texts (or no text was given).
fn matches(pid: u32, matching: &[String]) -> bool {
    if matching.is_empty() {
        return true;
    }
    let cmd = hch_attach::command_line(pid).join(" ");
    matching.iter().any(|m| cmd.contains(m.as_str()))
}

/// Queues every attachable JVM that is idle and was last queried at least `interval` ago.
fn schedule(jvms: &Jvms, jobs: &Sender<Key>, interval: Duration) {
    let mut map = lock(jvms);
    for (k, j) in map.iter_mut() {
        // A tenth of slack, so that a query that started just after the last tick is due now.
        let due = j
            .last_start
            .is_none_or(|t| t.elapsed() + interval / 10 >= interval);
        if j.info.attach.is_attachable() && !j.busy && due && jobs.send(*k).is_ok() {
            j.busy = true;
        }
    }
}

impl Jvm {
    fn new(info: JvmProcess) -> Jvm {
        let labels = labels(&info);
        Jvm {
            info,
            labels,
            watcher: Watcher::new(WatchOptions::default()),
            jdk: None,
            largest_free: BTreeMap::new(),
            dns: None,
            agent: None,
            up: false,
            failures: 0,
            query_seconds: None,
            queries: 0,
            busy: false,
            last_start: None,
        }
    }

    fn figures(&self) -> JvmFigures<'_> {
        JvmFigures {
            labels: self.labels.clone(),
            attachable: self.info.attach.is_attachable(),
            up: self.up,
            failures: self.failures,
            query_seconds: self.query_seconds,
            watcher: (self.queries > 0).then_some(&self.watcher),
            largest_free: self.largest_free.clone(),
            debug_non_safepoints: self.dns,
            agent: self.agent,
        }
    }
}

/// The labels that name a JVM in every series: pid, ns_pid, main, jdk_version, container_id.
fn labels(j: &JvmProcess) -> Labels {
    [
        ("pid", j.pid.to_string()),
        ("ns_pid", j.ns_pid.to_string()),
        ("main", j.main.clone().unwrap_or_default()),
        ("jdk_version", j.version.clone().unwrap_or_default()),
        ("container_id", j.container_id.clone().unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// How workers query.
#[derive(Debug, Clone, Copy)]
struct Poll {
    started: Instant,
    analytics_every: u64,
    timeout: Duration,
}

/// What one query read.
struct Reading {
    jdk: Option<u32>,
    snap: hch_target::codecache::Snapshot,
    dns: Option<bool>,
}

/// Takes queued JVMs one at a time until the queue closes.
fn worker(jvms: &Jvms, queue: &Mutex<Receiver<Key>>, p: &Poll) {
    loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(key) = next else { return };
        let Some((jdk, n)) = lock(jvms).get_mut(&key).map(|j| {
            j.last_start = Some(Instant::now());
            (j.jdk, j.queries)
        }) else {
            continue;
        };
        let with_analytics = p.analytics_every > 0 && n % p.analytics_every == 0;
        let t0 = Instant::now();
        let reading = query(key.0, jdk, with_analytics, n == 0, p.timeout);
        let agent = hch_attach::maps_library(key.0, "libhch_agent.so");
        let now = p.started.elapsed().as_secs_f64();
        let mut map = lock(jvms);
        // A JVM that vanished meanwhile is not brought back.
        let Some(j) = map.get_mut(&key) else { continue };
        j.busy = false;
        j.query_seconds = Some(t0.elapsed().as_secs_f64());
        j.agent = agent.or(j.agent);
        match reading {
            Ok(r) => j.record(now, r),
            Err(e) => {
                j.up = false;
                j.failures += 1;
                eprintln!("hch exporter: JVM {}: {e:#}", key.0);
            }
        }
    }
}

impl Jvm {
    /// Feeds a query's figures to the watcher.
    fn record(&mut self, now: f64, r: Reading) {
        self.up = true;
        self.queries += 1;
        self.jdk = r.jdk.or(self.jdk);
        self.dns = r.dns.or(self.dns);
        self.watcher.observe_summary(now, &r.snap.cache);
        if let Some(l) = &r.snap.list {
            self.watcher.observe_codelist(now, l);
        }
        if let Some(a) = &r.snap.analytics {
            self.largest_free = a
                .heaps
                .iter()
                .filter_map(|h| Some((h.name.clone(), h.largest_free_bytes()?)))
                .collect();
        }
    }
}

/// One query of one JVM: the code cache summary and codelist, the heap analytics when asked,
/// and the flags on the first query.
fn query(
    pid: u32,
    jdk: Option<u32>,
    with_analytics: bool,
    with_flags: bool,
    timeout: Duration,
) -> anyhow::Result<Reading> {
    let mut opts = OpenOptions::default();
    opts.attach.timeout = timeout;
    let mut t = hch_target::open_spec(&TargetSpec::Pid(pid), &opts)?;
    let jdk = jdk.or_else(|| feature(t.as_mut()));
    let snap = snapshot(t.as_mut(), jdk, true, with_analytics)?;
    let dns = if with_flags {
        debug_non_safepoints(t.as_mut())
    } else {
        None
    };
    Ok(Reading { jdk, snap, dns })
}

/// DebugNonSafepoints from `VM.flags -all` (`bool DebugNonSafepoints = true ...`). The
/// list shows diagnostic flags only once they are unlocked; a flag not shown has its default,
/// false.
fn debug_non_safepoints(t: &mut dyn Target) -> Option<bool> {
    let text = t.jcmd("VM.flags -all").ok()?;
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("DebugNonSafepoints"));
    Some(line.and_then(|l| l.split_whitespace().nth(3)) == Some("true"))
}

/// Serves the cached figures: a scrape only encodes what the workers stored.
fn serve(addr: &str, jvms: Jvms) -> anyhow::Result<http::Server> {
    let handler: http::Handler = Arc::new(move || {
        let map = lock(&jvms);
        let figures: Vec<JvmFigures> = map.values().map(Jvm::figures).collect();
        metrics::encode_all(&figures, true)
    });
    let server = http::serve(addr, handler).map_err(|e| coded(Code::Error, format!("{e:#}")))?;
    eprintln!(
        "serving Prometheus metrics on http://{}/metrics",
        server.local_addr()
    );
    Ok(server)
}
