//! Storms: bursts of deoptimizations, invalidations or recompilations, found by their rate in a
//! sliding window, each named with its likely cause.
//!
//! Causes, checked in this order:
//! - **JFR started late on JDK 22 or older**: the recording's first seconds are full of C2
//!   recompiles of methods it never saw warming up. Creating the recorder retransforms its
//!   event classes through JVMTI; code compiled before that has no evol dependencies recorded,
//!   so the first redefinition marks *all* compiled code for deoptimization (JDK-8324241 fixed
//!   it in 23; README, "What profiling costs the JVM").
//! - **A class redefinition** (a `jdk.RedefineClasses`/`RetransformClasses` event or a
//!   `Marked all nmethods for deopt` log line just before).
//! - **Classes that break class-hierarchy assumptions** (`dependency_failed` just before).
//! - **A burst of traps**: `unstable_if` (a branch never taken until then), `class_check` and
//!   the other type checks (a type profile that changed), or others, named with their counts.
//! - Otherwise the mix is described as it is.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::model::{EndKind, Format, MarkerKind, Ms, Timeline};

/// How storms are found.
#[derive(Debug, Clone)]
pub struct StormOptions {
    /// The sliding window.
    pub window_ms: Ms,
    /// Events in one window that make a storm at the least.
    pub min_events: usize,
    /// A recording that starts this long after the JVM counts as started late.
    pub late_start_ms: Ms,
    /// Recompiles in a late recording's first window that make a JFR-start storm.
    pub min_jfr_start_recompiles: usize,
}

impl Default for StormOptions {
    fn default() -> Self {
        StormOptions {
            window_ms: 1000.0,
            min_events: 50,
            late_start_ms: 2000.0,
            min_jfr_start_recompiles: 8,
        }
    }
}

/// Why a storm happened, as far as the input tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CauseKind {
    /// JFR started at run time on JDK 22 or older and deoptimized all compiled code.
    JfrStart,
    /// Classes were redefined or retransformed.
    Redefinition,
    /// Classes were loaded that break assumptions of compiled code.
    ClassHierarchy,
    /// Mostly `unstable_if` traps.
    UnstableIf,
    /// Mostly type-check traps (`class_check`, `bimorphic...`): a type profile changed.
    TypeProfile,
    /// Mostly other traps.
    Traps,
    /// Many versions thrown away without traps, nothing seen that explains it.
    MassInvalidation,
    /// Mostly recompilations.
    Recompilation,
}

/// A storm and its likely cause.
#[derive(Debug, Clone, Serialize)]
pub struct Storm {
    /// First event.
    pub start_ms: Ms,
    /// Last event.
    pub end_ms: Ms,
    /// Uncommon traps (and deoptimized frames) in it.
    pub traps: usize,
    /// Versions thrown away (other than by tiering up) in it.
    pub invalidations: usize,
    /// Recompiles in it.
    pub recompiles: usize,
    /// Distinct methods.
    pub methods: usize,
    /// The most events in one window, per second.
    pub peak_per_s: f64,
    /// Trap reasons with counts, most first.
    pub reasons: Vec<(String, usize)>,
    /// Methods with the most events, most first (at most 5).
    pub top_methods: Vec<(String, usize)>,
    /// The likely cause.
    pub cause: CauseKind,
    /// The cause in words.
    pub explanation: String,
}

/// Methods invalidated at once that make a mass invalidation (a failed class-hierarchy
/// dependency invalidates a few, a redefinition in "all dependencies" mode all of them).
const MASS_METHODS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Trap,
    Invalidation,
    Recompile,
}

struct Event<'t> {
    at: Ms,
    kind: Kind,
    method: &'t str,
    reason: Option<&'t str>,
}

/// Every storm of a timeline, in time order.
pub fn find(t: &Timeline, o: &StormOptions) -> Vec<Storm> {
    // Two passes keep memory to one number per event: the times find the bursts, then only
    // the events inside a burst are kept whole.
    let mut times: Vec<Ms> = Vec::new();
    each_event(t, |e| times.push(e.at));
    times.sort_by(f64::total_cmp);
    let ranges: Vec<(Ms, Ms)> = bursts(&times, o)
        .into_iter()
        .map(|(a, b)| (times[a], times[b - 1]))
        .collect();
    drop(times);
    let mut accs: Vec<Acc<'_>> = ranges.iter().map(|_| Acc::default()).collect();
    each_event(t, |e| {
        let i = ranges.partition_point(|r| r.1 < e.at);
        if ranges.get(i).is_some_and(|r| r.0 <= e.at) {
            accs[i].add(&e);
        }
    });
    let mut storms: Vec<Storm> = accs.into_iter().map(|a| a.describe(t, o)).collect();
    if let Some(s) = jfr_start(t, o) {
        // The rate-based search may have found the same burst: keep one.
        storms.retain(|x| x.end_ms < s.start_ms || x.start_ms > s.end_ms);
        storms.push(s);
    }
    storms.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    storms
}

/// Calls `f` with every event storms are made of.
fn each_event<'t>(t: &'t Timeline, mut f: impl FnMut(Event<'t>)) {
    for m in &t.methods {
        for d in &m.deopts {
            f(Event {
                at: d.at_ms,
                kind: Kind::Trap,
                method: &m.name,
                reason: Some(&d.reason),
            });
        }
        for v in &m.versions {
            let Some(e) = &v.end else { continue };
            // An end inferred from a trap is the trap itself, already counted.
            let counted = e.kind == EndKind::TierUp || (e.kind == EndKind::Trap && !e.observed);
            if let (false, Some(at)) = (counted, e.at_ms) {
                f(Event {
                    at,
                    kind: Kind::Invalidation,
                    method: &m.name,
                    reason: None,
                });
            }
        }
        for v in crate::analysis::recompiles(&m.versions) {
            if let Some(at) = v.start_ms {
                f(Event {
                    at,
                    kind: Kind::Recompile,
                    method: &m.name,
                    reason: None,
                });
            }
        }
    }
}

/// Index ranges of the (sorted) times in windows with at least `min_events`, merged.
fn bursts(times: &[Ms], o: &StormOptions) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut j = 0;
    for i in 0..times.len() {
        j = j.max(i);
        while j < times.len() && times[j] < times[i] + o.window_ms {
            j += 1;
        }
        if j - i < o.min_events.max(1) {
            continue;
        }
        match out.last_mut() {
            Some((_, end)) if i <= *end => *end = (*end).max(j),
            _ => out.push((i, j)),
        }
    }
    out
}

/// What a storm is made of, gathered event by event.
#[derive(Default)]
struct Acc<'t> {
    traps: usize,
    invalidations: usize,
    recompiles: usize,
    times: Vec<Ms>,
    methods: HashMap<&'t str, usize>,
    reasons: HashMap<&'t str, usize>,
}

impl<'t> Acc<'t> {
    fn add(&mut self, e: &Event<'t>) {
        match e.kind {
            Kind::Trap => self.traps += 1,
            Kind::Invalidation => self.invalidations += 1,
            Kind::Recompile => self.recompiles += 1,
        }
        self.times.push(e.at);
        *self.methods.entry(e.method).or_default() += 1;
        if let Some(r) = e.reason {
            *self.reasons.entry(r).or_default() += 1;
        }
    }

    fn describe(mut self, t: &Timeline, o: &StormOptions) -> Storm {
        self.times.sort_by(f64::total_cmp);
        let mut s = Storm {
            start_ms: self.times.first().copied().unwrap_or(0.0),
            end_ms: self.times.last().copied().unwrap_or(0.0),
            traps: self.traps,
            invalidations: self.invalidations,
            recompiles: self.recompiles,
            methods: self.methods.len(),
            peak_per_s: peak(&self.times, o.window_ms),
            reasons: top(self.reasons, usize::MAX),
            top_methods: top(self.methods, 5),
            cause: CauseKind::Recompilation,
            explanation: String::new(),
        };
        (s.cause, s.explanation) = cause(t, &s, o);
        s
    }
}

/// The most events in any window, per second (`times` sorted).
fn peak(times: &[Ms], window: Ms) -> f64 {
    let (mut best, mut j) = (0, 0);
    for i in 0..times.len() {
        j = j.max(i);
        while j < times.len() && times[j] < times[i] + window {
            j += 1;
        }
        best = best.max(j - i);
    }
    best as f64 * 1000.0 / window
}

/// Values with counts, most first, at most `n`.
fn top(by: HashMap<&str, usize>, n: usize) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = by.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

fn cause(t: &Timeline, s: &Storm, o: &StormOptions) -> (CauseKind, String) {
    let near = |kind: MarkerKind, before: Ms| {
        t.markers.iter().find(|m| {
            m.kind == kind && m.at_ms >= s.start_ms - before && m.at_ms <= s.start_ms + o.window_ms
        })
    };
    if let Some(m) =
        near(MarkerKind::Redefinition, 2000.0).or(near(MarkerKind::MarkedForDeopt, 2000.0))
    {
        return (
            CauseKind::Redefinition,
            format!(
                "classes were redefined at {:.3} s ({}): code that depended on them, or on JDK 22 and older all code compiled before the first redefinition, was deoptimized",
                m.at_ms / 1000.0,
                m.detail
            ),
        );
    }
    let events = s.traps + s.invalidations + s.recompiles;
    let mass = s.invalidations * 2 >= events && s.methods >= MASS_METHODS;
    if let (false, Some(m)) = (mass, near(MarkerKind::DependencyFailed, 2000.0)) {
        return (
            CauseKind::ClassHierarchy,
            format!("a class was loaded that breaks what compiled code assumed about the class hierarchy ({})", m.detail),
        );
    }
    if s.traps * 2 >= events {
        let of = |pred: fn(&str) -> bool| {
            s.reasons
                .iter()
                .filter(|(r, _)| pred(r))
                .map(|(_, c)| c)
                .sum::<usize>()
        };
        let unstable = of(|r| r == "unstable_if");
        let types =
            of(|r| r.contains("class_check") || r.contains("type_check") || r == "bimorphic");
        let list = s
            .reasons
            .iter()
            .take(3)
            .map(|(r, c)| format!("{r} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let (kind, what) = if unstable * 2 >= s.traps {
            (CauseKind::UnstableIf, "branches that had never been taken were taken (unstable_if): the code compiled for the old profile was thrown away")
        } else if types * 2 >= s.traps {
            (CauseKind::TypeProfile, "call sites saw receiver types their type profile had not (class_check and other type checks): a type profile changed")
        } else {
            (CauseKind::Traps, "a burst of uncommon traps")
        };
        return (kind, format!("{what}; traps: {list}"));
    }
    if s.invalidations * 2 >= events {
        let jdk = match t.source.feature {
            Some(f) if f <= 22 => " (this is JDK {f}: the first JFR start or agent attach deoptimizes all compiled code)",
            _ => "",
        };
        return (
            CauseKind::MassInvalidation,
            format!(
                "{} versions of {} methods were thrown away without traps: a class redefinition, an agent or JFR started at run time{}, or classes loaded that break class-hierarchy assumptions",
                s.invalidations, s.methods, jdk.replace("{f}", &t.source.feature.unwrap_or(0).to_string())
            ),
        );
    }
    (
        CauseKind::Recompilation,
        format!("{} recompilations of {} methods", s.recompiles, s.methods),
    )
}

/// A recording started after the JVM, on JDK 22 or older: C2 compiles in its first window of methods
/// that the recording never saw at a lower tier were compiled before and thrown away when
/// JFR started.
fn jfr_start(t: &Timeline, o: &StormOptions) -> Option<Storm> {
    let start = t.source.recording_start_ms?;
    let feature = t.source.feature?;
    if t.source.format != Some(Format::Jfr) || feature > 22 || start < o.late_start_ms {
        return None;
    }
    let how = if t.source.jfr_at_launch == Some(true) {
        "JFR (started by -XX:StartFlightRecording) initialized"
    } else {
        "JFR started"
    };
    let until = start + 10.0 * o.window_ms;
    let mut hits: Vec<(Ms, &str)> = Vec::new();
    for m in &t.methods {
        let Some(first) = m.versions.iter().find(|v| v.installed() && !v.osr) else {
            continue;
        };
        let at = first.start_ms.unwrap_or(f64::MAX);
        if first.level == Some(4) && at >= start && at <= until {
            hits.push((at, &m.name));
        }
    }
    if hits.len() < o.min_jfr_start_recompiles {
        return None;
    }
    hits.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (first, last) = (hits[0].0, hits[hits.len() - 1].0);
    let names: BTreeMap<&str, usize> = hits.iter().map(|(_, n)| (*n, 1)).collect();
    Some(Storm {
        start_ms: first,
        end_ms: last,
        traps: 0,
        invalidations: 0,
        recompiles: hits.len(),
        methods: names.len(),
        peak_per_s: hits.len() as f64 * 1000.0 / (last - first).max(o.window_ms),
        reasons: Vec::new(),
        top_methods: hits.iter().take(5).map(|(_, n)| (n.to_string(), 1)).collect(),
        cause: CauseKind::JfrStart,
        explanation: format!(
            "{how} {:.1} s after the JVM on JDK {feature}: {} methods were recompiled by C2 in the recording's first {:.0} s without ever being seen warming up; starting JFR at run time on JDK 22 and older deoptimizes all compiled code (JDK-8324241, fixed in 23). Start JFR with the JVM (-XX:StartFlightRecording, `hch record`) or accept one warm-up per JVM",
            start / 1000.0,
            hits.len(),
            10.0 * o.window_ms / 1000.0
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::Builder;
    use crate::model::Deopt;

    fn trap(at: Ms, reason: &str) -> Deopt {
        Deopt {
            at_ms: at,
            compile_id: None,
            level: Some(4),
            reason: crate::model::word(reason),
            action: Some("reinterpret".into()),
            bci: None,
            line: None,
            instruction: None,
            inlined: None,
            frame: false,
        }
    }

    #[test]
    fn a_burst_of_unstable_if_traps_is_a_storm_and_steady_traps_are_not() {
        let mut b = Builder::default();
        let m = b.method("A.f()V");
        for i in 0..50 {
            b.deopt(Some(m), trap(1000.0 * i as f64, "class_check")); // one a second
        }
        for i in 0..80 {
            b.deopt(Some(m), trap(20_000.0 + 5.0 * i as f64, "unstable_if"));
        }
        let t = b.finish();
        let storms = find(&t, &StormOptions::default());
        assert_eq!(storms.len(), 1, "{storms:?}");
        let s = &storms[0];
        assert_eq!(s.cause, CauseKind::UnstableIf);
        assert!(
            s.traps >= 80 && s.start_ms >= 19_999.0 && s.end_ms <= 21_000.0,
            "{s:?}"
        );
    }

    /// `n` methods each compiled at `level` at `at`, and ended (observed) at `end`.
    fn methods(b: &mut Builder, n: usize, level: u8, at: Ms, end: Option<Ms>) {
        for i in 0..n {
            let m = b.method(&format!("M{i}.f()V"));
            let id = 1000 * level as u32 + i as u32;
            let v = b.compile(id, m);
            v.level = Some(level);
            v.start_ms = Some(at);
            if let Some(e) = end {
                b.ended(
                    id,
                    crate::model::End {
                        at_ms: Some(e + i as f64),
                        kind: EndKind::Other,
                        reason: "made not entrant".into(),
                        replaced_by: None,
                        observed: true,
                    },
                );
            }
        }
    }

    #[test]
    fn a_mass_invalidation_after_a_redefinition_names_it() {
        let mut b = Builder::default();
        methods(&mut b, 120, 4, 1000.0, Some(9000.0));
        b.markers.push(crate::model::Marker {
            at_ms: 8900.0,
            kind: MarkerKind::MarkedForDeopt,
            detail: "Marked all nmethods for deopt".into(),
        });
        let storms = find(&b.finish(), &StormOptions::default());
        assert_eq!(storms.len(), 1, "{storms:?}");
        assert_eq!(storms[0].cause, CauseKind::Redefinition);
        assert_eq!(storms[0].invalidations, 120);

        let mut b = Builder::default();
        b.source.feature = Some(17);
        methods(&mut b, 120, 4, 1000.0, Some(9000.0));
        let s = &find(&b.finish(), &StormOptions::default())[0];
        assert_eq!(s.cause, CauseKind::MassInvalidation);
        assert!(
            s.explanation.contains("JDK 17: the first JFR start"),
            "{}",
            s.explanation
        );
    }

    #[test]
    fn a_late_jfr_start_on_jdk_22_and_older_is_a_storm() {
        for (feature, storm) in [(17, true), (21, true), (25, false)] {
            let mut b = Builder::default();
            b.source.format = Some(Format::Jfr);
            b.source.feature = Some(feature);
            b.source.recording_start_ms = Some(60_000.0);
            methods(&mut b, 30, 4, 61_000.0, None); // C2 code never seen warming up
            let storms = find(&b.finish(), &StormOptions::default());
            let found = storms.iter().any(|s| s.cause == CauseKind::JfrStart);
            assert_eq!(found, storm, "JDK {feature}: {storms:?}");
        }
    }
}
