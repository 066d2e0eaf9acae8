//! `Compiler.codecache` (and the `-XX:+PrintCodeCache` block): heaps with their sizes and
//! bounds, blob counts, and whether the compiler is still enabled.
//!
//! Every known layout (`CodeCache::print_summary`):
//! - JDK 8, or 9+ with `-XX:-SegmentedCodeCache`: one `CodeCache: size=.. used=..` heap with bounds;
//! - JDK 9 to 24, segmented: `CodeHeap '<name>': ...` + ` bounds [..]` per heap, then
//!   ` total_blobs=.. nmethods=.. adapters=..`, ` compilation: enabled`,
//!   `              stopped_count=0, restarted_count=0`, ` full_count=0`;
//! - JDK 25: the same heaps, then a `CodeCache: size=.., used=..` summary with commas,
//!   ` total_blobs=.., nmethods=.., adapters=.., full_count=..` and one `Compilation: ..` line;
//! - JDK 27: also a `'hot nmethods'` heap, with per-heap ` blobs=.., nmethods=..` lines.
//!
//! Lines are read as `key=value` pairs whatever the separators, so comma changes do not matter.

use serde::Serialize;

use crate::{bad_line, dec, hex, is_jcmd_pid_line, ParseError, Source};

/// What a code heap holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeapKind {
    /// `'non-profiled nmethods'`: C2 and C1 level 1 code, and native wrappers.
    NonProfiled,
    /// `'profiled nmethods'`: C1 levels 2 and 3.
    Profiled,
    /// `'non-nmethods'`: interpreter, stubs, adapters.
    NonNmethods,
    /// `'hot nmethods'` (JDK 27+ HotCodeHeap).
    Hot,
    /// The single, unsegmented code cache.
    Unsegmented,
    /// A heap name hch does not know.
    Other,
}

impl HeapKind {
    /// The kind for a heap name as printed.
    pub fn from_name(name: &str) -> HeapKind {
        match name {
            "non-profiled nmethods" => HeapKind::NonProfiled,
            "profiled nmethods" => HeapKind::Profiled,
            "non-nmethods" => HeapKind::NonNmethods,
            "hot nmethods" => HeapKind::Hot,
            "CodeCache" => HeapKind::Unsegmented,
            _ => HeapKind::Other,
        }
    }
}

/// One code heap. Sizes are in KiB as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Heap {
    /// The name between quotes, or `CodeCache` for an unsegmented cache.
    pub name: String,
    /// Reserved size.
    pub size_kb: u64,
    /// Used now.
    pub used_kb: u64,
    /// Highest use seen.
    pub max_used_kb: u64,
    /// Free (unallocated capacity).
    pub free_kb: u64,
    /// `[low_boundary, committed high, high_boundary]`, when printed.
    pub bounds: Option<[u64; 3]>,
    /// Per-heap blob count (JDK 27).
    pub blobs: Option<u64>,
    /// Per-heap nmethod count (JDK 27).
    pub nmethods: Option<u64>,
    /// Per-heap adapter count (JDK 27).
    pub adapters: Option<u64>,
    /// Per-heap full count (JDK 27).
    pub full_count: Option<u64>,
}

impl Heap {
    /// The kind of heap, from its name.
    pub fn kind(&self) -> HeapKind {
        HeapKind::from_name(&self.name)
    }

    /// True when `addr` lies in this heap's reserved range.
    pub fn contains(&self, addr: u64) -> bool {
        self.bounds
            .is_some_and(|[lo, _, hi]| lo <= addr && addr < hi)
    }

    /// Used share of the reserved size, 0 to 1.
    pub fn used_fraction(&self) -> f64 {
        if self.size_kb == 0 {
            return 0.0;
        }
        self.used_kb as f64 / self.size_kb as f64
    }
}

/// Whether the JIT compilers take new work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compilation {
    /// `enabled`.
    pub enabled: bool,
    /// Everything after `disabled`, e.g. `not enough contiguous free space left`.
    pub reason: Option<String>,
    /// How often compilation was stopped.
    pub stopped_count: Option<u64>,
    /// How often it was restarted.
    pub restarted_count: Option<u64>,
}

/// A parsed `Compiler.codecache`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodeCache {
    /// The heaps in printed order.
    pub heaps: Vec<Heap>,
    /// The JDK 25 `CodeCache:` summary over all segmented heaps.
    pub summary: Option<Heap>,
    /// All blobs.
    pub total_blobs: Option<u64>,
    /// All nmethods.
    pub nmethods: Option<u64>,
    /// All adapters.
    pub adapters: Option<u64>,
    /// How often a heap was found full.
    pub full_count: Option<u64>,
    /// Compiler state; `None` if the line was missing.
    pub compilation: Option<Compilation>,
}

impl CodeCache {
    /// The heap holding `addr`.
    pub fn heap_of(&self, addr: u64) -> Option<&Heap> {
        self.heaps.iter().find(|h| h.contains(addr))
    }

    /// Sum of used KiB over the heaps.
    pub fn used_kb(&self) -> u64 {
        self.heaps.iter().map(|h| h.used_kb).sum()
    }

    /// Sum of reserved KiB over the heaps.
    pub fn size_kb(&self) -> u64 {
        self.heaps.iter().map(|h| h.size_kb).sum()
    }
}

/// Parses `Compiler.codecache` text in any of the known layouts.
pub fn parse(text: &str) -> Result<CodeCache, ParseError> {
    let segmented = text
        .lines()
        .any(|l| l.trim_start().starts_with("CodeHeap '"));
    let mut cc = CodeCache::default();
    let mut seen = false;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = raw.trim();
        if line.is_empty() || (!seen && is_jcmd_pid_line(line)) {
            continue;
        }
        seen = true;
        parse_line(&mut cc, line, raw, no, segmented)?;
    }
    if cc.heaps.is_empty() {
        return Err(ParseError::Missing {
            output: Source::Codecache,
            what: "a `CodeHeap` or `CodeCache:` line",
        });
    }
    Ok(cc)
}

/// Dispatches one trimmed line by its leading word.
fn parse_line(
    cc: &mut CodeCache,
    line: &str,
    raw: &str,
    no: usize,
    segmented: bool,
) -> Result<(), ParseError> {
    if let Some(rest) = line.strip_prefix("CodeHeap '") {
        let (name, tail) = rest
            .split_once("':")
            .ok_or_else(|| bad_line(Source::Codecache, no, "`CodeHeap '<name>': size=..`", raw))?;
        cc.heaps.push(heap(name, tail, no)?);
    } else if let Some(tail) = line.strip_prefix("CodeCache:") {
        let h = heap("CodeCache", tail, no)?;
        if segmented {
            cc.summary = Some(h)
        } else {
            cc.heaps.push(h)
        }
    } else if let Some(tail) = line.strip_prefix("bounds [") {
        let b = bounds(tail, raw, no)?;
        let last = cc
            .heaps
            .last_mut()
            .ok_or_else(|| bad_line(Source::Codecache, no, "a heap line before `bounds`", raw))?;
        last.bounds = Some(b);
    } else if let Some(tail) = line
        .strip_prefix("compilation:")
        .or_else(|| line.strip_prefix("Compilation:"))
    {
        cc.compilation = Some(compilation(tail, no)?);
    } else if line.contains('=') {
        counters(cc, line, raw, no)?;
    } else {
        return Err(bad_line(
            Source::Codecache,
            no,
            "a `CodeHeap`, `CodeCache:`, `bounds`, `compilation:` or `key=value` line",
            raw,
        ));
    }
    Ok(())
}

/// The `key=value` pairs of a line, separated by spaces and/or commas.
fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split([' ', ',']).filter_map(|t| t.split_once('='))
}

/// A heap from its `size=..Kb used=..Kb max_used=..Kb free=..Kb` tail.
fn heap(name: &str, tail: &str, no: usize) -> Result<Heap, ParseError> {
    let mut h = Heap {
        name: name.to_string(),
        ..Heap::default()
    };
    let mut found = 0;
    for (k, v) in pairs(tail) {
        let slot = match k {
            "size" => &mut h.size_kb,
            "used" => &mut h.used_kb,
            "max_used" => &mut h.max_used_kb,
            "free" => &mut h.free_kb,
            _ => continue,
        };
        *slot = dec(
            Source::Codecache,
            no,
            "size in Kb",
            v.trim_end_matches("Kb"),
        )?;
        found += 1;
    }
    if found < 4 {
        return Err(bad_line(
            Source::Codecache,
            no,
            "`size=..Kb used=..Kb max_used=..Kb free=..Kb`",
            tail,
        ));
    }
    Ok(h)
}

/// `0x.., 0x.., 0x..]`.
fn bounds(tail: &str, raw: &str, no: usize) -> Result<[u64; 3], ParseError> {
    let inner = tail
        .strip_suffix(']')
        .ok_or_else(|| bad_line(Source::Codecache, no, "`bounds [lo, high, hi]`", raw))?;
    let mut out = [0u64; 3];
    let mut parts = inner.split(", ");
    for slot in &mut out {
        let p = parts
            .next()
            .ok_or_else(|| bad_line(Source::Codecache, no, "three addresses in `bounds`", raw))?;
        *slot = hex(Source::Codecache, no, "bound address", p.trim())?;
    }
    if parts.next().is_some() || out[0] > out[1] || out[1] > out[2] {
        return Err(bad_line(
            Source::Codecache,
            no,
            "`bounds [lo, high, hi]` with lo <= high <= hi",
            raw,
        ));
    }
    Ok(out)
}

/// ` enabled` / ` disabled (why), stopped_count=1, restarted_count=0`.
fn compilation(tail: &str, no: usize) -> Result<Compilation, ParseError> {
    let tail = tail.trim();
    let (state, rest) = match tail.find(", ") {
        Some(i) if !tail[..i].contains('(') || tail[..i].contains(')') => (&tail[..i], &tail[i..]),
        _ => (tail, ""),
    };
    let mut c = Compilation {
        enabled: state.starts_with("enabled"),
        ..Compilation::default()
    };
    if !c.enabled {
        let why = state
            .trim_start_matches("disabled")
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')');
        c.reason = (!why.is_empty()).then(|| why.to_string());
    }
    for (k, v) in pairs(rest) {
        match k {
            "stopped_count" => {
                c.stopped_count = Some(dec(Source::Codecache, no, "stopped_count", v)?)
            }
            "restarted_count" => {
                c.restarted_count = Some(dec(Source::Codecache, no, "restarted_count", v)?)
            }
            _ => {}
        }
    }
    Ok(c)
}

/// ` total_blobs=..`, `stopped_count=..`, ` full_count=..` and the JDK 27 per-heap ` blobs=..`.
fn counters(cc: &mut CodeCache, line: &str, raw: &str, no: usize) -> Result<(), ParseError> {
    let per_heap = line.starts_with("blobs=");
    for (k, v) in pairs(line) {
        let n: u64 = dec(Source::Codecache, no, "counter", v)?;
        match (per_heap, k) {
            (true, "blobs") => last_heap(cc, raw, no)?.blobs = Some(n),
            (true, "nmethods") => last_heap(cc, raw, no)?.nmethods = Some(n),
            (true, "adapters") => last_heap(cc, raw, no)?.adapters = Some(n),
            (true, "full_count") => last_heap(cc, raw, no)?.full_count = Some(n),
            (false, "total_blobs") => cc.total_blobs = Some(n),
            (false, "nmethods") => cc.nmethods = Some(n),
            (false, "adapters") => cc.adapters = Some(n),
            (false, "full_count") => cc.full_count = Some(n),
            (false, "stopped_count") => compilation_mut(cc).stopped_count = Some(n),
            (false, "restarted_count") => compilation_mut(cc).restarted_count = Some(n),
            _ => {}
        }
    }
    Ok(())
}

/// The heap a per-heap counter line belongs to.
fn last_heap<'a>(cc: &'a mut CodeCache, raw: &str, no: usize) -> Result<&'a mut Heap, ParseError> {
    cc.heaps
        .last_mut()
        .ok_or_else(|| bad_line(Source::Codecache, no, "a heap line before `blobs=`", raw))
}

/// The compilation record, created if the counters come before it.
fn compilation_mut(cc: &mut CodeCache) -> &mut Compilation {
    cc.compilation.get_or_insert_with(Compilation::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_reason_with_commas_after() {
        let c = compilation(
            " disabled (not enough contiguous free space left), stopped_count=1, restarted_count=0",
            1,
        )
        .unwrap();
        assert!(!c.enabled);
        assert_eq!(
            c.reason.as_deref(),
            Some("not enough contiguous free space left")
        );
        assert_eq!((c.stopped_count, c.restarted_count), (Some(1), Some(0)));
        let c = compilation(" disabled (interpreter mode)", 1).unwrap();
        assert_eq!(c.reason.as_deref(), Some("interpreter mode"));
    }

    #[test]
    fn garbage_is_an_error_with_line() {
        assert!(matches!(
            parse("1:\nhello"),
            Err(ParseError::BadLine { line: 2, .. })
        ));
        assert!(matches!(parse(""), Err(ParseError::Missing { .. })));
        assert!(matches!(
            parse("CodeCache: size=1Kb used=xKb max_used=1Kb free=1Kb"),
            Err(ParseError::BadNumber { line: 1, .. })
        ));
        assert!(matches!(
            parse(" bounds [0x1, 0x2, 0x3]"),
            Err(ParseError::BadLine { line: 1, .. })
        ));
    }
}
