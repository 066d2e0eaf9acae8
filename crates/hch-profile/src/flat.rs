//! The flat (self time) profile, printed exactly as async-profiler's `-o flat` prints it.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;

use crate::model::{Profile, Units};
use crate::names::{self, NameStyle};

/// One row: a top (leaf) frame name and what landed on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlatRow {
    /// The counter (nanoseconds or plain counts, see [`Flat::units`]).
    pub counter: u64,
    /// Percent of the total counter.
    pub percent: f64,
    /// Samples whose leaf was this frame.
    pub samples: u64,
    /// The frame name, dotted, with the `-a` suffix when asked.
    pub name: String,
}

/// A flat profile: rows sorted by counter, largest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flat {
    /// What the counter counts.
    pub units: Units,
    /// Samples in the profile (also those without frames).
    pub total_samples: u64,
    /// Sum of the counters of all samples.
    pub total_counter: u64,
    /// Every distinct top frame, sorted.
    pub rows: Vec<FlatRow>,
}

/// Builds the flat profile: a histogram keyed by the printed name of the leaf frame only.
pub fn flat(p: &Profile, annotate: bool) -> Flat {
    let style = NameStyle {
        dotted: true,
        annotate,
    };
    let units = p.units();
    let mut hist: HashMap<String, (u64, u64)> = HashMap::new();
    let mut total_counter = 0u64;
    for s in &p.stacks {
        let c = p.counter(s, units);
        total_counter = total_counter.saturating_add(c);
        let Some(leaf) = s.frames.first() else {
            continue;
        };
        let name = names::frame_name(&p.methods[leaf.method as usize], leaf.kind, style);
        let e = hist.entry(name).or_default();
        e.0 = e.0.saturating_add(c);
        e.1 = e.1.saturating_add(s.samples);
    }
    let mut rows: Vec<FlatRow> = hist
        .into_iter()
        .map(|(name, (counter, samples))| FlatRow {
            counter,
            percent: percent(counter, total_counter),
            samples,
            name,
        })
        .collect();
    // async-profiler's std::sort leaves ties unordered; ours are broken by samples, then name.
    rows.sort_by(|a, b| {
        b.counter
            .cmp(&a.counter)
            .then(b.samples.cmp(&a.samples))
            .then(a.name.cmp(&b.name))
    });
    Flat {
        units,
        total_samples: p.total_samples,
        total_counter,
        rows,
    }
}

/// `counter * 100.0 / total`, as async-profiler computes it.
fn percent(counter: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        counter as f64 * 100.0 / total as f64
    }
}

/// Writes the summary block and the first `limit` rows in async-profiler's exact text:
/// `%12lld  %6.2f%%  %7lld  %s` under the `%12s  percent  samples  top` header.
pub fn write_text(f: &Flat, limit: usize, out: &mut impl Write) -> std::io::Result<()> {
    write!(
        out,
        "--- Execution profile ---\nTotal samples       : {}\n\n",
        f.total_samples
    )?;
    writeln!(out, "{:>12}  percent  samples  top", f.units.label())?;
    writeln!(out, "  ----------  -------  -------  ---")?;
    for r in f.rows.iter().take(limit) {
        writeln!(
            out,
            "{:>12}  {:>6.2}%  {:>7}  {}",
            r.counter, r.percent, r.samples, r.name
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stack;
    use hch_jfr::{Frame, FrameKind, MethodInfo};

    fn method(class: &str, name: &str) -> MethodInfo {
        MethodInfo {
            class: class.into(),
            name: name.into(),
            descriptor: String::new(),
            hidden: false,
        }
    }

    /// A real async-profiler flat output (`-o flat=12 -a`, captured on JDK 17 during research,
    /// first three rows): same counters, samples and names must give the same bytes.
    #[test]
    fn matches_async_profiler_flat_text_byte_for_byte() {
        let expected = "--- Execution profile ---\nTotal samples       : 2755\n\n          ns  percent  samples  top\n  ----------  -------  -------  ---\n    93338381    3.33%       92  itable stub\n    81687235    2.92%       71  finish_task_switch.isra.0_[k]\n    27200022    0.97%       27  java.util.concurrent.atomic.AtomicLong.compareAndSet_[i]\n";
        let mut p = Profile::new();
        let rows = [
            (
                method("", "itable stub"),
                FrameKind::Native,
                93_338_381u64,
                92u64,
            ),
            (
                method("", "finish_task_switch.isra.0"),
                FrameKind::Kernel,
                81_687_235,
                71,
            ),
            (
                method("java/util/concurrent/atomic/AtomicLong", "compareAndSet"),
                FrameKind::Inlined,
                27_200_022,
                27,
            ),
        ];
        let mut left_ns = 2_800_000_000u64;
        let mut left_samples = 2755u64;
        for (m, kind, ns, samples) in rows {
            let method = p.intern(m);
            p.stacks.push(Stack {
                frames: vec![Frame {
                    method,
                    line: 0,
                    bci: 0,
                    kind,
                }],
                samples,
                ns: Some(ns),
            });
            left_ns -= ns;
            left_samples -= samples;
        }
        // The rest of the samples spread over smaller rows that the limit of 3 hides.
        for i in 0..left_samples {
            let method = p.intern(method("Filler", &format!("m{i}")));
            let ns = left_ns / left_samples + u64::from(i == 0) * (left_ns % left_samples);
            p.stacks.push(Stack {
                frames: vec![Frame {
                    method,
                    line: 0,
                    bci: 0,
                    kind: FrameKind::JitCompiled,
                }],
                samples: 1,
                ns: Some(ns),
            });
        }
        p.total_samples = 2755;
        let f = flat(&p, true);
        let mut out = Vec::new();
        write_text(&f, 3, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
