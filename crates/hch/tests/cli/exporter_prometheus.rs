//! `hch exporter` under a real Prometheus (Debian's `prometheus`, started here on a loopback
//! port with a generated configuration, killed on drop): it scrapes the exporter every second
//! while the native-wrapper leak of seed 000 runs next to a healthy JVM, and the shipped leak
//! alert (a copy with every `for:` shortened to 2 s) must fire on the leaking JVM within
//! [`ALERT_BOUND`] and never on the healthy one. JVMs that start and stop meanwhile come and go
//! in the exposition; `promtool` accepts the exposition and the rules.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hch_testkit::Launch;

use crate::codecache_support as support;

/// How long the leak alert may take to fire, from the exporter's start: the leak needs about
/// 5 not-entrant wrappers and 4 queries for a trend (the `watch` test sees it in 10-20 s), then
/// a scrape, a rule evaluation and the 2 s `for:`.
const ALERT_BOUND: Duration = Duration::from_secs(90);

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

/// A child process killed and reaped on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rules_path() -> PathBuf {
    hch_testkit::repo_root().join("deploy/prometheus/hch-alerts.yml")
}

/// A Prometheus server scraping `target` every second with the shipped rules, `for:` shortened.
fn start_prometheus(dir: &Path, target: &str) -> (Killed, String) {
    let rules = std::fs::read_to_string(rules_path()).unwrap();
    let fast: String = rules
        .lines()
        .map(|l| match l.trim_start().strip_prefix("for: ") {
            Some(_) => format!("{}for: 2s", &l[..l.len() - l.trim_start().len()]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("rules.yml"), fast).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
         rule_files: [rules.yml]\nscrape_configs:\n  - job_name: hch\n    static_configs:\n      - targets: [\"{target}\"]\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let addr = format!("127.0.0.1:{}", hch_testkit::free_port());
    let child = Command::new(PROMETHEUS)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("start prometheus");
    let p = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_get(&addr, "/-/ready").contains("200 OK") {
        assert!(Instant::now() < deadline, "prometheus did not get ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    (p, addr)
}

/// The exporter on a loopback port, exporting only JVMs whose command line has `tag`.
fn start_exporter(tag: &str) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(["exporter", "--listen", "127.0.0.1:0", "--interval", "1s"])
        .arg(format!("--match={tag}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("serving Prometheus metrics on http://")
                .and_then(|r| r.strip_suffix("/metrics"))
                .map(str::to_string)
        })
        .expect("the serving line");
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| eprintln!("{l}")));
    (Killed(child), addr)
}

/// An HTTP/1.0 GET (no chunking): the whole answer, head and body.
fn http_get(addr: &str, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// Percent-encodes a PromQL query for a URL.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant query.
fn query(prom: &str, q: &str) -> Vec<serde_json::Value> {
    let answer = http_get(prom, &format!("/api/v1/query?query={}", encode(q)));
    let v: serde_json::Value = serde_json::from_str(body(&answer)).unwrap_or_default();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The firing alerts named `name`.
fn firing(prom: &str, name: &str) -> Vec<serde_json::Value> {
    let answer = http_get(prom, "/api/v1/alerts");
    let v: serde_json::Value = serde_json::from_str(body(&answer)).unwrap_or_default();
    let all = v["data"]["alerts"].as_array().cloned().unwrap_or_default();
    all.into_iter()
        .filter(|a| a["labels"]["alertname"] == name && a["state"] == "firing")
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    start.elapsed()
}

fn promtool(args: &[&str], stdin: &str) -> (bool, String) {
    let mut c = Command::new(PROMTOOL)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn have_prometheus() -> bool {
    let ok = Path::new(PROMETHEUS).is_file() && Path::new(PROMTOOL).is_file();
    if !ok {
        eprintln!("SKIP: no {PROMETHEUS} (apt-get install prometheus; .ci/run does)");
    }
    ok
}

#[test]
fn shipped_rules_pass_promtool_and_carry_the_runbooks_of_hch_codecache() {
    if !have_prometheus() {
        return;
    }
    let path = rules_path();
    let (ok, text) = promtool(&["check", "rules", path.to_str().unwrap()], "");
    assert!(ok, "{text}");
    let rules = std::fs::read_to_string(&path).unwrap();
    use hch_codecache::report;
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for runbook in [
        report::WRAPPER_LEAK_FIX,
        report::FULL_CAUSE,
        report::NEARLY_FULL_CAUSE,
        &report::full_fix(None),
    ] {
        assert!(rules.contains(&squash(runbook)), "missing: {runbook}");
    }
    // Every alert names its JVM.
    let summaries: Vec<&str> = rules
        .lines()
        .filter(|l| l.trim_start().starts_with("summary:"))
        .collect();
    assert_eq!(summaries.len(), 4);
    for s in summaries {
        for label in ["$labels.pid", "$labels.main", "$labels.container_id"] {
            assert!(s.contains(label), "{s}");
        }
    }
}

#[test]
fn prometheus_fires_the_leak_alert_on_the_leaking_jvm_only_while_jvms_come_and_go() {
    if !have_prometheus() {
        return;
    }
    let jdk = hch_testkit::require_jdks().pop().unwrap();
    let Some(agent) = support::parkflip(&jdk) else {
        hch_testkit::skip(&jdk, "no gcc to build the JVMTI agent");
        return;
    };
    let tag = format!("-Dhch.test.exporter={}", std::process::id());
    let leaking = support::start(
        &jdk,
        "Park",
        Launch::args(["0", "4"]).jvm([
            tag.clone(),
            format!("-agentpath:{}=period=100", agent.display()),
        ]),
    );
    let healthy = support::start(&jdk, "Park", Launch::args(["0", "4"]).jvm([tag.clone()]));
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let (_exporter, exporter) = start_exporter(&tag);
    let (_prom, prom) = start_prometheus(dir.path(), &exporter);

    // promtool accepts the exposition once it has the JVMs' figures.
    wait_for(
        "both JVMs' heaps in the exposition",
        Duration::from_secs(30),
        || {
            let m = http_get(&exporter, "/metrics");
            [&leaking.spec, &healthy.spec]
                .iter()
                .all(|p| m.contains(&format!("hch_codeheap_used_bytes{{pid=\"{p}\"")))
        },
    );
    let page = http_get(&exporter, "/metrics");
    let (ok, text) = promtool(&["check", "metrics"], body(&page));
    assert!(ok, "{text}\n{page}");

    // A JVM that starts during scraping shows up in Prometheus, and its series go when it stops.
    let mut passing = support::start(&jdk, "Park", Launch::args(["0", "1"]).jvm([tag.clone()]));
    let up = format!("hch_jvm_up{{pid=\"{}\"}} == 1", passing.spec);
    wait_for("the new JVM in Prometheus", Duration::from_secs(30), || {
        !query(&prom, &up).is_empty()
    });
    passing.jvm.kill();
    let gone = format!("pid=\"{}\"", passing.spec);
    wait_for(
        "the stopped JVM's series dropped",
        Duration::from_secs(15),
        || {
            let m = http_get(&exporter, "/metrics");
            m.contains("hch_exporter_jvms 2") && !m.contains(&gone)
        },
    );

    // The leak alert fires on the leaking JVM, naming it.
    wait_for(
        "HchCodeCacheLeak on the leaking JVM",
        ALERT_BOUND.saturating_sub(start.elapsed()),
        || {
            firing(&prom, "HchCodeCacheLeak")
                .iter()
                .any(|a| a["labels"]["pid"] == leaking.spec.as_str())
        },
    );
    let took = start.elapsed();
    eprintln!(
        "{}: leak alert fired {:.1} s after the exporter started",
        jdk.label(),
        took.as_secs_f64()
    );
    let alert = firing(&prom, "HchCodeCacheLeak")
        .into_iter()
        .find(|a| a["labels"]["pid"] == leaking.spec.as_str())
        .unwrap();
    assert_eq!(alert["labels"]["main"], "Park", "{alert}");
    assert!(
        alert["labels"]["method"]
            .as_str()
            .unwrap()
            .contains("Unsafe.park"),
        "{alert}"
    );
    assert!(
        alert["annotations"]["runbook"]
            .as_str()
            .unwrap()
            .contains("async-profiler"),
        "{alert}"
    );

    // Never on the healthy JVM, not even pending, over the whole run.
    let ever = format!("count_over_time(ALERTS{{pid=\"{}\"}}[10m])", healthy.spec);
    assert_eq!(query(&prom, &ever), Vec::<serde_json::Value>::new());
}
