//! The hot set: the compiled code blobs that take the most samples, cut off by count, coverage,
//! minimum samples and the size budget of a hot code segment.

use std::collections::HashMap;

use hch_jfr::{FrameKind, MethodInfo};
use serde::Serialize;

use crate::model::Profile;
use crate::names;

/// The design's average nmethod size, used when no `Compiler.codelist` capture gives sizes.
pub const AVERAGE_BLOB_BYTES: u64 = 4096;

/// The design's default hot code segment size.
pub const DEFAULT_BUDGET: u64 = 8 << 20;

/// Limits of the hot set. A blob enters while every limit still allows it, in rank order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotOptions {
    /// At most this many blobs (the design's ~1000).
    pub top: usize,
    /// Stop once the blobs taken cover this percent of the compiled samples.
    pub coverage: Option<f64>,
    /// Leave out blobs with fewer samples.
    pub min_samples: u64,
    /// Bytes of the hot code segment the blobs must fit in.
    pub budget: u64,
}

impl Default for HotOptions {
    fn default() -> Self {
        HotOptions {
            top: 1000,
            coverage: None,
            min_samples: 1,
            budget: DEFAULT_BUDGET,
        }
    }
}

/// Where the blob sizes came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// Code size per method, keyed `pkg/Class.method(desc)` (internal class names).
    pub by_signature: HashMap<String, u64>,
    /// Code size per method name without descriptor (largest overload), for inputs without one.
    pub by_name: HashMap<String, u64>,
    /// Highest compile level per method (4 = C2, 1 to 3 = C1), keyed like `by_signature`.
    pub level_by_signature: HashMap<String, i8>,
    /// Highest compile level per method name without descriptor.
    pub level_by_name: HashMap<String, i8>,
}

impl Sizes {
    /// Adds one compiled method's size (`pkg/Class.m(desc)`), keeping the largest when a
    /// method has several blobs (C1 and C2).
    pub fn add(&mut self, signature: &str, bytes: u64) {
        let name = signature.split('(').next().unwrap_or(signature).to_string();
        let e = self.by_signature.entry(signature.to_string()).or_default();
        *e = (*e).max(bytes);
        let e = self.by_name.entry(name).or_default();
        *e = (*e).max(bytes);
    }

    /// Records a compile level of a method (`pkg/Class.m(desc)`), keeping the highest: HotSpot's
    /// own recordings do not tell C1 from C2 code, a codelist does.
    pub fn add_level(&mut self, signature: &str, level: i8) {
        let name = signature.split('(').next().unwrap_or(signature).to_string();
        let e = self
            .level_by_signature
            .entry(signature.to_string())
            .or_insert(level);
        *e = (*e).max(level);
        let e = self.level_by_name.entry(name).or_insert(level);
        *e = (*e).max(level);
    }

    /// The highest compile level of a method in the capture.
    pub fn level_of(&self, m: &MethodInfo) -> Option<i8> {
        let name = names::method_name(m, false);
        if m.descriptor.is_empty() {
            return self.level_by_name.get(&name).copied();
        }
        self.level_by_signature
            .get(&format!("{name}{}", m.descriptor))
            .copied()
    }

    /// The size of a method's blob, if the capture lists it.
    pub fn of(&self, m: &MethodInfo) -> Option<u64> {
        let name = names::method_name(m, false);
        if m.descriptor.is_empty() {
            return self.by_name.get(&name).copied();
        }
        self.by_signature
            .get(&format!("{name}{}", m.descriptor))
            .copied()
    }

    /// The sizes of the live blobs of a `Compiler.codelist` (header to end of code).
    pub fn from_codelist(list: &hch_codecache::codelist::Codelist) -> Sizes {
        use hch_codecache::codelist::State;
        let mut s = Sizes::default();
        for e in &list.entries {
            if matches!(e.state, State::InUse | State::Unknown) && e.level > 0 {
                let m = &e.method;
                let signature = format!("{}.{}{}", m.class, m.name, m.descriptor);
                s.add(&signature, e.size());
                s.add_level(&signature, e.level);
            }
        }
        s
    }

    /// Whether any sizes are known.
    pub fn is_empty(&self) -> bool {
        self.by_signature.is_empty()
    }
}

/// One hot code blob: a method compiled on its own (not inlined), with the samples in its code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotBlob {
    /// The host method.
    pub method: MethodInfo,
    /// Samples whose code blob this was.
    pub samples: u64,
    /// Of those, samples whose leaf was a method inlined into it.
    pub inlined_samples: u64,
    /// Samples whose leaf frame was C1-compiled code of this method (async-profiler files only).
    pub c1_samples: u64,
    /// Percent of the compiled samples.
    pub percent: f64,
    /// Code size in bytes (measured, or the average).
    pub bytes: u64,
    /// Whether `bytes` was measured (from a codelist) rather than the average.
    pub measured: bool,
    /// The highest compile level of its live code in the codelist (4 = C2, 1 to 3 = C1).
    pub level: Option<i8>,
}

/// Which limit ended the hot set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Cutoff {
    /// Every candidate was taken.
    None,
    /// `top` blobs were taken.
    Top,
    /// The coverage was reached.
    Coverage,
    /// The next blob had fewer than `min_samples`.
    MinSamples,
    /// The next blob did not fit in the budget.
    Budget,
}

/// The hot set and the figures that explain it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotSet {
    /// Blobs, hottest first.
    pub blobs: Vec<HotBlob>,
    /// All samples.
    pub total_samples: u64,
    /// Samples that landed in compiled code (the candidates' samples).
    pub compiled_samples: u64,
    /// Distinct candidate blobs before the cut.
    pub candidates: usize,
    /// Percent of the compiled samples that the set covers.
    pub coverage: f64,
    /// Bytes the set takes.
    pub bytes: u64,
    /// The budget it had to fit.
    pub budget: u64,
    /// How many blob sizes came from the codelist (the rest used the average).
    pub measured_sizes: usize,
    /// Whether a codelist was given at all.
    pub sizes_from_codelist: bool,
    /// Which limit ended the set.
    pub cutoff: Cutoff,
}

/// The host blob of a stack: the first frame from the leaf that is not inlined, if it is
/// compiled. Frames of unknown type (plain collapsed stacks) count as compiled when Java.
fn host(p: &Profile, frames: &[hch_jfr::Frame]) -> Option<(u32, bool)> {
    let i = frames.iter().position(|f| f.kind != FrameKind::Inlined)?;
    let f = frames[i];
    let java_unknown =
        f.kind == FrameKind::Unknown && !p.methods[f.method as usize].class.is_empty();
    let compiled = matches!(f.kind, FrameKind::JitCompiled | FrameKind::C1Compiled) || java_unknown;
    compiled.then_some((f.method, i > 0))
}

/// Per host method: (samples, inlined-leaf samples, C1 samples).
fn tally(p: &Profile) -> (HashMap<u32, (u64, u64, u64)>, u64) {
    let mut by_host: HashMap<u32, (u64, u64, u64)> = HashMap::new();
    let mut compiled = 0u64;
    for s in &p.stacks {
        let Some((m, inlined)) = host(p, &s.frames) else {
            continue;
        };
        let e = by_host.entry(m).or_default();
        e.0 = e.0.saturating_add(s.samples);
        if inlined {
            e.1 = e.1.saturating_add(s.samples);
        }
        // The host frame itself (not a deeper recursive call of the same method) tells its tier.
        let host_frame = s.frames.iter().find(|f| f.kind != FrameKind::Inlined);
        if host_frame.is_some_and(|f| f.kind == FrameKind::C1Compiled) {
            e.2 = e.2.saturating_add(s.samples);
        }
        compiled = compiled.saturating_add(s.samples);
    }
    (by_host, compiled)
}

/// Ranks the host blobs by samples and takes them while the limits allow.
pub fn hot_set(p: &Profile, opts: &HotOptions, sizes: &Sizes) -> HotSet {
    let (by_host, compiled) = tally(p);
    let mut ranked: Vec<(u32, (u64, u64, u64))> = by_host.into_iter().collect();
    ranked.sort_by(|a, b| {
        b.1 .0
            .cmp(&a.1 .0)
            .then_with(|| p.methods[a.0 as usize].cmp(&p.methods[b.0 as usize]))
    });
    let mut set = HotSet {
        blobs: Vec::new(),
        total_samples: p.total_samples,
        compiled_samples: compiled,
        candidates: ranked.len(),
        coverage: 0.0,
        bytes: 0,
        budget: opts.budget,
        measured_sizes: 0,
        sizes_from_codelist: !sizes.is_empty(),
        cutoff: Cutoff::None,
    };
    let mut covered = 0u64;
    for (m, (samples, inlined, c1)) in ranked {
        let method = &p.methods[m as usize];
        let measured = sizes.of(method);
        let bytes = measured.unwrap_or(AVERAGE_BLOB_BYTES);
        if let Some(cut) = cut_before(&set, opts, samples, bytes) {
            set.cutoff = cut;
            break;
        }
        covered += samples;
        set.bytes += bytes;
        set.measured_sizes += usize::from(measured.is_some());
        set.coverage = pct(covered, compiled);
        let percent = pct(samples, compiled);
        let blob = HotBlob {
            method: method.clone(),
            samples,
            inlined_samples: inlined,
            c1_samples: c1,
            percent,
            bytes,
            measured: measured.is_some(),
            level: sizes.level_of(method),
        };
        set.blobs.push(blob);
    }
    set
}

impl HotSet {
    /// The blobs as the code cache crate's hot methods, hottest first (to place them at their
    /// addresses in a codelist).
    pub fn hot_methods(&self) -> Vec<hch_codecache::sparse::HotMethod> {
        self.blobs
            .iter()
            .map(|b| hch_codecache::sparse::HotMethod {
                method: hch_codecache::MethodRef {
                    class: b.method.class.clone(),
                    name: b.method.name.clone(),
                    descriptor: b.method.descriptor.clone(),
                },
                samples: b.samples,
            })
            .collect()
    }
}

/// A budget as people write it: `8M`, `512K`, `1G`, `4096` (binary units; a trailing `B`/`iB` is fine).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s
        .trim()
        .trim_end_matches(['B', 'b'])
        .trim_end_matches(['i', 'I']);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 8M, 512K or 4096"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// The limit that keeps the next blob out, if any.
fn cut_before(set: &HotSet, opts: &HotOptions, samples: u64, bytes: u64) -> Option<Cutoff> {
    if set.blobs.len() >= opts.top {
        return Some(Cutoff::Top);
    }
    if opts.coverage.is_some_and(|c| set.coverage >= c) {
        return Some(Cutoff::Coverage);
    }
    if samples < opts.min_samples {
        return Some(Cutoff::MinSamples);
    }
    if set.bytes.saturating_add(bytes) > opts.budget {
        return Some(Cutoff::Budget);
    }
    None
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stack;
    use hch_jfr::Frame;

    fn profile(stacks: &[(&[(&str, FrameKind)], u64)]) -> Profile {
        let mut p = Profile::new();
        for (frames, n) in stacks {
            let frames = frames
                .iter()
                .map(|(name, kind)| {
                    let (class, method) = name.rsplit_once('.').unwrap_or(("", name));
                    let m = MethodInfo {
                        class: class.into(),
                        name: method.into(),
                        descriptor: "()V".into(),
                        hidden: false,
                    };
                    Frame {
                        method: p.intern(m),
                        line: 0,
                        bci: 0,
                        kind: *kind,
                    }
                })
                .collect();
            p.stacks.push(Stack {
                frames,
                samples: *n,
                ns: None,
            });
            p.total_samples += n;
        }
        p
    }

    #[test]
    fn inlined_frames_count_for_their_host_and_interpreted_tops_for_nobody() {
        use FrameKind::*;
        let p = profile(&[
            (
                &[
                    ("a/B.inl", Inlined),
                    ("a/B.host", JitCompiled),
                    ("a/B.main", Interpreted),
                ],
                5,
            ),
            (&[("a/B.host", JitCompiled)], 2),
            (&[("a/C.c1", C1Compiled)], 3),
            (&[("a/D.slow", Interpreted), ("a/B.host", JitCompiled)], 4),
            (&[("libc", Native)], 1),
        ]);
        let s = hot_set(&p, &HotOptions::default(), &Sizes::default());
        assert_eq!(s.total_samples, 15);
        assert_eq!(s.compiled_samples, 10);
        let got: Vec<(&str, u64, u64)> = s
            .blobs
            .iter()
            .map(|b| (b.method.name.as_str(), b.samples, b.inlined_samples))
            .collect();
        assert_eq!(got, [("host", 7, 5), ("c1", 3, 0)]);
        assert_eq!(s.blobs[1].c1_samples, 3);
        assert_eq!(s.cutoff, Cutoff::None);
    }

    #[test]
    fn limits_cut_in_rank_order() {
        use FrameKind::*;
        let p = profile(&[
            (&[("a/B.x", JitCompiled)], 6),
            (&[("a/B.y", JitCompiled)], 3),
            (&[("a/B.z", JitCompiled)], 1),
        ]);
        let none = Sizes::default();
        let cut = |o: HotOptions| {
            let s = hot_set(&p, &o, &none);
            (s.blobs.len(), s.cutoff)
        };
        assert_eq!(
            cut(HotOptions {
                top: 2,
                ..Default::default()
            }),
            (2, Cutoff::Top)
        );
        assert_eq!(
            cut(HotOptions {
                coverage: Some(60.0),
                ..Default::default()
            }),
            (1, Cutoff::Coverage)
        );
        assert_eq!(
            cut(HotOptions {
                min_samples: 2,
                ..Default::default()
            }),
            (2, Cutoff::MinSamples)
        );
        assert_eq!(
            cut(HotOptions {
                budget: 8192,
                ..Default::default()
            }),
            (2, Cutoff::Budget)
        );
        let mut sizes = Sizes::default();
        sizes.add("a/B.x()V", 100);
        let s = hot_set(
            &p,
            &HotOptions {
                budget: 4196,
                ..Default::default()
            },
            &sizes,
        );
        assert_eq!((s.blobs.len(), s.bytes, s.measured_sizes), (2, 4196, 1));
    }
}
