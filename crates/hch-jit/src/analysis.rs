//! What a timeline says: the churn (methods recompiled most, the deoptimization reasons that
//! dominate), the storms, the compilers' load, the code cache over time, and which hot methods
//! churn.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::model::{CacheEvent, Compiler, EndKind, Method, Ms, Source, Timeline, Version};
use crate::storm::{self, Storm, StormOptions};

/// What to compute.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rows of the churn table (0: all).
    pub top: usize,
    /// How storms are found.
    pub storms: StormOptions,
    /// The hot set to overlay: method name and its percent of the samples, when known.
    pub hot: Vec<(String, Option<f64>)>,
}

/// The timeline and everything found in it.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Totals.
    pub summary: Summary,
    /// The methods that churn most, and the reasons.
    pub churn: Churn,
    /// Bursts of deoptimizations or recompilations, with their likely causes.
    pub storms: Vec<Storm>,
    /// The compilers' load.
    pub load: Load,
    /// The code cache over time.
    pub code_cache: Vec<HeapSummary>,
    /// Full, disabled and restart events.
    pub cache_events: Vec<CacheEvent>,
    /// The hot methods overlaid, with their churn (empty without a hot set).
    pub hot: Vec<ChurnRow>,
    /// Everything read.
    pub timeline: Timeline,
}

/// Totals of a timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// What the input was.
    pub source: Source,
    /// Methods seen.
    pub methods: usize,
    /// Compiles, failed ones included.
    pub compiles: usize,
    /// Failed compiles.
    pub failed: usize,
    /// Compiles of a tier a method already had: recompilations.
    pub recompiles: usize,
    /// Uncommon traps.
    pub traps: usize,
    /// Frames deoptimized because their code was invalidated.
    pub frames: usize,
    /// Versions thrown away other than by tiering up.
    pub invalidations: usize,
}

/// The churn table.
#[derive(Debug, Clone, Serialize)]
pub struct Churn {
    /// Methods, most churning first.
    pub methods: Vec<ChurnRow>,
    /// Deoptimization reasons, most frequent first.
    pub reasons: Vec<ReasonRow>,
}

/// One method's churn.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnRow {
    /// The method.
    pub method: String,
    /// Its compiles.
    pub compiles: usize,
    /// Compiles of a tier it already had.
    pub recompiles: usize,
    /// Its uncommon traps.
    pub traps: usize,
    /// Versions thrown away other than by tiering up.
    pub invalidations: usize,
    /// Its most frequent trap reason.
    pub top_reason: Option<String>,
    /// Where it ended up, in words.
    pub state: String,
    /// Whether it is in the hot set overlaid.
    pub hot: bool,
    /// Its share of the samples, when the hot set says.
    pub hot_percent: Option<f64>,
}

/// One deoptimization reason.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonRow {
    /// `unstable_if`, `class_check`, ...
    pub reason: String,
    /// Traps with it.
    pub count: usize,
    /// Percent of all traps.
    pub percent: f64,
    /// Distinct methods.
    pub methods: usize,
    /// Actions taken, with counts.
    pub actions: BTreeMap<String, usize>,
}

/// The compilers' load.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    /// Per compiler thread.
    pub threads: Vec<ThreadLoad>,
    /// Per tier.
    pub tiers: Vec<TierLoad>,
    /// Per compiler's queue.
    pub queues: Vec<QueueLoad>,
}

/// One compiler thread's work.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadLoad {
    /// Its name.
    pub thread: String,
    /// Compiles.
    pub compiles: usize,
    /// Time spent compiling.
    pub busy_ms: Ms,
    /// Busy time over the span it was seen in (0 to 1).
    pub utilization: f64,
    /// Bytecode bytes compiled per second of compiling.
    pub bytes_per_s: f64,
    /// The longest compile and its method.
    pub longest_ms: Ms,
    /// The method of the longest compile.
    pub longest: String,
}

/// One tier's work.
#[derive(Debug, Clone, Serialize)]
pub struct TierLoad {
    /// The tier (0 native wrappers, 1 to 3 C1, 4 C2).
    pub level: Option<u8>,
    /// Compiles.
    pub compiles: usize,
    /// Failed ones.
    pub failed: usize,
    /// Time spent, where the input says.
    pub total_ms: Ms,
    /// Mean compile time.
    pub mean_ms: Ms,
    /// Longest compile time.
    pub max_ms: Ms,
    /// Code bytes made.
    pub code_bytes: u64,
}

/// One compiler's queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueLoad {
    /// `c1` or `c2`.
    pub compiler: Compiler,
    /// The longest queue seen (sampled by JFR, or counted from requests and starts).
    pub max_size: u64,
    /// Compiles whose wait is known.
    pub waits: usize,
    /// Mean wait from request to start.
    pub mean_wait_ms: Option<Ms>,
    /// 95th percentile wait.
    pub p95_wait_ms: Option<Ms>,
    /// Longest wait.
    pub max_wait_ms: Option<Ms>,
}

/// One code heap over the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct HeapSummary {
    /// The heap (`all` for LogCompilation's whole-cache figures).
    pub heap: String,
    /// Samples.
    pub samples: usize,
    /// Bytes used at the first and last sample, and at most.
    pub first_used: Option<u64>,
    /// Bytes used at the last sample.
    pub last_used: Option<u64>,
    /// Most bytes used.
    pub peak_used: Option<u64>,
    /// Least bytes free.
    pub min_free: Option<u64>,
    /// Bytes free at the first sample.
    pub first_free: Option<u64>,
    /// Bytes free at the last sample.
    pub last_free: Option<u64>,
    /// The heap's size.
    pub capacity: Option<u64>,
}

/// Computes the report.
pub fn analyze(timeline: Timeline, opts: &Options) -> Report {
    let hot: HashMap<&str, Option<f64>> = opts.hot.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    let mut rows: Vec<ChurnRow> = timeline
        .methods
        .iter()
        .map(|m| churn_row(m, hot_share(&hot, &m.name)))
        .collect();
    let mut hot_rows: Vec<ChurnRow> = rows.iter().filter(|r| r.hot).cloned().collect();
    hot_rows.sort_by(|a, b| {
        b.hot_percent
            .unwrap_or(0.0)
            .total_cmp(&a.hot_percent.unwrap_or(0.0))
    });
    let summary = summary(&timeline, &rows);
    rows.retain(|r| score(r) > 0);
    rows.sort_by(|a, b| {
        score(b)
            .cmp(&score(a))
            .then(b.compiles.cmp(&a.compiles))
            .then(a.method.cmp(&b.method))
    });
    if opts.top > 0 {
        rows.truncate(opts.top);
    }
    Report {
        summary,
        churn: Churn {
            methods: rows,
            reasons: reasons(&timeline),
        },
        storms: storm::find(&timeline, &opts.storms),
        load: load(&timeline),
        code_cache: heaps(&timeline),
        cache_events: timeline.cache_events.clone(),
        hot: hot_rows,
        timeline,
    }
}

/// How much a method churns: recompiles, traps and invalidations.
fn score(r: &ChurnRow) -> usize {
    r.recompiles + r.traps + r.invalidations
}

/// A method's share of the hot set, by its full name or (logs print no descriptor) its name
/// without the descriptor.
fn hot_share(hot: &HashMap<&str, Option<f64>>, name: &str) -> Option<Option<f64>> {
    if hot.is_empty() {
        return None;
    }
    hot.get(name).copied().or_else(|| {
        // Only a name without a descriptor (a log's) matches by name alone.
        let bare = name.split('(').next().unwrap_or(name);
        let loose = |h: &str| !h.contains('(') || !name.contains('(');
        let mut matches = hot
            .iter()
            .filter(|(h, _)| loose(h) && h.split('(').next() == Some(bare));
        let first = matches.next()?;
        Some(matches.fold(*first.1, |a, (_, p)| match (a, p) {
            (Some(a), Some(p)) => Some(a.max(*p)),
            (a, p) => a.or(*p),
        }))
    })
}

/// Installed versions of a tier (and OSR-ness) the method already had.
pub(crate) fn recompiles(versions: &[Version]) -> impl Iterator<Item = &Version> {
    let mut seen = HashSet::new();
    versions
        .iter()
        .filter(move |v| v.installed() && !seen.insert((v.level, v.osr)))
}

/// Versions thrown away other than by tiering up.
fn invalidations(m: &Method) -> usize {
    m.versions
        .iter()
        .filter(|v| v.end.as_ref().is_some_and(|e| e.kind != EndKind::TierUp))
        .count()
}

fn churn_row(m: &Method, hot: Option<Option<f64>>) -> ChurnRow {
    let traps: Vec<&str> = m
        .deopts
        .iter()
        .filter(|d| !d.frame)
        .map(|d| &*d.reason)
        .collect();
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &traps {
        *by_reason.entry(r).or_default() += 1;
    }
    let top_reason = by_reason
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(r, _)| r.to_string());
    ChurnRow {
        method: m.name.clone(),
        compiles: m.versions.len(),
        recompiles: recompiles(&m.versions).count(),
        traps: traps.len(),
        invalidations: invalidations(m),
        top_reason,
        state: state_words(&m.state),
        hot: hot.is_some(),
        hot_percent: hot.flatten(),
    }
}

/// A method's state, short.
pub fn state_words(s: &crate::model::State) -> String {
    use crate::model::State;
    match s {
        State::Compiled { level, osr, .. } => format!(
            "compiled, tier {}{}",
            level.map_or("?".into(), |l| l.to_string()),
            if *osr { " (OSR only)" } else { "" }
        ),
        State::Deoptimized { reason, .. } => format!("interpreted ({reason})"),
        State::Failed { reason } => format!("not compiled ({reason})"),
        State::Unknown => "unknown".into(),
    }
}

fn summary(t: &Timeline, rows: &[ChurnRow]) -> Summary {
    let versions = t.methods.iter().flat_map(|m| &m.versions);
    let deopts = t.methods.iter().flat_map(|m| &m.deopts);
    Summary {
        source: t.source.clone(),
        methods: t.methods.len(),
        compiles: versions.clone().count(),
        failed: versions.filter(|v| !v.installed()).count(),
        recompiles: rows.iter().map(|r| r.recompiles).sum(),
        traps: deopts.clone().filter(|d| !d.frame).count(),
        frames: deopts.filter(|d| d.frame).count(),
        invalidations: rows.iter().map(|r| r.invalidations).sum(),
    }
}

fn reasons(t: &Timeline) -> Vec<ReasonRow> {
    /// Traps, methods and actions of one reason.
    type Tally<'t> = (usize, HashSet<&'t str>, BTreeMap<String, usize>);
    let mut by: BTreeMap<&str, Tally<'_>> = BTreeMap::new();
    let mut total = 0;
    for m in &t.methods {
        for d in m.deopts.iter().filter(|d| !d.frame) {
            total += 1;
            let e = by.entry(&d.reason).or_default();
            e.0 += 1;
            e.1.insert(&m.name);
            *e.2.entry(d.action.as_deref().unwrap_or("?").to_string())
                .or_default() += 1;
        }
    }
    let mut rows: Vec<ReasonRow> = by
        .into_iter()
        .map(|(reason, (count, methods, actions))| ReasonRow {
            reason: reason.to_string(),
            count,
            percent: 100.0 * count as f64 / total.max(1) as f64,
            methods: methods.len(),
            actions,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    rows
}

fn load(t: &Timeline) -> Load {
    let versions: Vec<(&Method, &Version)> = t
        .methods
        .iter()
        .flat_map(|m| m.versions.iter().map(move |v| (m, v)))
        .collect();
    Load {
        threads: threads(t, &versions),
        tiers: tiers(&versions),
        queues: queues(t, &versions),
    }
}

fn threads(t: &Timeline, versions: &[(&Method, &Version)]) -> Vec<ThreadLoad> {
    let mut out: Vec<ThreadLoad> = t
        .threads
        .iter()
        .map(|name| ThreadLoad {
            thread: name.clone(),
            compiles: 0,
            busy_ms: 0.0,
            utilization: 0.0,
            bytes_per_s: 0.0,
            longest_ms: 0.0,
            longest: String::new(),
        })
        .collect();
    // Per thread: first start, last install, bytecode bytes, the longest compile's method.
    let mut extra: Vec<(Ms, Ms, u64, Option<&str>)> =
        vec![(f64::MAX, f64::MIN, 0, None); out.len()];
    for (m, v) in versions {
        let Some(i) = v.thread.map(|i| i as usize).filter(|&i| i < out.len()) else {
            continue;
        };
        let (o, x) = (&mut out[i], &mut extra[i]);
        o.compiles += 1;
        let d = v.duration_ms.unwrap_or(0.0);
        o.busy_ms += d;
        if d > o.longest_ms || x.3.is_none() {
            o.longest_ms = d;
            x.3 = Some(&m.name);
        }
        x.0 = x.0.min(v.start_ms.unwrap_or(f64::MAX));
        x.1 = x.1.max(v.installed_ms().unwrap_or(f64::MIN));
        x.2 += u64::from(v.bytecode_size.unwrap_or(0));
    }
    for (o, (first, last, bytes, longest)) in out.iter_mut().zip(extra) {
        let span = last - first;
        o.utilization = if span > 0.0 {
            (o.busy_ms / span).min(1.0)
        } else {
            0.0
        };
        o.bytes_per_s = if o.busy_ms > 0.0 {
            bytes as f64 / (o.busy_ms / 1000.0)
        } else {
            0.0
        };
        o.longest = longest.unwrap_or_default().to_string();
    }
    out
}

fn tiers(versions: &[(&Method, &Version)]) -> Vec<TierLoad> {
    let mut by: BTreeMap<Option<u8>, TierLoad> = BTreeMap::new();
    for (_, v) in versions {
        let e = by.entry(v.level).or_insert_with(|| TierLoad {
            level: v.level,
            compiles: 0,
            failed: 0,
            total_ms: 0.0,
            mean_ms: 0.0,
            max_ms: 0.0,
            code_bytes: 0,
        });
        e.compiles += 1;
        e.failed += usize::from(!v.installed());
        let d = v.duration_ms.unwrap_or(0.0);
        e.total_ms += d;
        e.max_ms = e.max_ms.max(d);
        e.code_bytes += u64::from(v.code_size.unwrap_or(0));
    }
    by.into_values()
        .map(|mut t| {
            t.mean_ms = t.total_ms / t.compiles.max(1) as f64;
            t
        })
        .collect()
}

fn queues(t: &Timeline, versions: &[(&Method, &Version)]) -> Vec<QueueLoad> {
    let mut out = Vec::new();
    for c in [Compiler::C1, Compiler::C2, Compiler::Jvmci] {
        let mine: Vec<&Version> = versions
            .iter()
            .map(|(_, v)| *v)
            .filter(|v| {
                v.compiler == Some(c)
                    || (v.compiler.is_none() && v.level.map(Compiler::of_level) == Some(c))
            })
            .collect();
        let mut waits: Vec<Ms> = mine
            .iter()
            .filter_map(|v| Some((v.start_ms? - v.queued_ms?).max(0.0)))
            .collect();
        waits.sort_by(f64::total_cmp);
        let sampled = t
            .queues
            .iter()
            .filter(|q| q.compiler == c)
            .map(|q| q.peak.unwrap_or(q.size).max(q.size))
            .max();
        let counted = queue_peak(&mine);
        if mine.is_empty() && sampled.is_none() {
            continue;
        }
        let pick = |q: f64| {
            waits
                .get(((waits.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        out.push(QueueLoad {
            compiler: c,
            max_size: sampled.unwrap_or(0).max(counted),
            waits: waits.len(),
            mean_wait_ms: (!waits.is_empty())
                .then(|| waits.iter().sum::<Ms>() / waits.len() as f64),
            p95_wait_ms: pick(0.95),
            max_wait_ms: waits.last().copied(),
        });
    }
    out
}

/// The longest queue, counted from requests (+1) and starts (-1).
fn queue_peak(versions: &[&Version]) -> u64 {
    let mut queued: Vec<Ms> = Vec::new();
    let mut started: Vec<Ms> = Vec::new();
    for v in versions {
        if let (Some(q), Some(s)) = (v.queued_ms, v.start_ms) {
            queued.push(q);
            started.push(s.max(q));
        }
    }
    queued.sort_by(f64::total_cmp);
    started.sort_by(f64::total_cmp);
    // Walk both in time order; a start at the same moment as a request goes first.
    let (mut i, mut j, mut n, mut peak) = (0, 0, 0i64, 0i64);
    while i < queued.len() {
        if j < started.len() && started[j] <= queued[i] {
            n -= 1;
            j += 1;
        } else {
            n += 1;
            i += 1;
            peak = peak.max(n);
        }
    }
    peak.max(0) as u64
}

fn heaps(t: &Timeline) -> Vec<HeapSummary> {
    let mut by: BTreeMap<&str, Vec<&crate::model::CacheSample>> = BTreeMap::new();
    for s in &t.code_cache {
        by.entry(&s.heap).or_default().push(s);
    }
    by.into_iter()
        .map(|(heap, s)| HeapSummary {
            heap: heap.to_string(),
            samples: s.len(),
            first_used: s.first().and_then(|x| x.used),
            last_used: s.last().and_then(|x| x.used),
            peak_used: s.iter().filter_map(|x| x.used).max(),
            min_free: s.iter().filter_map(|x| x.free).min(),
            first_free: s.first().and_then(|x| x.free),
            last_free: s.last().and_then(|x| x.free),
            capacity: s.iter().filter_map(|x| x.capacity).max(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_methods_match_by_descriptor_unless_one_has_none() {
        let hot: HashMap<&str, Option<f64>> = [("A.f(I)V", Some(5.0)), ("B.g", None)].into();
        assert_eq!(hot_share(&hot, "A.f(I)V"), Some(Some(5.0)));
        assert_eq!(hot_share(&hot, "A.f(J)V"), None, "another overload");
        assert_eq!(hot_share(&hot, "A.f"), Some(Some(5.0)), "a log's name");
        assert_eq!(
            hot_share(&hot, "B.g()V"),
            Some(None),
            "a directive's pattern"
        );
    }
}
