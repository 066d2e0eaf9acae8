//! Verdicts on real captured outputs: healthy JVMs get none; the full caches and a leak get theirs.

use hch_codecache::report::{analyze, Thresholds};
use hch_codecache::{analytics, codecache, codelist};

mod common;

#[test]
fn healthy_captures_have_no_verdict() {
    for v in ["jdk17", "jdk25"] {
        let cc = codecache::parse(common::jcmd_body(&common::data(&format!(
            "{v}_Compiler.codecache.txt"
        ))))
        .unwrap();
        let list = codelist::parse(common::jcmd_body(&common::data(&format!(
            "{v}_Compiler.codelist.txt"
        ))))
        .unwrap();
        let a = analytics::parse(&common::data(&format!(
            "{v}_Compiler.CodeHeap_Analytics_default.txt"
        )))
        .unwrap();
        let r = analyze(&cc, Some(&list), Some(&a), &Thresholds::default());
        assert!(r.verdicts.is_empty(), "{v}: {:#?}", r.verdicts);
        assert_eq!(r.nmethods, list.entries.len() as u64);
        let t = &r.tiers;
        assert_eq!(
            t.native_wrappers
                + t.method_handle_intrinsics
                + t.c1.iter().sum::<u64>()
                + t.c2
                + t.other,
            r.nmethods
        );
        assert_eq!(r.states.values().sum::<u64>(), r.nmethods);
        assert_eq!(
            r.heaps.iter().map(|h| h.nmethods).sum::<u64>(),
            r.nmethods,
            "{v}: every nmethod in a heap"
        );
    }
}

#[test]
fn full_caches_are_reported_with_the_reason() {
    for f in [
        "jdk17_codecache_full_unsegmented.txt",
        "jdk25_codecache_full_unsegmented.txt",
    ] {
        let cc = codecache::parse(&common::data(f)).unwrap();
        let r = analyze(&cc, None, None, &Thresholds::default());
        let ids: Vec<&str> = r.verdicts.iter().map(|v| v.id).collect();
        assert_eq!(ids, ["compilation-disabled"], "{f}");
        assert!(r.verdicts[0].evidence[0].contains("not enough contiguous free space left"));
    }
}

/// A JDK 25 codelist with the leak's lines as captured in the leak research (state 1 = not entrant).
#[test]
fn many_not_entrant_park_wrappers_name_unsafe_park() {
    let mut text = common::jcmd_body(&common::data("jdk25_Compiler.codelist.txt")).to_string();
    for i in 0..30u64 {
        let base = 0x7fe0_7fed_1a08 + i * 0x300;
        text.push_str(&format!(
            "{} 0 1 jdk.internal.misc.Unsafe.park(ZJ)V [{base:#x}, {:#x} - {:#x}]\n",
            1000 + i,
            base + 0xf8,
            base + 0x240
        ));
    }
    let list = codelist::parse_for(&text, 25).unwrap();
    let cc = codecache::parse(common::jcmd_body(&common::data(
        "jdk25_Compiler.codecache.txt",
    )))
    .unwrap();
    let r = analyze(&cc, Some(&list), None, &Thresholds::default());
    assert_eq!(r.verdicts.len(), 1);
    assert_eq!(r.verdicts[0].id, "native-wrapper-leak");
    assert!(r.verdicts[0].title.contains("Unsafe.park"));
    assert_eq!(r.top_methods[0].method.name, "park");
    assert_eq!(r.top_methods[0].not_entrant, 30);
}

/// The JDK 27 sample (written from the HotSpot sources): hot methods inside the `'hot nmethods'`
/// heap are counted as such.
#[test]
fn hot_code_heap_share_on_the_jdk27_sample() {
    use hch_codecache::sparse::{join, HotMethod};
    let cc = codecache::parse(&common::data("jdk27_codecache_written_from_source.txt")).unwrap();
    let list = codelist::parse_for(
        "10 4 0 A.hot()V [0x7f1a4eb30100, 0x7f1a4eb30200 - 0x7f1a4eb30600]\n11 4 0 A.cold()V [0x7f1a47ec7100, 0x7f1a47ec7200 - 0x7f1a47ec7400]",
        27,
    )
    .unwrap();
    let m = |n: &str| hch_codecache::MethodRef {
        class: "A".into(),
        name: n.into(),
        descriptor: "()V".into(),
    };
    let s = join(
        &list,
        &cc,
        &[
            HotMethod {
                method: m("hot"),
                samples: 3,
            },
            HotMethod {
                method: m("cold"),
                samples: 1,
            },
        ],
    );
    assert_eq!(s.hot_heap_sample_share, Some(0.75));
    assert_eq!(
        s.per_heap.keys().map(String::as_str).collect::<Vec<_>>(),
        ["hot nmethods", "non-profiled nmethods"]
    );
}

/// The heap and fragmentation rules on inputs shaped like the JVM's (no JVM here fragments on
/// demand): a heap 95 % used, and 2 MiB free cut into 64 KiB blocks.
#[test]
fn nearly_full_and_fragmented_heaps() {
    let cc = codecache::parse(
        "CodeHeap 'non-profiled nmethods': size=10240Kb used=9728Kb max_used=9800Kb free=512Kb\n bounds [0x1000000, 0x1a00000, 0x1a00000]\n\
         CodeHeap 'profiled nmethods': size=20480Kb used=10240Kb max_used=10240Kb free=10240Kb\n bounds [0x2000000, 0x3400000, 0x3400000]\n\
         total_blobs=10 nmethods=10 adapters=0\n compilation: enabled\n full_count=0\n",
    )
    .unwrap();
    let mut text = String::from("Global CodeHeap statistics for segment CodeHeap 'profiled nmethods'\nfreeSpace = 2048k, nBlocks_free = 32, 1% of capacity\n");
    text.push_str("Segment end (used)     = 0x0000000003400000, remaining space =        0k\nList of all Free Blocks in CodeHeap 'profiled nmethods'\n");
    for i in 0..32u64 {
        text.push_str(&format!(
            "0x{:016x}: Len[{i:4}] = 0x10000,Gap[..]: 0x100 bytes\n",
            0x2000000 + i * 0x20000
        ));
    }
    let a = analytics::parse(&text).unwrap();
    let r = analyze(&cc, None, Some(&a), &Thresholds::default());
    let ids: Vec<&str> = r.verdicts.iter().map(|v| v.id).collect();
    assert_eq!(ids, ["heap-nearly-full", "fragmented-free-space"]);
    assert!(r.verdicts[0].fix.contains("-XX:NonProfiledCodeHeapSize="));
    let frag = r.heaps[1].fragmentation.unwrap();
    assert!((frag - (1.0 - 64.0 / 2048.0)).abs() < 1e-9, "{frag}");
}
