//! Re-laying out hot compiled code with WhiteBox: each hot method's code is made not entrant
//! and compiled again, one by one in a chosen order, so that the new copies lie back to back
//! (compact) or one per 64 KiB (sparse, the research's S64 layout). The research recipe
//! (../docs/LAB.md): the code heap hands out space best fit from its free list, so every hole
//! but the chosen region is plugged with dummy blobs first, and the plugs are freed after.
//!
//! Safety: the code heap keeps a reserve (nothing is allocated into it); each method waits
//! for its own compile with a deadline; the whole run stops at a deadline; a method left
//! without code at the end is queued for compilation once more, and the JVM's own policy
//! compiles it in any case (deoptimized code goes back to the interpreter, which counts
//! calls as usual).

use std::time::{Duration, Instant};

use hch_codecache::sparse::Figures;
use serde::{Deserialize, Serialize};

use crate::ffi::jni::Local;
use crate::whitebox::{NMethod, WhiteBox};

const PAGE: u64 = 4096;
/// A gap smaller than this cannot hold an nmethod worth placing; it is left alone.
const MIN_GAP: u64 = 1024;
/// What a dummy blob asks below its gap: the blob header and segment rounding.
const PLUG_SLACK: u64 = 256;
/// At most this many plugs (a fragmented heap of a large service has thousands of holes).
const MAX_PLUGS: usize = 200_000;
/// The sparse layout's filler before each method (plus up to a page, at random): larger
/// than C2's temporary code buffer, whose hole would otherwise catch the fillers.
const SPARSE_FILLER: u64 = 64 << 10;
/// How long one method's compile may take.
const PER_METHOD: Duration = Duration::from_secs(20);

/// The layouts hch builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Back to back, in the order given.
    Compact,
    /// One method per 64 KiB or more.
    Sparse,
}

impl Layout {
    /// Parses `compact` or `sparse`.
    pub fn parse(s: &str) -> Option<Layout> {
        match s {
            "compact" => Some(Layout::Compact),
            "sparse" => Some(Layout::Sparse),
            _ => None,
        }
    }
}

/// A hot method to place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hot<'a, 'l> {
    /// Its `java.lang.reflect.Executable`.
    pub exec: Local<'a>,
    /// Its name for the report.
    pub label: &'l str,
}

/// What a re-layout may do.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The layout to build.
    pub layout: Layout,
    /// Free the code made not entrant by earlier re-layouts first (a full GC; lab only).
    pub flush: bool,
    /// Stop here; methods not reached keep their code.
    pub deadline: Instant,
    /// Bytes the code heap must keep free above everything hch allocates.
    pub reserve: u64,
    /// The code heaps' `[low, committed high, high]` bounds, when known: the room left at
    /// the top of a heap is its high bound less its highest blob's end.
    pub heaps: Vec<[u64; 3]>,
    /// Seed of the fillers' random sizes.
    pub seed: u64,
}

/// One placed method after the re-layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedMethod {
    /// Its name.
    pub method: String,
    /// Compilation level.
    pub level: i32,
    /// Entry point.
    pub start: u64,
    /// End of its instructions.
    pub end: u64,
}

/// What a re-layout did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// The layout built.
    pub layout: Option<Layout>,
    /// Hot methods given.
    pub methods: usize,
    /// Of those, compiled before (the ones moved).
    pub compiled: usize,
    /// Compiled again where the layout put them.
    pub moved: usize,
    /// Left to the JVM's own compilation (a failed or timed-out step).
    pub fallback: Vec<String>,
    /// Why it stopped before the end, if it did.
    pub stopped: Option<String>,
    /// Before and after, from the methods' own code.
    pub before: Figures,
    /// After.
    pub after: Figures,
    /// Holes plugged, and their bytes.
    pub plugs: usize,
    /// Bytes plugged.
    pub plug_bytes: u64,
    /// Milliseconds taken.
    pub millis: u64,
    /// Where each method's code lies afterwards, in address order of before.
    pub placed: Vec<PlacedMethod>,
}

/// Figures of `[start, end)` ranges, as `hch sparseness` counts them.
pub fn figures(ranges: &[(u64, u64)]) -> Figures {
    hch_codecache::sparse::figures_of(ranges.iter().copied())
}

fn range(n: &NMethod) -> (u64, u64) {
    (n.entry, n.entry + n.insts)
}

/// Builds `plan.layout` from the methods' current code, keeping the order it lies in.
pub(crate) fn relayout(
    wb: WhiteBox<'_>,
    hot: &[Hot<'_, '_>],
    plan: &Plan,
) -> Result<Report, String> {
    let t0 = Instant::now();
    let mut r = Report {
        layout: Some(plan.layout),
        methods: hot.len(),
        ..Report::default()
    };
    if plan.flush {
        flush(&wb)?;
    }
    let current: Vec<Option<NMethod>> = hot
        .iter()
        .map(|h| nmethod(&wb, h.exec))
        .collect::<Result<_, _>>()?;
    // The new copies keep the order the code lies in now (the JIT's, roughly the order of
    // first calls): only the gaps go, or grow. Reordering by heat instead made a compact
    // layout of the demo 25% slower than the JIT's own (prefetching follows addresses).
    let mut order: Vec<usize> = (0..hot.len()).collect();
    order.sort_by_key(|&i| current[i].as_ref().map_or(u64::MAX, |n| n.entry));
    let hot: Vec<Hot<'_, '_>> = order.iter().map(|&i| hot[i]).collect();
    let current: Vec<Option<NMethod>> = order.iter().map(|&i| current[i].clone()).collect();
    let hot = &hot[..];
    let ranges: Vec<(u64, u64)> = current.iter().flatten().map(range).collect();
    r.before = figures(&ranges);
    r.compiled = ranges.len();
    let Some(heap) = main_heap(&current) else {
        r.stopped = Some("none of the hot methods has compiled code now".into());
        return Ok(r);
    };
    let filler = |i: usize| SPARSE_FILLER + splitmix(plan.seed ^ i as u64) % PAGE;
    let code: u64 = current.iter().flatten().map(|n| n.blob.size).sum();
    let fillers: u64 = match plan.layout {
        Layout::Sparse => (0..ranges.len()).map(filler).sum(),
        Layout::Compact => 0,
    };
    // The worst case guards the room at the top; a hole is taken for the layout if it holds
    // the copies at their size now (a margin left a freed layout's place unused, and every
    // round of the lab took fresh space until the heap ran out).
    let need = Need {
        worst: 2 * code + fillers,
        likely: code + fillers,
    };
    let mut plugs = Plugs::default();
    let result = place(
        &wb, hot, &current, plan, heap, need, &mut plugs, &mut r, &filler,
    );
    // Plugs and fillers go whatever happened; the methods' new code stays where it is.
    let freed = plugs.free_all(&wb);
    fallback(&wb, hot, &current, &mut r);
    let after: Vec<(u64, u64)> = r.placed.iter().map(|p| (p.start, p.end)).collect();
    r.after = figures(&after);
    r.millis = t0.elapsed().as_millis() as u64;
    result.and(freed).map(|()| r)
}

/// Plugs the holes, then compiles the methods one by one where the layout wants them.
#[allow(clippy::too_many_arguments)]
fn place(
    wb: &WhiteBox<'_>,
    hot: &[Hot<'_, '_>],
    current: &[Option<NMethod>],
    plan: &Plan,
    heap: i32,
    need: Need,
    plugs: &mut Plugs,
    r: &mut Report,
    filler: &dyn Fn(usize) -> u64,
) -> Result<(), String> {
    let room = plugs.plug_holes(wb, heap, need.likely, plan)?;
    r.plugs = plugs.count;
    r.plug_bytes = plugs.plugged;
    // What may not fit in the chosen hole goes to the top, which must hold it.
    let hole = plugs.region.map_or(0, |(s, e)| e - s);
    let need = need.worst.saturating_sub(hole);
    if let Some(room) = room {
        if room < need + plan.reserve {
            return Err(format!(
                "the code heap has {} KiB free at its top and {} KiB must stay free, but the new copies need {} KiB there: nothing was moved; give the JVM a larger -XX:ReservedCodeCacheSize or move fewer methods",
                room / 1024,
                plan.reserve / 1024,
                need / 1024
            ));
        }
    }
    for (i, (h, cur)) in hot.iter().zip(current).enumerate() {
        let Some(cur) = cur else { continue };
        if crate::compact::CANCEL.load(std::sync::atomic::Ordering::Acquire) {
            r.stopped = Some(format!(
                "cancelled: {} of {} methods placed; the rest keep their code",
                r.moved, r.compiled
            ));
            break;
        }
        if Instant::now() >= plan.deadline {
            r.stopped = Some(format!(
                "time limit: {} of {} methods placed; the rest keep their code",
                r.moved, r.compiled
            ));
            break;
        }
        if plan.layout == Layout::Sparse {
            let a = wb.allocate(filler(i), heap)?;
            if a == 0 {
                r.stopped = Some("the code heap has no room for more fillers".into());
                break;
            }
            plugs.blobs.push(a);
        }
        match recompile(wb, h.exec, cur)? {
            Some(_) => r.moved += 1,
            None => r.fallback.push(h.label.to_string()),
        }
    }
    Ok(())
}

/// Deoptimizes one method and compiles it again at its level; `None` when that did not
/// happen within [`PER_METHOD`] (the JVM's own compilation takes over).
fn recompile(wb: &WhiteBox<'_>, m: Local<'_>, cur: &NMethod) -> Result<Option<NMethod>, String> {
    wb.deoptimize(m)?;
    if !wb.enqueue(m, cur.level)? {
        return Ok(None);
    }
    let until = Instant::now() + PER_METHOD;
    let mut pause = Duration::from_micros(200);
    while Instant::now() < until {
        if let Some(n) = nmethod(wb, m)? {
            if n.compile_id != cur.compile_id && n.level >= cur.level {
                return Ok(Some(n));
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
    Ok(None)
}

/// The nmethod of a method, in a frame of its own.
fn nmethod(wb: &WhiteBox<'_>, m: Local<'_>) -> Result<Option<NMethod>, String> {
    wb.env()
        .with_frame(16, |env| wb.in_frame(env).nmethod(m))
        .map_err(|e| e.to_string())?
}

/// Methods without code after the re-layout are queued once more; the placed ones listed.
fn fallback(wb: &WhiteBox<'_>, hot: &[Hot<'_, '_>], current: &[Option<NMethod>], r: &mut Report) {
    for (h, cur) in hot.iter().zip(current) {
        let Some(cur) = cur else { continue };
        match nmethod(wb, h.exec) {
            Ok(Some(n)) => r.placed.push(PlacedMethod {
                method: h.label.to_string(),
                level: n.level,
                start: n.entry,
                end: n.entry + n.insts,
            }),
            _ => {
                let _ = wb.enqueue(h.exec, cur.level);
                if !r.fallback.iter().any(|f| f == h.label) {
                    r.fallback.push(h.label.to_string());
                }
            }
        }
    }
}

/// Frees code made not entrant: the sweeper where there is one (JDK 19 and earlier), and full
/// GCs, which unload nmethods since JDK 20; three rounds, as nmethods die in steps.
fn flush(wb: &WhiteBox<'_>) -> Result<(), String> {
    for _ in 0..3 {
        wb.sweep()?;
        wb.full_gc()?;
    }
    Ok(())
}

/// The code heap most of the methods' code lives in.
fn main_heap(current: &[Option<NMethod>]) -> Option<i32> {
    let mut counts: Vec<(i32, usize)> = Vec::new();
    for n in current.iter().flatten() {
        match counts.iter_mut().find(|(t, _)| *t == n.blob.blob_type) {
            Some(c) => c.1 += 1,
            None => counts.push((n.blob.blob_type, 1)),
        }
    }
    counts.into_iter().max_by_key(|c| c.1).map(|c| c.0)
}

/// The dummy blobs hch holds.
#[derive(Debug, Default)]
struct Plugs {
    blobs: Vec<u64>,
    count: usize,
    plugged: u64,
    /// The hole left open for the layout, if one was large enough.
    region: Option<(u64, u64)>,
}

impl Plugs {
    /// Fills every hole of the heap but the one the layout goes in ([`region_for`]; if none,
    /// the layout goes to the top of the heap).
    fn plug_holes(
        &mut self,
        wb: &WhiteBox<'_>,
        heap: i32,
        need: u64,
        plan: &Plan,
    ) -> Result<Option<u64>, String> {
        let mut blobs = wb.heap_entries(heap)?;
        blobs.sort_by_key(|b| b.address);
        let top = blobs.iter().map(|b| b.address + b.size).max().unwrap_or(0);
        let room = plan
            .heaps
            .iter()
            .find(|[lo, _, hi]| *lo <= top && top <= *hi)
            .map(|[_, _, hi]| hi - top);
        let mut gaps: Vec<(u64, u64)> = blobs
            .windows(2)
            .map(|w| (w[0].address + w[0].size, w[1].address))
            .filter(|(s, e)| e.saturating_sub(*s) >= MIN_GAP)
            .collect();
        gaps.sort_by_key(|(s, e)| e - s);
        if let Some(i) = region_for(&gaps, need, plan.layout) {
            self.region = Some(gaps.remove(i));
        }
        let plug_total: u64 = gaps.iter().map(|(s, e)| e - s).sum();
        if let Some(room) = room {
            // Plugs land in holes, but one that misses lands on top: keep the reserve.
            if plug_total > 0 && room < plan.reserve {
                return Err(format!(
                    "the code heap has only {} KiB free at its top (reserve {} KiB): nothing was moved",
                    room / 1024,
                    plan.reserve / 1024
                ));
            }
        }
        // Smallest first: best fit then takes exactly the hole meant.
        for (s, e) in gaps {
            if self.blobs.len() >= MAX_PLUGS || Instant::now() >= plan.deadline {
                break;
            }
            let a = wb.allocate(e - s - PLUG_SLACK, heap)?;
            if a == 0 {
                break;
            }
            if a >= top {
                // It missed its hole and took fresh space: give that back.
                wb.free(a)?;
                continue;
            }
            self.blobs.push(a);
            self.count += 1;
            self.plugged += e - s;
        }
        Ok(room)
    }

    /// Frees every plug and filler.
    fn free_all(&mut self, wb: &WhiteBox<'_>) -> Result<(), String> {
        let mut first = Ok(());
        for a in self.blobs.drain(..) {
            if let Err(e) = wb.free(a) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// The hole (of `gaps`, smallest first) a layout of `need` bytes goes in. Compact: the
/// smallest that holds it and a filler. Sparse: the largest, if it holds nine tenths (the rest
/// goes to the top, sparse all the same): the hole a freed sparse layout leaves is a little
/// short of the next one (a compact layout may sit at its end), and without it every round
/// of the lab took fresh space at the top until the heap ran out.
fn region_for(gaps: &[(u64, u64)], need: u64, layout: Layout) -> Option<usize> {
    let len = |i: usize| gaps[i].1 - gaps[i].0;
    match layout {
        Layout::Compact => (0..gaps.len()).find(|&i| len(i) >= need + SPARSE_FILLER),
        Layout::Sparse => gaps
            .len()
            .checked_sub(1)
            .filter(|&i| len(i) >= need / 10 * 9),
    }
}

/// The space a layout's new copies take.
#[derive(Debug, Clone, Copy)]
struct Need {
    /// If each copy came out twice its size now: the room at the top must hold this.
    worst: u64,
    /// At their size now: a hole this large (and a filler more) is taken for the layout.
    likely: u64,
}

/// A small deterministic mixer for the fillers' sizes.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_takes_the_smallest_hole_that_fits_sparse_the_largest() {
        let k = 1 << 10;
        let gaps = [
            (0, 10 * k),
            (100 * k, 200 * k),
            (1 << 30, (1 << 30) + 300_000 * k),
        ];
        assert_eq!(region_for(&gaps, 20 * k, Layout::Compact), Some(1));
        assert_eq!(region_for(&gaps, 20 * k, Layout::Sparse), Some(2));
        // Nine tenths of a sparse layout is enough; the rest goes to the top.
        assert_eq!(region_for(&gaps, 330_000 * k, Layout::Sparse), Some(2));
        assert_eq!(region_for(&gaps, 340_000 * k, Layout::Sparse), None);
        assert_eq!(region_for(&gaps, 1 << 40, Layout::Sparse), None);
        assert_eq!(region_for(&gaps, 1 << 40, Layout::Compact), None);
        assert_eq!(region_for(&[], 1, Layout::Compact), None);
    }

    #[test]
    fn figures_count_pages_regions_and_density() {
        let f = figures(&[(0, 100), (4000, 4200), (3 << 20, (3 << 20) + 10)]);
        assert_eq!(f.pages, 3);
        assert_eq!(f.regions, 2);
        assert_eq!(f.hot_bytes, 310);
        assert_eq!(f.span_bytes, (3 << 20) + 10);
    }
}
