//! How sparse the hot code lies: the hot set joined with the nmethod addresses of
//! `Compiler.codelist`, counted in 4 KiB pages and 2 MiB regions (what the i-TLB and the
//! page tables see), compared with the same bytes packed together, and drawn as an SVG map.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::codecache::{CodeCache, HeapKind};
use crate::codelist::{Codelist, Entry, State};
use crate::MethodRef;

mod map;
pub use map::{map_of, svg, svg_maps, Map, MapBlob, MapHeap, MAX_ELEMENTS};

/// A small page.
pub const PAGE: u64 = 4096;
/// A large page / 2 MiB region.
pub const REGION: u64 = 2 << 20;

/// A hot method from a profile: internal class name, name, descriptor (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotMethod {
    /// The method.
    pub method: MethodRef,
    /// Samples attributed to its compiled code.
    pub samples: u64,
}

/// One hot nmethod placed at its address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    /// The method.
    pub method: MethodRef,
    /// Compilation level.
    pub level: i8,
    /// Address range `[start, end)`.
    pub start: u64,
    /// End of its code.
    pub end: u64,
    /// Heap name.
    pub heap: String,
    /// Its samples (split evenly when a method has several live versions).
    pub samples: f64,
}

/// The figures for a set of address ranges.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Figures {
    /// Hot nmethods.
    pub nmethods: usize,
    /// Their bytes.
    pub hot_bytes: u64,
    /// Distinct 4 KiB pages touched.
    pub pages: u64,
    /// Distinct 2 MiB regions touched.
    pub regions: u64,
    /// From the lowest start to the highest end.
    pub span_bytes: u64,
    /// Hot bytes over the bytes of the pages touched (0..1).
    pub density: f64,
    /// Pages if the hot bytes were packed together.
    pub packed_pages: u64,
    /// Regions if packed.
    pub packed_regions: u64,
    /// Density if packed.
    pub packed_density: f64,
}

/// The whole result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sparseness {
    /// All hot nmethods.
    pub overall: Figures,
    /// Per heap name.
    pub per_heap: BTreeMap<String, Figures>,
    /// Hot nmethods, hottest first.
    pub placed: Vec<Placed>,
    /// Hot methods with no live compiled version in the codelist.
    pub unmatched: Vec<MethodRef>,
    /// Share (0..1) of the placed samples inside a `'hot nmethods'` heap, when the JVM has one.
    pub hot_heap_sample_share: Option<f64>,
}

/// Joins the hot methods with the codelist. A method with several live versions of its highest
/// level (e.g. a normal and an OSR compilation) gets its samples split evenly among them.
pub fn join(list: &Codelist, cc: &CodeCache, hot: &[HotMethod]) -> Sparseness {
    let mut by_method: BTreeMap<(&str, &str), Vec<&Entry>> = BTreeMap::new();
    for e in list
        .entries
        .iter()
        .filter(|e| matches!(e.state, State::InUse | State::Unknown))
    {
        by_method
            .entry((&e.method.class, &e.method.name))
            .or_default()
            .push(e);
    }
    let mut s = Sparseness::default();
    for h in hot {
        let cands: Vec<&Entry> = by_method
            .get(&(h.method.class.as_str(), h.method.name.as_str()))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|e| {
                        h.method.descriptor.is_empty() || e.method.descriptor == h.method.descriptor
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(top) = cands.iter().map(|e| e.level).max() else {
            s.unmatched.push(h.method.clone());
            continue;
        };
        let chosen: Vec<&Entry> = cands.into_iter().filter(|e| e.level == top).collect();
        for e in &chosen {
            let heap = cc
                .heap_of(e.start)
                .map_or_else(|| "unknown".to_string(), |h| h.name.clone());
            s.placed.push(Placed {
                method: e.method.clone(),
                level: e.level,
                start: e.start,
                end: e.end,
                heap,
                samples: h.samples as f64 / chosen.len() as f64,
            });
        }
    }
    s.placed
        .sort_by(|a, b| b.samples.total_cmp(&a.samples).then(a.start.cmp(&b.start)));
    s.overall = figures(s.placed.iter());
    let heaps: BTreeSet<&str> = s.placed.iter().map(|p| p.heap.as_str()).collect();
    s.per_heap = heaps
        .into_iter()
        .map(|h| {
            (
                h.to_string(),
                figures(s.placed.iter().filter(|p| p.heap == h)),
            )
        })
        .collect();
    s.hot_heap_sample_share = hot_heap_share(cc, &s.placed);
    s
}

/// Share of samples inside the JDK 27 hot code heap, if there is one.
fn hot_heap_share(cc: &CodeCache, placed: &[Placed]) -> Option<f64> {
    let hot = cc.heaps.iter().find(|h| h.kind() == HeapKind::Hot)?;
    let total: f64 = placed.iter().map(|p| p.samples).sum();
    let inside: f64 = placed
        .iter()
        .filter(|p| p.heap == hot.name)
        .map(|p| p.samples)
        .sum();
    Some(if total > 0.0 { inside / total } else { 0.0 })
}

/// Pages, regions, span and density of placed nmethods.
fn figures<'a>(placed: impl Iterator<Item = &'a Placed>) -> Figures {
    figures_of(placed.map(|p| (p.start, p.end)))
}

/// Pages, regions, span and density of `[start, end)` ranges, one per nmethod: shared by the
/// join, the maps, and the agent's re-layouts, which no codelist printed yet.
pub fn figures_of(placed: impl Iterator<Item = (u64, u64)>) -> Figures {
    let (mut lo, mut hi, mut bytes, mut n) = (u64::MAX, 0u64, 0u64, 0usize);
    let mut ranges = Vec::new();
    for (start, end) in placed {
        n += 1;
        bytes = bytes.saturating_add(end.saturating_sub(start));
        lo = lo.min(start);
        hi = hi.max(end);
        if end > start {
            ranges.push((start, end - 1));
        }
    }
    let pages = distinct_units(&ranges, PAGE);
    let packed_pages = bytes.div_ceil(PAGE);
    let ratio = |b: u64, pg: u64| {
        if pg == 0 {
            0.0
        } else {
            b as f64 / (pg as f64 * PAGE as f64)
        }
    };
    Figures {
        nmethods: n,
        hot_bytes: bytes,
        pages,
        regions: distinct_units(&ranges, REGION),
        span_bytes: hi.saturating_sub(lo),
        density: ratio(bytes, pages),
        packed_pages,
        packed_regions: bytes.div_ceil(REGION),
        packed_density: ratio(bytes, packed_pages),
    }
}

/// Distinct `unit`-sized blocks touched by inclusive byte ranges, by merging sorted block
/// intervals: the cost follows the number of ranges, never their sizes.
fn distinct_units(ranges: &[(u64, u64)], unit: u64) -> u64 {
    let mut blocks: Vec<(u64, u64)> = ranges.iter().map(|&(a, b)| (a / unit, b / unit)).collect();
    blocks.sort_unstable();
    let (mut total, mut cur): (u64, Option<(u64, u64)>) = (0, None);
    for (a, b) in blocks {
        cur = match cur {
            Some((ca, cb)) if a <= cb.saturating_add(1) => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total = total.saturating_add(cb - ca + 1);
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total.saturating_add(cur.map_or(0, |(a, b)| b - a + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{codecache, codelist};

    fn cc() -> CodeCache {
        codecache::parse("CodeCache: size=4096Kb used=10Kb max_used=10Kb free=4086Kb\n bounds [0x400000, 0x410000, 0x800000]").unwrap()
    }

    #[test]
    fn pages_regions_and_packing() {
        let list = codelist::parse(
            "1 4 0 A.a()V [0x400000, 0x400100 - 0x400800]\n2 4 0 A.b()V [0x401000, 0x401100 - 0x401800]\n3 3 0 A.a()V [0x402000, 0x402100 - 0x402400]\n4 4 0 A.c()V [0x403000, 0x403100 - 0x403800]",
        )
        .unwrap();
        let hot = |n: &str, s| HotMethod {
            method: MethodRef {
                class: "A".into(),
                name: n.into(),
                descriptor: String::new(),
            },
            samples: s,
        };
        let s = join(&list, &cc(), &[hot("a", 10), hot("b", 5), hot("zz", 1)]);
        assert_eq!(s.overall.nmethods, 2, "C2 version of a only, and b");
        assert_eq!(
            (s.overall.hot_bytes, s.overall.pages, s.overall.regions),
            (0x1000, 2, 1)
        );
        assert_eq!(s.overall.span_bytes, 0x1800);
        assert_eq!(
            (
                s.overall.packed_pages,
                s.overall.density,
                s.overall.packed_density
            ),
            (1, 0.5, 1.0)
        );
        assert_eq!(s.unmatched.len(), 1);
        assert_eq!(s.hot_heap_sample_share, None);
        assert_eq!(
            distinct_units(&[(0, 4095), (4096, 4096), (10 * 4096, u64::MAX)], PAGE),
            2 + (u64::MAX / PAGE - 10 + 1)
        );
        let svg = svg(&list, &cc(), &s);
        assert!(
            svg.starts_with("<svg") && svg.contains("A.a()V\nlevel 4 (C2), 2048 bytes, 10 samples")
        );
    }
}
