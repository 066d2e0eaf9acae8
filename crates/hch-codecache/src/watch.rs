//! Watching a code cache over time, sans-IO: the caller feeds snapshots with their time, the
//! [`Watcher`] keeps windows of figures per heap and per method, judges their trends, raises
//! alerts when something grows steadily. The CLI renders its figures as Prometheus metrics.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;

use crate::codecache::CodeCache;
use crate::codelist::{Codelist, State};
use crate::report::{self, MethodVersions};
use crate::trend::{self, Trend};
use crate::MethodRef;

/// When to alert.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Points kept per series (the trend window).
    pub window: usize,
    /// Points needed before judging.
    pub min_points: usize,
    /// Not-entrant versions per second of one method that make an alert.
    pub method_rate: f64,
    /// Not-entrant versions of that method needed as well.
    pub method_min: f64,
    /// Alert on a heap when, at its steady rate, it would be full within this many seconds.
    pub heap_horizon_secs: f64,
    /// How many methods to export as metrics.
    pub top_methods: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            window: 12,
            min_points: 4,
            method_rate: 0.05,
            method_min: 5.0,
            heap_horizon_secs: 600.0,
            top_methods: 10,
        }
    }
}

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Subject {
    /// Used bytes of a heap.
    HeapUsed(String),
    /// Not-entrant versions of a method.
    NotEntrantVersions(MethodRef),
}

/// A steady growth, with its rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Seconds since the watch started.
    pub at_secs: f64,
    /// What grows.
    pub subject: Subject,
    /// The trend behind it.
    pub trend: Trend,
    /// The line to print, e.g. `+1.0 not-entrant versions of Unsafe.park per second`.
    pub message: String,
}

/// The latest figures, for metrics and the final report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latest {
    /// Per heap: (used KiB, size KiB).
    pub heaps: BTreeMap<String, (u64, u64)>,
    /// nmethods by state and tier from the last codelist.
    pub nmethods: Vec<NmethodCount>,
    /// The methods with most versions in the last codelist.
    pub top_methods: Vec<MethodVersions>,
    /// `full_count`.
    pub full_count: Option<u64>,
    /// Compilation enabled.
    pub compilation_enabled: Option<bool>,
}

/// How many nmethods have one state and tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NmethodCount {
    /// `in_use`, `not_entrant`, ...
    pub state: &'static str,
    /// `native`, `mh_intrinsic`, `c1`, `c2`, `other`.
    pub tier: &'static str,
    /// How many.
    pub count: u64,
}

/// The watch state.
#[derive(Debug, Default)]
pub struct Watcher {
    opts: WatchOptions,
    series: HashMap<Subject, VecDeque<(f64, f64)>>,
    sizes: HashMap<String, f64>,
    active: BTreeMap<Subject, Alert>,
    latest: Latest,
}

impl Watcher {
    /// A watcher with these options.
    pub fn new(opts: WatchOptions) -> Watcher {
        Watcher {
            opts,
            ..Watcher::default()
        }
    }

    /// Feeds a `Compiler.codecache` snapshot taken at `t` seconds; returns new alerts.
    pub fn observe_summary(&mut self, t: f64, cc: &CodeCache) -> Vec<Alert> {
        self.latest.heaps = cc
            .heaps
            .iter()
            .map(|h| (h.name.clone(), (h.used_kb, h.size_kb)))
            .collect();
        self.latest.full_count = cc.full_count;
        self.latest.compilation_enabled = cc.compilation.as_ref().map(|c| c.enabled);
        for h in &cc.heaps {
            self.sizes.insert(h.name.clone(), h.size_kb as f64);
            self.push(Subject::HeapUsed(h.name.clone()), t, h.used_kb as f64);
        }
        self.judge_all(t)
    }

    /// Feeds a `Compiler.codelist` snapshot taken at `t` seconds; returns new alerts.
    pub fn observe_codelist(&mut self, t: f64, list: &Codelist) -> Vec<Alert> {
        let mut counts: HashMap<&MethodRef, f64> = HashMap::new();
        for e in list.entries.iter().filter(|e| e.state == State::NotEntrant) {
            *counts.entry(&e.method).or_insert(0.0) += 1.0;
        }
        // Methods seen before but absent now go back to zero.
        let known: Vec<Subject> = self
            .series
            .keys()
            .filter(|s| matches!(s, Subject::NotEntrantVersions(_)))
            .cloned()
            .collect();
        for s in known {
            if let Subject::NotEntrantVersions(m) = &s {
                if !counts.contains_key(m) {
                    self.push(s.clone(), t, 0.0);
                }
            }
        }
        for (m, n) in counts.into_iter().filter(|&(_, n)| n >= 2.0) {
            self.push(Subject::NotEntrantVersions(m.clone()), t, n);
        }
        self.latest.nmethods = nmethod_counts(list);
        self.latest.top_methods = report::versions(&list.entries, self.opts.top_methods);
        self.judge_all(t)
    }

    /// Appends a point and trims the window.
    fn push(&mut self, s: Subject, t: f64, v: f64) {
        let w = self.series.entry(s).or_default();
        w.push_back((t, v));
        while w.len() > self.opts.window.max(2) {
            w.pop_front();
        }
    }

    /// Judges every series; returns the alerts that just became active.
    fn judge_all(&mut self, t: f64) -> Vec<Alert> {
        let mut new = Vec::new();
        let subjects: Vec<Subject> = self.series.keys().cloned().collect();
        for s in subjects {
            let pts: Vec<(f64, f64)> = self.series[&s].iter().copied().collect();
            match trend::judge(&pts, self.opts.min_points).filter(|tr| self.alarming(&s, tr)) {
                Some(tr) => {
                    let alert = Alert {
                        at_secs: t,
                        message: message(&s, &tr, self.sizes.get(heap_name(&s)).copied()),
                        subject: s.clone(),
                        trend: tr,
                    };
                    if self.active.insert(s, alert.clone()).is_none() {
                        new.push(alert);
                    }
                }
                None => {
                    self.active.remove(&s);
                }
            }
        }
        new.sort_by(|a, b| a.subject.cmp(&b.subject));
        new
    }

    /// The alert rule per kind of series.
    fn alarming(&self, s: &Subject, tr: &Trend) -> bool {
        match s {
            Subject::NotEntrantVersions(_) => {
                tr.steady_growth(self.opts.method_rate) && tr.last >= self.opts.method_min
            }
            Subject::HeapUsed(name) => {
                let size = self.sizes.get(name).copied().unwrap_or(0.0);
                tr.steady_growth(f64::MIN_POSITIVE)
                    && (size - tr.last) / tr.slope <= self.opts.heap_horizon_secs
            }
        }
    }

    /// Alerts active now.
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// The latest figures.
    pub fn latest(&self) -> &Latest {
        &self.latest
    }

    /// The current trend of every series with enough points, for the final report.
    pub fn trends(&self) -> Vec<(Subject, Trend)> {
        let mut v: Vec<(Subject, Trend)> = self
            .series
            .iter()
            .filter_map(|(s, w)| {
                trend::judge(&w.iter().copied().collect::<Vec<_>>(), self.opts.min_points)
                    .map(|t| (s.clone(), t))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// The heap name of a heap subject, or "".
fn heap_name(s: &Subject) -> &str {
    match s {
        Subject::HeapUsed(h) => h,
        Subject::NotEntrantVersions(_) => "",
    }
}

/// The alert line.
fn message(s: &Subject, t: &Trend, size_kb: Option<f64>) -> String {
    match s {
        Subject::NotEntrantVersions(m) => format!(
            "+{:.1} not-entrant versions of {} per second ({} now; Theil-Sen slope over {} samples)",
            t.slope,
            m.short(),
            t.last,
            t.points
        ),
        Subject::HeapUsed(h) => {
            let eta = size_kb.map(|sz| (sz - t.last) / t.slope).unwrap_or(f64::INFINITY);
            format!("+{:.1} KiB per second used in code heap '{h}' ({} KiB now; full in about {:.0} s at this rate)", t.slope, t.last, eta)
        }
    }
}

/// nmethods by (state, tier), sorted.
fn nmethod_counts(list: &Codelist) -> Vec<NmethodCount> {
    let mut m: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    for e in &list.entries {
        let tier = match e.level {
            0 if e.is_native_wrapper() => "native",
            0 => "mh_intrinsic",
            1..=3 => "c1",
            4 => "c2",
            _ => "other",
        };
        *m.entry((e.state.label(), tier)).or_insert(0) += 1;
    }
    m.into_iter()
        .map(|((state, tier), count)| NmethodCount { state, tier, count })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codelist;

    fn list_with_park(n: u64) -> Codelist {
        let mut text = String::from("1 4 0 A.b()V [0x10, 0x20 - 0x30]\n");
        for i in 0..n {
            let b = 0x1000 + i * 0x300;
            text.push_str(&format!(
                "{} 0 1 jdk.internal.misc.Unsafe.park(ZJ)V [{b:#x}, {:#x} - {:#x}]\n",
                10 + i,
                b + 0x10,
                b + 0x100
            ));
        }
        codelist::parse_for(&text, 25).unwrap()
    }

    #[test]
    fn steady_park_growth_alerts_once_with_its_rate() {
        let mut w = Watcher::new(WatchOptions::default());
        let mut alerts = Vec::new();
        for i in 0..8u64 {
            alerts.extend(w.observe_codelist(i as f64 * 2.0, &list_with_park(2 * i)));
        }
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!(
            alerts[0]
                .message
                .starts_with("+1.0 not-entrant versions of Unsafe.park per second"),
            "{}",
            alerts[0].message
        );
        assert!(
            serde_json::to_string(w.latest()).is_ok(),
            "latest figures serialize to JSON"
        );
    }

    fn cache(used_kb: u64, size_kb: u64) -> CodeCache {
        let text = format!(
            "CodeCache: size={size_kb}Kb used={used_kb}Kb max_used={used_kb}Kb free={}Kb",
            size_kb - used_kb
        );
        crate::codecache::parse(&text).unwrap()
    }

    #[test]
    fn heap_alerts_only_when_full_soon() {
        let mut fast = Watcher::new(WatchOptions::default());
        let mut slow = Watcher::new(WatchOptions::default());
        let (mut a_fast, mut a_slow) = (Vec::new(), Vec::new());
        for i in 0..8u64 {
            a_fast.extend(fast.observe_summary(i as f64, &cache(1000 + 100 * i, 20_000)));
            a_slow.extend(slow.observe_summary(i as f64, &cache(1000 + i, 200_000)));
        }
        assert_eq!(a_fast.len(), 1, "{a_fast:?}");
        assert!(
            a_fast[0]
                .message
                .starts_with("+100.0 KiB per second used in code heap 'CodeCache'"),
            "{}",
            a_fast[0].message
        );
        assert!(a_slow.is_empty(), "{a_slow:?}");
    }

    #[test]
    fn stable_list_never_alerts() {
        let mut w = Watcher::new(WatchOptions::default());
        for i in 0..10 {
            assert!(w.observe_codelist(i as f64, &list_with_park(3)).is_empty());
        }
        assert_eq!(w.active().count(), 0);
    }
}
