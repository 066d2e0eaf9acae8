//! The parsers on real captured outputs of JDK 17 and 25, checked against each other and
//! against independent counts of the raw text (the JVM's own figures are the oracle).

use hch_codecache::codecache::HeapKind;
use hch_codecache::log::{self, CodecacheEvent, CompileEventKind};
use hch_codecache::{analytics, codecache, codelist, perfmap};

mod common;

#[test]
fn codecache_and_codelist_captured_together_agree() {
    for v in ["jdk17", "jdk25"] {
        let cc = codecache::parse(common::jcmd_body(&common::data(&format!(
            "{v}_Compiler.codecache.txt"
        ))))
        .unwrap();
        let list = codelist::parse(common::jcmd_body(&common::data(&format!(
            "{v}_Compiler.codelist.txt"
        ))))
        .unwrap();
        assert_eq!(cc.heaps.len(), 3, "{v}");
        assert_eq!(
            cc.nmethods,
            Some(list.entries.len() as u64),
            "{v}: codecache nmethods= vs codelist lines"
        );
        for e in &list.entries {
            let heap = cc
                .heap_of(e.start)
                .unwrap_or_else(|| panic!("{v}: {e:?} in no heap"));
            assert_ne!(heap.kind(), HeapKind::NonNmethods, "{v}");
        }
        let c = cc.compilation.as_ref().unwrap();
        assert!(
            c.enabled && c.stopped_count == Some(0) && c.restarted_count == Some(0),
            "{v}"
        );
        assert_eq!(cc.full_count, Some(0));
    }
}

#[test]
fn jdk25_summary_line_is_the_sum_of_the_heaps() {
    let cc = codecache::parse(
        &common::data("jdk25_Compiler.codecache_final.txt")
            .replace("[exit=0]", "")
            .replacen("$ jcmd <pid> Compiler.codecache", "", 1),
    )
    .unwrap();
    let s = cc.summary.as_ref().unwrap();
    assert_eq!(s.used_kb, cc.used_kb());
    assert_eq!(s.size_kb, cc.size_kb());
    assert_eq!(
        (cc.total_blobs, cc.nmethods, cc.adapters),
        (Some(2218), Some(1732), Some(390))
    );
}

#[test]
fn full_unsegmented_caches_report_compilation_disabled() {
    for f in [
        "jdk17_codecache_full_unsegmented.txt",
        "jdk25_codecache_full_unsegmented.txt",
    ] {
        let cc = codecache::parse(&common::data(f)).unwrap();
        assert_eq!(cc.heaps.len(), 1);
        assert_eq!(cc.heaps[0].kind(), HeapKind::Unsegmented);
        let c = cc.compilation.unwrap();
        assert!(!c.enabled);
        assert_eq!(
            c.reason.as_deref(),
            Some("not enough contiguous free space left")
        );
        assert_eq!((c.stopped_count, cc.full_count), (Some(1), Some(1)), "{f}");
    }
}

/// JDK 8 and JDK 27 are not installed here: these samples were written by hand from the
/// HotSpot print code (`CodeCache::print_summary` of jdk8u, and mainline with JDK-8326205).
#[test]
fn written_samples_for_jdk8_and_jdk27() {
    let j8 = codecache::parse(&common::data("jdk8_codecache_written_from_source.txt")).unwrap();
    assert_eq!(j8.heaps.len(), 1);
    assert!(j8.compilation.unwrap().enabled);
    assert_eq!(j8.nmethods, Some(402));
    let j27 = codecache::parse(&common::data("jdk27_codecache_written_from_source.txt")).unwrap();
    let hot = j27
        .heaps
        .iter()
        .find(|h| h.kind() == HeapKind::Hot)
        .unwrap();
    assert_eq!(
        (hot.size_kb, hot.nmethods, hot.full_count),
        (8192, Some(31), Some(0))
    );
    assert_eq!(
        j27.heaps.iter().filter_map(|h| h.nmethods).sum::<u64>(),
        j27.nmethods.unwrap()
    );
}

#[test]
fn analytics_free_list_matches_free_space_and_bounds() {
    for v in ["jdk17", "jdk25"] {
        let a = analytics::parse(&common::data(&format!(
            "{v}_Compiler.CodeHeap_Analytics_default.txt"
        )))
        .unwrap();
        let cc = codecache::parse(common::jcmd_body(&common::data(&format!(
            "{v}_Compiler.codecache.txt"
        ))))
        .unwrap();
        assert_eq!(a.heaps.len(), 3, "{v}");
        for h in &a.heaps {
            assert!(cc.heaps.iter().any(|c| c.name == h.name), "{v}: {}", h.name);
            assert_eq!(
                h.free_blocks,
                Some(h.free_block_sizes.len() as u64),
                "{v} {}",
                h.name
            );
            let listed_kb = h.free_block_sizes.iter().sum::<u64>() / 1024;
            assert!(
                h.free_kb.unwrap().abs_diff(listed_kb) <= 1,
                "{v} {}: {:?} vs {listed_kb}",
                h.name,
                h.free_kb
            );
            assert!(h.remaining_kb.is_some() && h.used_blocks.is_some());
            assert!(h.fragmentation().is_some());
        }
    }
}

#[test]
fn analytics_aggregate_alone_has_counts_but_no_free_list() {
    let a = analytics::parse(&common::data(
        "jdk25_Compiler.CodeHeap_Analytics_aggregate.txt",
    ))
    .unwrap();
    let nn = a.heap("non-nmethods").unwrap();
    assert_eq!(
        (nn.free_kb, nn.free_blocks, nn.used_kb, nn.used_blocks),
        (Some(30), Some(5), Some(1450), Some(436))
    );
    assert_eq!(nn.fragmentation(), None);
}

#[test]
fn perfmap_sizes_equal_codelist_code_sizes() {
    for v in ["jdk17", "jdk25"] {
        let map = perfmap::parse(&common::data(&format!("{v}_perf-pid.map"))).unwrap();
        let list = codelist::parse(common::jcmd_body(&common::data(&format!(
            "{v}_Compiler.codelist.txt"
        ))))
        .unwrap();
        let mut matched = 0;
        for e in &list.entries {
            if let Some(p) = map.iter().find(|p| p.start == e.code_begin) {
                assert_eq!(p.size, e.code_size(), "{v}: {e:?}");
                matched += 1;
            }
        }
        assert!(
            matched > list.entries.len() / 2,
            "{v}: only {matched} matched"
        );
    }
}

/// Lines of the form `[uptime] <id> ... (N bytes|native)`, counted without the parser.
fn task_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| (l.contains(" bytes)") || l.contains("(native)")) && l.contains("::"))
        .count()
}

#[test]
fn printcompilation_and_jit_compilation_logs() {
    for f in [
        "jdk17_stdout_printcompilation.txt",
        "jdk25_stdout_printcompilation.txt",
        "jdk17_xlog_jit_compilation.txt",
        "jdk25_xlog_jit_compilation.txt",
    ] {
        let text = common::data(f);
        let events = log::parse_compilations(&text).unwrap();
        let excluded = text
            .lines()
            .filter(|l| l.contains("made not compilable"))
            .count();
        assert_eq!(events.len(), task_lines(&text) - excluded, "{f}");
        let nent = events
            .iter()
            .filter(|e| matches!(e.kind, CompileEventKind::MadeNotEntrant { .. }))
            .count();
        assert_eq!(nent, text.matches("made not entrant").count(), "{f}");
        let with_reason = events
            .iter()
            .filter(|e| {
                matches!(
                    &e.kind,
                    CompileEventKind::MadeNotEntrant { reason: Some(_) }
                )
            })
            .count();
        assert_eq!(
            with_reason > 0,
            f.starts_with("jdk25"),
            "{f}: reasons only on 25"
        );
        assert!(events.iter().any(|e| e.osr_bci.is_some()), "{f}");
    }
}

#[test]
fn codecache_log_flushing_lines() {
    let text = common::data("jdk25_xlog_codecache_debug_gc.txt");
    let events = log::parse_codecache_events(&text).unwrap();
    let flushing = events
        .iter()
        .filter(|e| matches!(e, CodecacheEvent::Flushing { .. }))
        .count();
    assert_eq!(flushing, text.matches("Flushing nmethod").count());
    assert!(flushing > 0);
    let info = log::parse_codecache_events(&common::data("jdk25_xlog_codecache_info.txt")).unwrap();
    assert!(
        matches!(&info[0], CodecacheEvent::Info { message } if message.starts_with("ReservedCodeCache size"))
    );
}
