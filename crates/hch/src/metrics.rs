//! The Prometheus exposition shared by `hch exporter` and `hch watch --listen`, built with the
//! prometheus-client crate (OpenMetrics text): one family per metric, in base units, each
//! JVM's series carrying that JVM's labels so that an alert names the JVM.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use hch_codecache::watch::{Subject, Watcher};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The content type of [`encode_all`]'s text: Prometheus' text format 0.0.4, which every
/// scraper and `promtool check metrics` read.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Label names and values.
pub type Labels = Vec<(String, String)>;

type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Counters = Family<Labels, Counter<u64>>;

/// What is known of one JVM at the last query.
#[derive(Debug, Default)]
pub struct JvmFigures<'a> {
    /// The JVM's own labels: pid, ns_pid, main, jdk_version, container_id (or a target).
    pub labels: Labels,
    /// Whether hch may attach to it at all.
    pub attachable: bool,
    /// Whether its last query succeeded.
    pub up: bool,
    /// Failed queries so far.
    pub failures: u64,
    /// How long the last query took.
    pub query_seconds: Option<f64>,
    /// Its code cache figures and trends.
    pub watcher: Option<&'a Watcher>,
    /// Largest free block per heap, bytes (from the heap analytics).
    pub largest_free: BTreeMap<String, u64>,
    /// `-XX:+DebugNonSafepoints`.
    pub debug_non_safepoints: Option<bool>,
    /// Whether hch's agent (`libhch_agent.so`) is mapped.
    pub agent: Option<bool>,
}

/// The metric families, registered once per exposition.
struct Families {
    used: Gauges,
    max: Gauges,
    largest_free: Gauges,
    nmethods: Gauges,
    not_entrant: Gauges,
    growth: Gauges,
    alert: Gauges,
    full: Counters,
    compiling: Gauges,
    dns: Gauges,
    agent: Gauges,
    up: Gauges,
    attachable: Gauges,
    failures: Counters,
    query: Gauges,
}

impl Families {
    fn register(r: &mut Registry) -> Families {
        let mut g = |name: &str, help: &str| {
            let f = Gauges::default();
            r.register(name, help, f.clone());
            f
        };
        let f = Families {
            used: g("hch_codeheap_used_bytes", "Used bytes of a code heap"),
            max: g(
                "hch_codeheap_max_bytes",
                "Reserved (maximum) bytes of a code heap",
            ),
            largest_free: g(
                "hch_codeheap_largest_free_block_bytes",
                "Largest block a new nmethod could take in a code heap (heap analytics)",
            ),
            nmethods: g(
                "hch_nmethods",
                "nmethods in the last codelist by state and tier",
            ),
            not_entrant: g(
                "hch_method_not_entrant_versions",
                "Not-entrant versions of the methods with the most versions",
            ),
            growth: g(
                "hch_method_not_entrant_growth_per_second",
                "Theil-Sen slope of a method's not-entrant versions per second (the leak rate)",
            ),
            alert: g(
                "hch_codecache_alert",
                "1 while hch's trend test sees steady growth (kind, subject)",
            ),
            full: Counters::default(),
            compiling: g(
                "hch_compilation_enabled",
                "1 while the JIT compiler takes new work, 0 once it is disabled",
            ),
            dns: g(
                "hch_debug_non_safepoints",
                "1 when -XX:+DebugNonSafepoints is on",
            ),
            agent: g(
                "hch_agent_loaded",
                "1 when libhch_agent.so is mapped in the JVM",
            ),
            up: g("hch_jvm_up", "1 when hch's last query of the JVM succeeded"),
            attachable: g(
                "hch_jvm_attachable",
                "1 when hch may attach (0: attach disabled, no SIGQUIT handler, no access)",
            ),
            failures: Counters::default(),
            query: g(
                "hch_jvm_query_duration_seconds",
                "How long hch's last query took",
            ),
        };
        r.register(
            "hch_codecache_full",
            "Times a code heap was found full (full_count)",
            f.full.clone(),
        );
        r.register(
            "hch_jvm_query_failures",
            "Failed queries of the JVM",
            f.failures.clone(),
        );
        f
    }
}

/// `labels` plus one more pair.
fn with(labels: &Labels, extra: &[(&str, &str)]) -> Labels {
    let mut l = labels.clone();
    l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    l
}

fn flag(v: bool) -> f64 {
    f64::from(u8::from(v))
}

/// Renders the figures of every JVM, plus `hch_exporter_jvms` when `exporter` is set.
pub fn encode_all(jvms: &[JvmFigures], exporter: bool) -> String {
    let mut r = Registry::default();
    let f = Families::register(&mut r);
    for j in jvms {
        add_jvm(&f, j);
    }
    if exporter {
        let n = Gauge::<i64>::default();
        n.set(jvms.len() as i64);
        r.register("hch_exporter_jvms", "JVMs the exporter sees now", n);
    }
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut out, &r);
    text_format(&out)
}

/// Prometheus' text format 0.0.4 from the crate's OpenMetrics text: a counter's HELP and TYPE
/// lines name it with its `_total` suffix, as its samples do, and there is no `# EOF`.
fn text_format(open_metrics: &str) -> String {
    let mut counters = Vec::new();
    for l in open_metrics.lines() {
        if let Some(name) = l
            .strip_prefix("# TYPE ")
            .and_then(|r| r.strip_suffix(" counter"))
        {
            counters.push(name);
        }
    }
    let mut out = String::with_capacity(open_metrics.len());
    for l in open_metrics.lines().filter(|l| *l != "# EOF") {
        let head = ["# HELP ", "# TYPE "].into_iter().find_map(|p| {
            let rest = l.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(head.as_deref().unwrap_or(l));
        out.push('\n');
    }
    out
}

/// One JVM's series.
fn add_jvm(f: &Families, j: &JvmFigures) {
    let l = &j.labels;
    f.attachable.get_or_create(l).set(flag(j.attachable));
    if !j.attachable {
        return;
    }
    f.up.get_or_create(l).set(flag(j.up));
    f.failures.get_or_create(l).inc_by(j.failures);
    if let Some(s) = j.query_seconds {
        f.query.get_or_create(l).set(s);
    }
    for (v, fam) in [(j.debug_non_safepoints, &f.dns), (j.agent, &f.agent)] {
        if let Some(v) = v {
            fam.get_or_create(l).set(flag(v));
        }
    }
    for (heap, bytes) in &j.largest_free {
        f.largest_free
            .get_or_create(&with(l, &[("heap", heap)]))
            .set(*bytes as f64);
    }
    if let Some(w) = j.watcher {
        add_code_cache(f, l, w);
    }
}

/// The code cache figures and trends of a watcher.
fn add_code_cache(f: &Families, l: &Labels, w: &Watcher) {
    let latest = w.latest();
    for (heap, (used, size)) in &latest.heaps {
        let hl = with(l, &[("heap", heap)]);
        f.used.get_or_create(&hl).set((used * 1024) as f64);
        f.max.get_or_create(&hl).set((size * 1024) as f64);
    }
    for c in &latest.nmethods {
        f.nmethods
            .get_or_create(&with(l, &[("state", c.state), ("tier", c.tier)]))
            .set(c.count as f64);
    }
    for m in latest.top_methods.iter().filter(|m| m.not_entrant > 0) {
        let name = m.method.dotted();
        f.not_entrant
            .get_or_create(&with(l, &[("method", &name)]))
            .set(m.not_entrant as f64);
    }
    for (s, t) in w.trends() {
        if let Subject::NotEntrantVersions(m) = s {
            f.growth
                .get_or_create(&with(l, &[("method", &m.dotted())]))
                .set(t.slope);
        }
    }
    for a in w.active() {
        let (kind, subject) = match &a.subject {
            Subject::HeapUsed(h) => ("heap_used", h.clone()),
            Subject::NotEntrantVersions(m) => ("not_entrant_versions", m.dotted()),
        };
        f.alert
            .get_or_create(&with(l, &[("kind", kind), ("subject", &subject)]))
            .set(1.0);
    }
    if let Some(n) = latest.full_count {
        f.full.get_or_create(l).inc_by(n);
    }
    if let Some(e) = latest.compilation_enabled {
        f.compiling.get_or_create(l).set(flag(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_type_units_and_labels() {
        let mut w = Watcher::new(Default::default());
        let cc = hch_codecache::codecache::parse(
            "CodeCache: size=2048Kb used=1024Kb max_used=1024Kb free=1024Kb\n full_count=3",
        )
        .unwrap();
        w.observe_summary(0.0, &cc);
        let labels: Labels = vec![("pid".into(), "42".into()), ("main".into(), "a\"b".into())];
        let j = JvmFigures {
            labels,
            attachable: true,
            up: true,
            watcher: Some(&w),
            ..Default::default()
        };
        let text = encode_all(&[j], true);
        assert!(
            text.contains("# TYPE hch_codeheap_used_bytes gauge"),
            "{text}"
        );
        assert!(
            text.contains(
                "hch_codeheap_used_bytes{pid=\"42\",main=\"a\\\"b\",heap=\"CodeCache\"} 1048576"
            ),
            "{text}"
        );
        assert!(text.contains("hch_jvm_up{pid=\"42\""), "{text}");
        assert!(text.contains("hch_exporter_jvms 1"), "{text}");
        assert!(
            text.contains(
                "# TYPE hch_codecache_full_total counter\nhch_codecache_full_total{pid=\"42\""
            ),
            "{text}"
        );
        assert!(!text.contains("EOF"), "{text}");
    }
}
