//! `Compiler.CodeHeap_Analytics`: the per-heap figures hch needs from this long human report.
//!
//! From the `aggregate` step: the global statistics (free and used space and block counts,
//! not-entrant space) and the segment bounds. From the `FreeSpace` step (or `all`): the list of
//! free blocks, hence the largest free block. Everything else in the report is skipped.
//!
//! The aggregate step keeps a snapshot in the JVM's C heap: the caller must always run
//! `Compiler.CodeHeap_Analytics discard` afterwards (see [`DISCARD`]).

use serde::Serialize;

use crate::{dec, hex, is_jcmd_pid_line, ParseError, Source};

/// The command that frees the JVM's analytics snapshot; run it after every aggregate.
pub const DISCARD: &str = "Compiler.CodeHeap_Analytics discard";

/// What the analytics say about one code heap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeapAnalytics {
    /// The heap name between quotes.
    pub name: String,
    /// Free space inside the committed part, KiB (`freeSpace`).
    pub free_kb: Option<u64>,
    /// Number of free blocks in the committed part.
    pub free_blocks: Option<u64>,
    /// Used space, KiB.
    pub used_kb: Option<u64>,
    /// Number of used blocks.
    pub used_blocks: Option<u64>,
    /// Space of not-entrant nmethods, KiB.
    pub not_entrant_kb: Option<u64>,
    /// Number of not-entrant nmethods.
    pub not_entrant_blocks: Option<u64>,
    /// Not yet committed space beyond the used end, KiB (`remaining space`).
    pub remaining_kb: Option<u64>,
    /// Sizes of the free blocks listed by `FreeSpace`, bytes, in list order.
    pub free_block_sizes: Vec<u64>,
}

impl HeapAnalytics {
    /// The largest block a new nmethod could go to: a listed free block or the uncommitted rest.
    pub fn largest_free_bytes(&self) -> Option<u64> {
        let listed = self.free_block_sizes.iter().copied().max();
        let rest = self.remaining_kb.map(|k| k.saturating_mul(1024));
        listed.max(rest).or(if self.free_blocks == Some(0) {
            Some(0)
        } else {
            None
        })
    }

    /// External fragmentation, 0 to 1: one minus the largest free block over all free bytes.
    /// `None` without a free-block list.
    pub fn fragmentation(&self) -> Option<f64> {
        let largest = self.largest_free_bytes()?;
        let total = self
            .free_kb
            .unwrap_or(0)
            .saturating_add(self.remaining_kb.unwrap_or(0))
            .saturating_mul(1024);
        if total == 0 || (self.free_block_sizes.is_empty() && self.free_blocks != Some(0)) {
            return None;
        }
        Some((1.0 - largest as f64 / total as f64).clamp(0.0, 1.0))
    }
}

/// All heaps found in an analytics report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Analytics {
    /// Per heap, in report order.
    pub heaps: Vec<HeapAnalytics>,
}

impl Analytics {
    /// The heap of that name.
    pub fn heap(&self, name: &str) -> Option<&HeapAnalytics> {
        self.heaps.iter().find(|h| h.name == name)
    }
}

/// Parses the text of one or more analytics runs (e.g. `aggregate` then `FreeSpace`).
pub fn parse(text: &str) -> Result<Analytics, ParseError> {
    let mut a = Analytics::default();
    let mut current: Option<usize> = None;
    let segmented = text.contains("CodeHeap '");
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || is_jcmd_pid_line(line) {
            continue;
        }
        if let Some(name) = heap_name(line, segmented) {
            current = Some(heap_index(&mut a, name));
        }
        if let Some(h) = current {
            read_figures(&mut a.heaps[h], line, i + 1)?;
        }
    }
    if a.heaps.is_empty() {
        return Err(ParseError::Missing {
            output: Source::Analytics,
            what: "a `CodeHeap '<name>'` section",
        });
    }
    Ok(a)
}

/// The heap named in a section header (`... CodeHeap 'non-nmethods' ...`); an unsegmented
/// cache prints `for segment CodeHeap` / `in CodeHeap` without a name: it is `CodeCache`.
fn heap_name(line: &str, segmented: bool) -> Option<&str> {
    if let Some(i) = line.find("CodeHeap '") {
        let start = i + "CodeHeap '".len();
        let len = line[start..].find('\'')?;
        return Some(&line[start..start + len]);
    }
    let unnamed = ["segment CodeHeap", "for CodeHeap", "in CodeHeap"]
        .iter()
        .any(|p| {
            line.match_indices(p)
                .any(|(i, _)| !line[i + p.len()..].starts_with(|c: char| c.is_alphanumeric()))
        });
    (unnamed && !segmented).then_some("CodeCache")
}

/// Index of the heap, added on first sight.
fn heap_index(a: &mut Analytics, name: &str) -> usize {
    if let Some(i) = a.heaps.iter().position(|h| h.name == name) {
        return i;
    }
    a.heaps.push(HeapAnalytics {
        name: name.to_string(),
        ..HeapAnalytics::default()
    });
    a.heaps.len() - 1
}

/// Reads the figures hch uses from one line of a heap's section.
fn read_figures(h: &mut HeapAnalytics, line: &str, no: usize) -> Result<(), ParseError> {
    if let Some(rest) = line.strip_prefix("freeSpace") {
        (h.free_kb, h.free_blocks) = space_and_blocks(rest, no)?;
    } else if let Some(rest) = line.strip_prefix("usedSpace") {
        (h.used_kb, h.used_blocks) = space_and_blocks(rest, no)?;
    } else if let Some(rest) = line.strip_prefix("not entrant") {
        (h.not_entrant_kb, h.not_entrant_blocks) = space_and_blocks(rest, no)?;
    } else if line.starts_with("Segment end (used)") {
        let v = line
            .rsplit('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches('k');
        h.remaining_kb = Some(dec(Source::Analytics, no, "remaining space", v)?);
    } else if line.starts_with("0x") && line.contains(": Len[") {
        h.free_block_sizes.push(free_block_len(line, no)?);
    }
    Ok(())
}

/// `=      167k, nBlocks_used     =    181,  ...` -> (167, 181).
fn space_and_blocks(rest: &str, no: usize) -> Result<(Option<u64>, Option<u64>), ParseError> {
    let mut parts = rest.split(',');
    let space = parts
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches('=')
        .trim()
        .trim_end_matches('k');
    let blocks = parts
        .next()
        .and_then(|p| p.split('=').nth(1))
        .unwrap_or("")
        .trim();
    Ok((
        Some(dec(Source::Analytics, no, "space in k", space)?),
        Some(dec(Source::Analytics, no, "block count", blocks)?),
    ))
}

/// `0x..: Len[   0] = 0x1080,Gap[..]...` -> 0x1080.
fn free_block_len(line: &str, no: usize) -> Result<u64, ParseError> {
    let after = line.split_once("] =").map(|(_, r)| r).unwrap_or("");
    let v = after.split(',').next().unwrap_or("").trim();
    hex(Source::Analytics, no, "free block length", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragmentation_from_free_list() {
        let h = HeapAnalytics {
            free_kb: Some(8),
            free_blocks: Some(2),
            remaining_kb: Some(0),
            free_block_sizes: vec![2048, 6144],
            ..HeapAnalytics::default()
        };
        assert_eq!(h.largest_free_bytes(), Some(6144));
        assert_eq!(h.fragmentation(), Some(0.25));
        let none = HeapAnalytics {
            free_blocks: Some(3),
            free_kb: Some(3),
            ..HeapAnalytics::default()
        };
        assert_eq!(none.fragmentation(), None);
    }

    #[test]
    fn unsegmented_cache_is_one_heap() {
        let text = "=  F R E E   S P A C E   S T A T I S T I C S   for CodeHeap  =\n|  List of all Free Blocks in CodeHeap  |\n\
                    0x00007f2edd56bc00: Len[   0] = 0x8cd80,Gap[   0..   1]: 0x92080 bytes\n0x00007f2edd9d4180: Len[   4] = 0x2280\n";
        let a = parse(text).unwrap();
        assert_eq!(a.heaps.len(), 1);
        assert_eq!(a.heaps[0].name, "CodeCache");
        assert_eq!(a.heaps[0].free_block_sizes, [0x8cd80, 0x2280]);
        assert_eq!(
            heap_name("__ CodeHeapStateAnalytics lock wait took", false),
            None
        );
        assert_eq!(heap_name("No dead nMethods found in CodeHeap.", true), None);
    }

    #[test]
    fn bad_numbers_name_the_line() {
        let e = parse("x CodeHeap 'a' y\nfreeSpace = zzk, nBlocks_free = 1,").unwrap_err();
        assert!(matches!(e, ParseError::BadNumber { line: 2, .. }), "{e}");
    }
}
