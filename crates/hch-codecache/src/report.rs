//! The code cache diagnosis: figures per heap, nmethods by tier and state, the methods with the
//! most versions, and verdicts (what is wrong, the evidence, the cause and the fix).
//!
//! A healthy JVM gets no verdict: every rule needs a clear sign (compilation disabled, a heap
//! over 90 % used, free space cut into small pieces, or many not-entrant native wrappers of one
//! method, which never happens without something re-registering that native method).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::analytics::Analytics;
use crate::codecache::{CodeCache, Compilation, HeapKind};
use crate::codelist::{Codelist, Entry, State};
use crate::MethodRef;

/// Thresholds of the verdict rules.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// Not-entrant native wrappers of one method that make a leak verdict.
    pub leaked_wrappers: usize,
    /// Used share of a heap that makes a "close to full" verdict.
    pub heap_full: f64,
    /// Fragmentation (1 - largest free block / free bytes) that makes a verdict...
    pub fragmentation: f64,
    /// ...when at least this many bytes are free, so that it matters.
    pub fragmentation_min_free: u64,
    /// How many methods to list by number of versions.
    pub top_methods: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            leaked_wrappers: 10,
            heap_full: 0.9,
            fragmentation: 0.8,
            fragmentation_min_free: 512 * 1024,
            top_methods: 10,
        }
    }
}

/// One finding, with everything needed to act on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// A stable identifier, e.g. `native-wrapper-leak`.
    pub id: &'static str,
    /// One line saying what is wrong.
    pub title: String,
    /// The figures that show it.
    pub evidence: Vec<String>,
    /// Why it happens.
    pub cause: String,
    /// What to do.
    pub fix: String,
}

/// Figures for one heap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeapReport {
    /// The heap name.
    pub name: String,
    /// Its kind.
    pub kind: HeapKind,
    /// Reserved KiB.
    pub size_kb: u64,
    /// Used KiB.
    pub used_kb: u64,
    /// Free KiB.
    pub free_kb: u64,
    /// Highest used KiB.
    pub max_used_kb: u64,
    /// Largest free block in bytes (from the analytics), if known.
    pub largest_free_bytes: Option<u64>,
    /// Fragmentation 0..1 (from the analytics), if known.
    pub fragmentation: Option<f64>,
    /// nmethods of the codelist in this heap.
    pub nmethods: u64,
    /// Of which not entrant.
    pub not_entrant: u64,
}

/// nmethods by compiler tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tiers {
    /// Level 0 native wrappers.
    pub native_wrappers: u64,
    /// Level 0 method handle intrinsics (`MethodHandle.linkTo*`, `invokeBasic`).
    pub method_handle_intrinsics: u64,
    /// C1 levels 1, 2 and 3.
    pub c1: [u64; 3],
    /// C2 (level 4).
    pub c2: u64,
    /// Any other level.
    pub other: u64,
}

/// Versions of one method present in the codelist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodVersions {
    /// The method.
    pub method: MethodRef,
    /// All versions listed.
    pub versions: u64,
    /// Versions in use.
    pub in_use: u64,
    /// Versions not entrant.
    pub not_entrant: u64,
    /// Versions that are native wrappers.
    pub native_wrappers: u64,
    /// Bytes of the not-entrant versions (header to code end).
    pub not_entrant_bytes: u64,
}

/// The whole diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Per heap.
    pub heaps: Vec<HeapReport>,
    /// nmethods listed in the codelist.
    pub nmethods: u64,
    /// By tier.
    pub tiers: Tiers,
    /// By state label (`in_use`, `not_entrant`, ...).
    pub states: BTreeMap<&'static str, u64>,
    /// Not-entrant nmethods still in the cache.
    pub not_entrant: u64,
    /// Their bytes.
    pub not_entrant_bytes: u64,
    /// Methods with the most versions, most first.
    pub top_methods: Vec<MethodVersions>,
    /// How often a heap was found full.
    pub full_count: Option<u64>,
    /// Compiler state.
    pub compilation: Option<Compilation>,
    /// The findings; empty on a healthy JVM.
    pub verdicts: Vec<Verdict>,
}

/// Builds the report from what was read from one JVM.
pub fn analyze(
    cc: &CodeCache,
    list: Option<&Codelist>,
    analytics: Option<&Analytics>,
    t: &Thresholds,
) -> Report {
    let entries: &[Entry] = list.map_or(&[], |l| &l.entries);
    let mut report = Report {
        heaps: heap_reports(cc, entries, analytics),
        nmethods: entries.len() as u64,
        tiers: tiers(entries),
        states: states(entries),
        not_entrant: entries
            .iter()
            .filter(|e| e.state == State::NotEntrant)
            .count() as u64,
        not_entrant_bytes: entries
            .iter()
            .filter(|e| e.state == State::NotEntrant)
            .map(Entry::size)
            .sum(),
        top_methods: versions(entries, t.top_methods),
        full_count: cc.full_count.or_else(|| {
            cc.heaps
                .iter()
                .filter_map(|h| h.full_count)
                .reduce(|a, b| a + b)
        }),
        compilation: cc.compilation.clone(),
        verdicts: Vec::new(),
    };
    report.verdicts = verdicts(&report, entries, t);
    report
}

/// Per-heap figures joined with the codelist and analytics.
fn heap_reports(
    cc: &CodeCache,
    entries: &[Entry],
    analytics: Option<&Analytics>,
) -> Vec<HeapReport> {
    cc.heaps
        .iter()
        .map(|h| {
            let a = analytics.and_then(|a| {
                a.heap(&h.name).or(if cc.heaps.len() == 1 {
                    a.heaps.first()
                } else {
                    None
                })
            });
            let inside: Vec<&Entry> = entries.iter().filter(|e| h.contains(e.start)).collect();
            HeapReport {
                name: h.name.clone(),
                kind: h.kind(),
                size_kb: h.size_kb,
                used_kb: h.used_kb,
                free_kb: h.free_kb,
                max_used_kb: h.max_used_kb,
                largest_free_bytes: a.and_then(|a| a.largest_free_bytes()),
                fragmentation: a.and_then(|a| a.fragmentation()),
                nmethods: inside.len() as u64,
                not_entrant: inside
                    .iter()
                    .filter(|e| e.state == State::NotEntrant)
                    .count() as u64,
            }
        })
        .collect()
}

/// Counts nmethods by level.
fn tiers(entries: &[Entry]) -> Tiers {
    let mut t = Tiers::default();
    for e in entries {
        match e.level {
            0 if e.is_native_wrapper() => t.native_wrappers += 1,
            0 => t.method_handle_intrinsics += 1,
            l @ 1..=3 => t.c1[(l - 1) as usize] += 1,
            4 => t.c2 += 1,
            _ => t.other += 1,
        }
    }
    t
}

/// Counts nmethods by state label.
fn states(entries: &[Entry]) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for e in entries {
        *m.entry(e.state.label()).or_insert(0) += 1;
    }
    m
}

/// The methods with more than one version, most versions first.
pub fn versions(entries: &[Entry], top: usize) -> Vec<MethodVersions> {
    let mut by: HashMap<&MethodRef, MethodVersions> = HashMap::new();
    for e in entries {
        let v = by.entry(&e.method).or_insert_with(|| MethodVersions {
            method: e.method.clone(),
            versions: 0,
            in_use: 0,
            not_entrant: 0,
            native_wrappers: 0,
            not_entrant_bytes: 0,
        });
        v.versions += 1;
        v.in_use += u64::from(e.state == State::InUse);
        v.native_wrappers += u64::from(e.is_native_wrapper());
        if e.state == State::NotEntrant {
            v.not_entrant += 1;
            v.not_entrant_bytes += e.size();
        }
    }
    let mut v: Vec<MethodVersions> = by.into_values().filter(|v| v.versions > 1).collect();
    v.sort_by(|a, b| {
        b.versions
            .cmp(&a.versions)
            .then_with(|| a.method.cmp(&b.method))
    });
    v.truncate(top);
    v
}

/// Applies every rule.
fn verdicts(r: &Report, entries: &[Entry], t: &Thresholds) -> Vec<Verdict> {
    let mut out = Vec::new();
    out.extend(wrapper_leaks(entries, t));
    let disabled = compilation_disabled(r);
    // A full cache is already the disabled verdict's evidence; say it once.
    if disabled.is_none() {
        out.extend(r.heaps.iter().filter_map(|h| heap_full(h, t)));
    }
    out.extend(disabled);
    out.extend(r.heaps.iter().filter_map(|h| fragmented(h, t)));
    out
}

/// The fix of `native-wrapper-leak` (also the runbook of the Prometheus alert that matches it).
pub const WRAPPER_LEAK_FIX: &str = "Find the agent that re-registers it (`hch jcmd TARGET VM.command_line`, `VM.dynlibs`: look for -agentpath/-javaagent, \
                  a profiler with a loop option); upgrade async-profiler to 4.3 or later, or stop looping lock profiling. \
                  The space comes back only with a JVM restart.";

/// The cause of `compilation-disabled` when a heap was full.
pub const FULL_CAUSE: &str = "A code heap ran out of contiguous free space, so HotSpot stopped compiling; new hot code runs interpreted, which is \
             much slower. Either the cache is too small for this application or something leaks code (see other verdicts).";

/// The cause of `heap-nearly-full`.
pub const NEARLY_FULL_CAUSE: &str =
    "When a heap has no room left for a new nmethod, HotSpot disables the JIT compiler (see `CodeCache is full`).";

/// Many not-entrant native wrappers of one method: the re-registered natives leak (seed 000).
fn wrapper_leaks(entries: &[Entry], t: &Thresholds) -> Vec<Verdict> {
    let wrappers: Vec<Entry> = entries
        .iter()
        .filter(|e| e.is_native_wrapper())
        .cloned()
        .collect();
    versions(&wrappers, usize::MAX)
        .into_iter()
        .filter(|v| v.not_entrant as usize >= t.leaked_wrappers)
        .map(|v| Verdict {
            id: "native-wrapper-leak",
            title: format!("{} not-entrant native wrappers of {} pile up in the code cache", v.not_entrant, v.method.short()),
            evidence: vec![
                format!("{} versions of {} in Compiler.codelist: {} not entrant, {} in use", v.versions, v.method, v.not_entrant, v.in_use),
                format!("{} KiB held by the not-entrant versions", v.not_entrant_bytes.div_ceil(1024)),
            ],
            cause: format!(
                "Something re-registers the native method {} again and again (JNI RegisterNatives with another function each time), \
                 e.g. a profiler that restarts lock profiling every few seconds (async-profiler before 4.3 with --loop). \
                 Each time the JVM makes the compiled native wrapper not entrant and compiles a new one; native wrappers are never \
                 unloaded as cold code, so they pile up until the code cache is full and the JIT stops.",
                v.method.short()
            ),
            fix: WRAPPER_LEAK_FIX.to_string(),
        })
        .collect()
}

/// The compiler was switched off, with the JVM's own reason.
fn compilation_disabled(r: &Report) -> Option<Verdict> {
    let c = r.compilation.as_ref().filter(|c| !c.enabled)?;
    let why = c
        .reason
        .clone()
        .unwrap_or_else(|| "no reason printed".into());
    let full = why.contains("free space") || r.full_count.unwrap_or(0) > 0;
    let mut evidence = vec![format!("Compiler.codecache: compilation disabled ({why})")];
    evidence.extend(r.full_count.map(|n| format!("full_count={n}")));
    evidence.extend(c.stopped_count.map(|n| {
        format!(
            "stopped_count={n}, restarted_count={}",
            c.restarted_count.unwrap_or(0)
        )
    }));
    evidence.extend(
        r.heaps
            .iter()
            .filter(|h| h.kind != HeapKind::NonNmethods)
            .map(|h| format!("{}: {} of {} KiB used", h.name, h.used_kb, h.size_kb)),
    );
    let fuller = r
        .heaps
        .iter()
        .filter(|h| h.kind != HeapKind::NonNmethods)
        .max_by(|a, b| ratio(a).total_cmp(&ratio(b)));
    Some(Verdict {
        id: "compilation-disabled",
        title: if full {
            "the code cache is full: the JIT compiler is disabled".into()
        } else {
            format!("the JIT compiler is disabled: {why}")
        },
        evidence,
        cause: if full {
            FULL_CAUSE.into()
        } else {
            format!("The JVM reports: {why}.")
        },
        fix: if full {
            full_fix(fuller)
        } else {
            "Check the JVM flags (-Xint, -XX:-UseCompiler).".into()
        },
    })
}

/// The flag that sizes a heap.
fn size_flag(kind: HeapKind) -> &'static str {
    match kind {
        HeapKind::Profiled => "-XX:ProfiledCodeHeapSize=",
        HeapKind::NonProfiled => "-XX:NonProfiledCodeHeapSize=",
        HeapKind::NonNmethods => "-XX:NonNMethodCodeHeapSize=",
        HeapKind::Hot => "-XX:HotCodeHeapSize=",
        _ => "-XX:ReservedCodeCacheSize=",
    }
}

/// The fix for a full cache, naming the heap's own size flag (`None`: the whole cache's).
pub fn full_fix(heap: Option<&HeapReport>) -> String {
    let flag = heap.map_or("-XX:ReservedCodeCacheSize=", |h| size_flag(h.kind));
    let also = if flag == "-XX:ReservedCodeCacheSize=" {
        ""
    } else {
        ", or -XX:ReservedCodeCacheSize= for all heaps"
    };
    format!(
        "Fix any code leak first (see the other verdicts), then restart with a bigger code cache ({flag}{also}; e.g. double it). \
         Watch it with `hch watch TARGET`."
    )
}

/// Used share of a heap.
fn ratio(h: &HeapReport) -> f64 {
    if h.size_kb == 0 {
        0.0
    } else {
        h.used_kb as f64 / h.size_kb as f64
    }
}

/// A heap above the threshold.
fn heap_full(h: &HeapReport, t: &Thresholds) -> Option<Verdict> {
    let r = ratio(h);
    (r >= t.heap_full).then(|| Verdict {
        id: "heap-nearly-full",
        title: format!("code heap '{}' is {:.0} % full", h.name, r * 100.0),
        evidence: vec![format!(
            "{}: size={} KiB used={} KiB free={} KiB max_used={} KiB",
            h.name, h.size_kb, h.used_kb, h.free_kb, h.max_used_kb
        )],
        cause: NEARLY_FULL_CAUSE.into(),
        fix: full_fix(Some(h)),
    })
}

/// Free space cut into pieces too small for new code.
fn fragmented(h: &HeapReport, t: &Thresholds) -> Option<Verdict> {
    let f = h.fragmentation?;
    let free = h.free_kb.saturating_mul(1024);
    (f >= t.fragmentation && free >= t.fragmentation_min_free).then(|| Verdict {
        id: "fragmented-free-space",
        title: format!("free space in '{}' is fragmented ({:.0} %)", h.name, f * 100.0),
        evidence: vec![format!(
            "{} KiB free but the largest free block is {} bytes (Compiler.CodeHeap_Analytics)",
            h.free_kb,
            h.largest_free_bytes.unwrap_or(0)
        )],
        cause: "Code was freed here and there between live nmethods, so the free space is many small blocks; a large new nmethod \
                may not fit although the total looks sufficient."
            .into(),
        fix: format!("Give the heap more room ({}), or find what churns code (many not-entrant versions, class unloading).", size_flag(h.kind)),
    })
}
