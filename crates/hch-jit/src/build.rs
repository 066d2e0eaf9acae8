//! Collects what a reader finds, in whatever order the input gives it (a LogCompilation file
//! logs a compile's request, its code and its compile task far apart), and joins it by compile
//! id into per-method lives when the input ends.

use std::collections::HashMap;

use crate::model::{
    CacheEvent, CacheSample, Deopt, End, EndKind, Marker, Method, Ms, QueueSample, Source, State,
    Timeline, Version,
};

/// The parts of a timeline while an input is read.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    pub source: Source,
    names: HashMap<Box<str>, u32>,
    method_names: Vec<Box<str>>,
    threads: HashMap<Box<str>, u32>,
    thread_names: Vec<String>,
    /// Compile id -> (method, version).
    compiles: HashMap<u64, (u32, Version)>,
    /// Deoptimizations with the method named by the event (the trap's own method).
    deopts: Vec<(Option<u32>, Deopt)>,
    /// Ends the input reported, by compile id.
    ends: Vec<(u64, End)>,
    /// Whether the input reports uncommon traps at all (a log without them cannot tell a
    /// trap from a broken dependency).
    pub traps_known: bool,
    pub code_cache: Vec<CacheSample>,
    pub cache_events: Vec<CacheEvent>,
    pub queues: Vec<QueueSample>,
    pub markers: Vec<Marker>,
    span: Option<(Ms, Ms)>,
}

impl Builder {
    /// A builder for an input that reports uncommon traps.
    pub fn with_traps() -> Builder {
        Builder {
            traps_known: true,
            ..Builder::default()
        }
    }

    /// A method's index by its display name.
    pub fn method(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.names.get(name) {
            return i;
        }
        let i = self.method_names.len() as u32;
        self.method_names.push(name.into());
        self.names.insert(name.into(), i);
        i
    }

    /// A compiler thread's index by its name.
    pub fn thread(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.threads.get(name) {
            return i;
        }
        let i = self.thread_names.len() as u32;
        self.thread_names.push(name.to_string());
        self.threads.insert(name.into(), i);
        i
    }

    /// The version with this compile id, made on first mention.
    pub fn compile(&mut self, compile_id: u64, method: u32) -> &mut Version {
        let (_, v) = self.compiles.entry(compile_id).or_insert_with(|| {
            (
                method,
                Version {
                    compile_id,
                    ..Version::default()
                },
            )
        });
        v
    }

    /// The version with this compile id, if one was seen.
    pub fn known(&mut self, compile_id: u64) -> Option<&mut Version> {
        self.compiles.get_mut(&compile_id).map(|(_, v)| v)
    }

    /// A deoptimization; `method` is the method the event names.
    pub fn deopt(&mut self, method: Option<u32>, d: Deopt) {
        self.note(d.at_ms);
        self.deopts.push((method, d));
    }

    /// The input said a version ended.
    pub fn ended(&mut self, compile_id: u64, end: End) {
        if let Some(t) = end.at_ms {
            self.note(t);
        }
        self.ends.push((compile_id, end));
    }

    /// Widens the covered span to include `t`.
    pub fn note(&mut self, t: Ms) {
        if !t.is_finite() {
            return;
        }
        self.span = Some(match self.span {
            None => (t, t),
            Some((a, b)) => (a.min(t), b.max(t)),
        });
    }

    /// Moves every time so that `zero` becomes 0 (a recording's times are wall-clock).
    pub fn rebase(&mut self, zero: Ms) {
        let shift = |t: &mut Ms| *t -= zero;
        let shift_opt = |t: &mut Option<Ms>| {
            if let Some(t) = t {
                *t -= zero;
            }
        };
        for (_, v) in self.compiles.values_mut() {
            shift_opt(&mut v.queued_ms);
            shift_opt(&mut v.start_ms);
        }
        self.deopts
            .iter_mut()
            .for_each(|(_, d)| shift(&mut d.at_ms));
        self.ends
            .iter_mut()
            .for_each(|(_, e)| shift_opt(&mut e.at_ms));
        self.code_cache.iter_mut().for_each(|s| shift(&mut s.at_ms));
        self.cache_events
            .iter_mut()
            .for_each(|e| shift_opt(&mut e.at_ms));
        self.queues.iter_mut().for_each(|q| shift(&mut q.at_ms));
        self.markers.iter_mut().for_each(|m| shift(&mut m.at_ms));
        if let Some((a, b)) = &mut self.span {
            *a -= zero;
            *b -= zero;
        }
    }

    /// Joins everything into per-method lives.
    pub fn finish(mut self) -> Timeline {
        let mut per_method: Vec<(Vec<Version>, Vec<Deopt>)> =
            vec![(Vec::new(), Vec::new()); self.method_names.len()];
        let mut ends: HashMap<u64, End> = HashMap::new();
        for (id, e) in self.ends.drain(..) {
            ends.entry(id).or_insert(e); // the first report wins (PrintCompilation may repeat)
        }
        let mut by_id: HashMap<u64, u32> = HashMap::with_capacity(self.compiles.len());
        let compiles = std::mem::take(&mut self.compiles);
        for (id, (m, mut v)) in compiles {
            v.end = ends.remove(&id);
            if let Some(t) = v.start_ms.or(v.queued_ms) {
                self.note(t);
            }
            if let Some(t) = v.installed_ms() {
                self.note(t);
            }
            by_id.insert(id, m);
            per_method[m as usize].0.push(v);
        }
        for (hint, mut d) in self.deopts.drain(..) {
            let owner = d.compile_id.and_then(|id| by_id.get(&id).copied());
            let Some(m) = owner.or(hint) else { continue };
            if let (Some(o), Some(h)) = (owner, hint) {
                let (on, hn) = (
                    &self.method_names[o as usize],
                    &self.method_names[h as usize],
                );
                if !same_method(on, hn) {
                    d.inlined = Some(self.method_names[h as usize].to_string());
                }
            }
            per_method[m as usize].1.push(d);
        }
        let traps_known = self.traps_known;
        let methods = per_method
            .into_iter()
            .enumerate()
            .filter(|(_, (v, d))| !v.is_empty() || !d.is_empty())
            .map(|(i, (versions, deopts))| {
                life(
                    self.method_names[i].to_string(),
                    versions,
                    deopts,
                    traps_known,
                )
            });
        let mut methods: Vec<Method> = methods.collect();
        methods.sort_by(|a, b| a.name.cmp(&b.name));
        let by_time = |a: &Ms, b: &Ms| a.total_cmp(b);
        self.code_cache.sort_by(|a, b| by_time(&a.at_ms, &b.at_ms));
        self.queues.sort_by(|a, b| by_time(&a.at_ms, &b.at_ms));
        self.markers.sort_by(|a, b| by_time(&a.at_ms, &b.at_ms));
        for t in self.code_cache.iter().map(|s| s.at_ms).collect::<Vec<_>>() {
            self.note(t);
        }
        let mut source = self.source;
        source.span_ms = self.span;
        Timeline {
            source,
            methods,
            threads: self.thread_names,
            code_cache: self.code_cache,
            cache_events: self.cache_events,
            queues: self.queues,
            markers: self.markers,
        }
    }
}

/// The same method, one name perhaps without its descriptor (PrintCompilation prints none).
fn same_method(a: &str, b: &str) -> bool {
    let prefix = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|r| r.is_empty() || r.starts_with('('))
    };
    prefix(a, b) || prefix(b, a)
}

/// A method's versions in order, their ends where the input did not say, and its state.
fn life(name: String, mut versions: Vec<Version>, mut deopts: Vec<Deopt>, traps: bool) -> Method {
    let when = |v: &Version| v.start_ms.or(v.queued_ms).unwrap_or(f64::MAX);
    versions.sort_by(|a, b| {
        when(a)
            .total_cmp(&when(b))
            .then(a.compile_id.cmp(&b.compile_id))
    });
    deopts.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    for i in 0..versions.len() {
        if !versions[i].installed() {
            continue;
        }
        let next = (i + 1..versions.len())
            .find(|&j| versions[j].installed() && same_kind(&versions[i], &versions[j]));
        let seen = versions[i].end.take();
        let successor = next.map(|j| &versions[j]);
        let end = match seen {
            Some(seen) => Some(classify(seen, &versions[i], successor, &deopts, traps)),
            None => infer(&versions[i], successor, &deopts, traps),
        };
        versions[i].end = end;
    }
    let state = state_of(&versions);
    Method {
        name,
        versions,
        deopts,
        state,
    }
}

/// Versions that replace each other: both OSR (at the same entry, when known) or both not.
fn same_kind(a: &Version, b: &Version) -> bool {
    a.osr == b.osr && (a.osr_bci.is_none() || b.osr_bci.is_none() || a.osr_bci == b.osr_bci)
}

/// The traps of one version.
fn traps_of<'d>(v: &Version, deopts: &'d [Deopt]) -> impl Iterator<Item = &'d Deopt> {
    let id = v.compile_id;
    deopts
        .iter()
        .filter(move |d| d.compile_id == Some(id) && !d.frame)
}

/// Kind and successor of an end the input reported.
fn classify(mut e: End, v: &Version, next: Option<&Version>, deopts: &[Deopt], traps: bool) -> End {
    e.replaced_by = next.map(|n| n.compile_id);
    let r = e.reason.as_str();
    e.kind = if r.contains("not used") || r.contains("OSR invalidation of lower level") {
        EndKind::TierUp
    } else if r.contains("uncommon trap") {
        EndKind::Trap
    } else if r.contains("marked for deoptimization") || r.contains("dependenc") {
        EndKind::Dependency
    } else if r == "made not entrant" || r.is_empty() {
        // JDK 17 says no more: judge by what came before and after.
        if traps_of(v, deopts).any(Deopt::invalidates) {
            EndKind::Trap
        } else if next.is_some_and(|n| n.level > v.level) {
            EndKind::TierUp
        } else if traps {
            EndKind::Dependency // the input reports traps, and this version had none
        } else {
            EndKind::Other
        }
    } else {
        EndKind::Other
    };
    e
}

/// An end the input did not report, inferred from traps and from the next version.
fn infer(v: &Version, next: Option<&Version>, deopts: &[Deopt], traps: bool) -> Option<End> {
    let replaced_by = next.map(|n| n.compile_id);
    if let Some(d) = traps_of(v, deopts).find(|d| d.invalidates()) {
        return Some(End {
            at_ms: Some(d.at_ms),
            kind: EndKind::Trap,
            reason: format!(
                "uncommon trap {} ({})",
                d.reason,
                d.action.as_deref().unwrap_or("?")
            ),
            replaced_by,
            observed: false,
        });
    }
    let n = next?;
    let at_ms = n.start_ms.or(n.queued_ms);
    let trapped = traps_of(v, deopts).count();
    let (kind, reason) = if n.level > v.level {
        (EndKind::TierUp, format!("replaced by tier {}", level(n)))
    } else if trapped > 0 {
        let first = traps_of(v, deopts).next().map_or("", |d| d.reason.as_str());
        (
            EndKind::Trap,
            format!("recompiled after {trapped} uncommon trap(s) ({first})"),
        )
    } else if traps {
        (
            EndKind::Dependency,
            format!(
                "recompiled at tier {} without a trap: a class-hierarchy or other dependency broke, classes were redefined, or the code was flushed",
                level(n)
            ),
        )
    } else {
        (EndKind::Other, format!("recompiled at tier {}", level(n)))
    };
    Some(End {
        at_ms,
        kind,
        reason,
        replaced_by,
        observed: false,
    })
}

fn level(v: &Version) -> String {
    v.level.map_or("?".into(), |l| l.to_string())
}

/// The newest live version (a normal one before an OSR one), else how the last one ended.
fn state_of(versions: &[Version]) -> State {
    let live = |osr: bool| {
        versions
            .iter()
            .rev()
            .find(|v| v.installed() && v.end.is_none() && v.osr == osr)
    };
    if let Some(v) = live(false).or_else(|| live(true)) {
        return State::Compiled {
            level: v.level,
            compile_id: v.compile_id,
            osr: v.osr,
        };
    }
    let last_end = versions
        .iter()
        .filter_map(|v| v.end.as_ref())
        .max_by(|a, b| a.at_ms.unwrap_or(0.0).total_cmp(&b.at_ms.unwrap_or(0.0)));
    if let Some(e) = last_end {
        return State::Deoptimized {
            at_ms: e.at_ms,
            reason: e.reason.clone(),
        };
    }
    match versions.iter().rev().find_map(|v| v.failure.clone()) {
        Some(reason) => State::Failed { reason },
        None => State::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(b: &mut Builder, id: u64, m: u32, level: u8, start: Ms) {
        let v = b.compile(id, m);
        v.level = Some(level);
        v.start_ms = Some(start);
        v.duration_ms = Some(1.0);
    }

    fn trap(id: u64, at: Ms, reason: &str, action: &str) -> Deopt {
        Deopt {
            at_ms: at,
            compile_id: Some(id),
            level: Some(4),
            reason: reason.into(),
            action: Some(action.into()),
            bci: Some(3),
            line: None,
            instruction: None,
            inlined: None,
            frame: false,
        }
    }

    #[test]
    fn ends_are_inferred_from_traps_and_successors() {
        let mut b = Builder::with_traps();
        let m = b.method("A.f()V");
        version(&mut b, 1, m, 3, 10.0);
        version(&mut b, 2, m, 4, 20.0);
        version(&mut b, 3, m, 4, 30.0);
        version(&mut b, 4, m, 4, 40.0);
        b.deopt(Some(m), trap(2, 25.0, "unstable_if", "reinterpret"));
        let t = b.finish();
        let v = &t.methods[0].versions;
        let kinds: Vec<EndKind> = v
            .iter()
            .filter_map(|v| v.end.as_ref())
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, [EndKind::TierUp, EndKind::Trap, EndKind::Dependency]);
        assert_eq!(v[1].end.as_ref().unwrap().at_ms, Some(25.0));
        assert_eq!(
            t.methods[0].state,
            State::Compiled {
                level: Some(4),
                compile_id: 4,
                osr: false
            }
        );
    }

    #[test]
    fn a_trap_in_inlined_code_belongs_to_the_host() {
        let mut b = Builder::default();
        let host = b.method("A.host()V");
        let callee = b.method("B.callee()V");
        version(&mut b, 7, host, 4, 1.0);
        b.deopt(Some(callee), trap(7, 2.0, "class_check", "maybe_recompile"));
        let t = b.finish();
        let a = t.methods.iter().find(|m| m.name == "A.host()V").unwrap();
        assert_eq!(a.deopts[0].inlined.as_deref(), Some("B.callee()V"));
        assert_eq!(t.methods.len(), 1);
    }
}
