//! async-profiler's flat text (`-o flat`, with or without `-a`) as input. Each row is a leaf
//! frame with its samples:
//!
//! ```text
//! --- Execution profile ---
//! Total samples       : 2755
//!
//!           ns  percent  samples  top
//!   ----------  -------  -------  ---
//!     93338381    3.33%       92  itable stub
//!     27200022    0.97%       27  java.util.concurrent.atomic.AtomicLong.compareAndSet_[i]
//! ```
//!
//! A flat file has no stacks: a compiled leaf is its own code blob, but an inlined leaf's host
//! is unknown, and only the rows printed are known (the `Total samples` line tells how many
//! samples the file leaves out).

use std::io::BufRead;
use std::path::Path;

use crate::collapsed;
use crate::model::{Input, InputFormat, Profile};
use crate::Error;

/// Whether a file's first bytes are async-profiler's flat text.
pub fn looks_like(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.lines().take(8).any(|l| {
        l.trim() == "--- Execution profile ---"
            || (l.contains("percent") && l.contains("samples") && l.trim_end().ends_with("top"))
    })
}

/// One row: counter, percent, samples, name (which may hold spaces: `itable stub`).
fn row(line: &str) -> Option<(u64, u64, &str)> {
    let mut rest = line.trim_start();
    let mut field = || {
        let end = rest.find(char::is_whitespace)?;
        let (f, r) = rest.split_at(end);
        rest = r.trim_start();
        Some(f)
    };
    let counter: u64 = field()?.parse().ok()?;
    let _percent = field()?.strip_suffix('%')?;
    let samples: u64 = field()?.parse().ok()?;
    (!rest.is_empty()).then_some((counter, samples, rest.trim_end()))
}

/// Parses the rows into `profile` as one-frame stacks; `source` names the input in errors.
pub fn read(profile: &mut Profile, source: &Path, r: impl BufRead) -> Result<(), Error> {
    let (mut samples, mut total, mut annotated, mut in_rows) = (0u64, None, false, false);
    let mut ns_units = false;
    for (no, line) in r.lines().enumerate() {
        let line = line.map_err(|e| Error::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
        if let Some(t) = line.trim().strip_prefix("Total samples") {
            total = t.trim_start_matches([' ', ':']).trim().parse::<u64>().ok();
            continue;
        }
        if line.trim_end().ends_with("top") && line.contains("percent") {
            ns_units = line.split_whitespace().next() == Some("ns");
            continue;
        }
        if line.trim_start().starts_with("----------") {
            in_rows = true;
            continue;
        }
        if !in_rows || line.trim().is_empty() {
            continue;
        }
        let Some((counter, count, name)) = row(&line) else {
            return Err(Error::Collapsed {
                path: source.to_path_buf(),
                line: no + 1,
                what: "a flat row: `counter  percent%  samples  name`".into(),
            });
        };
        // One frame, whole: native names may hold `;` (`libc.so;sym`).
        let (frame, ann) = collapsed::frame(profile, name);
        annotated |= ann;
        profile.push_stack_ns(vec![frame], count, ns_units.then_some(counter));
        samples = samples.saturating_add(count);
    }
    let left_out = total.map_or(0, |t| t.saturating_sub(samples));
    profile.total_samples = profile.total_samples.saturating_add(left_out);
    profile.add_input(Input {
        source: source.to_path_buf(),
        format: InputFormat::FlatText,
        samples,
        facts: Default::default(),
        frame_kinds_known: annotated,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real async-profiler flat output (`-o flat=12 -a`, captured on JDK 17 during research,
    /// first rows).
    const FLAT: &str = "--- Execution profile ---\nTotal samples       : 2755\n\n          ns  percent  samples  top\n  ----------  -------  -------  ---\n    93338381    3.33%       92  itable stub\n    81687235    2.92%       71  finish_task_switch.isra.0_[k]\n    27200022    0.97%       27  java.util.concurrent.atomic.AtomicLong.compareAndSet_[i]\n    20000000    0.73%       20  Foo.bar_[j]\n";

    #[test]
    fn rows_become_leaf_frames() {
        assert!(looks_like(FLAT.as_bytes()));
        assert!(!looks_like(b"a;b;c 3\n"));
        let mut p = Profile::new();
        read(&mut p, Path::new("flat.txt"), FLAT.as_bytes()).unwrap();
        assert_eq!(p.inputs[0].samples, 92 + 71 + 27 + 20);
        assert_eq!(
            p.total_samples, 2755,
            "the rows left out still count in the total"
        );
        assert!(p.inputs[0].frame_kinds_known);
        assert_eq!(
            row("    93338381    3.33%       92  itable stub"),
            Some((93338381, 92, "itable stub"))
        );
        assert_eq!(p.units(), crate::model::Units::Ns);
        assert_eq!(row("  ----------  -------"), None);
    }

    #[test]
    fn a_damaged_row_names_its_line() {
        let bad = FLAT.replace("20000000    0.73%       20", "20000000    0.73%       x");
        let err = read(&mut Profile::new(), Path::new("f"), bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 9"), "{err}");
    }
}
