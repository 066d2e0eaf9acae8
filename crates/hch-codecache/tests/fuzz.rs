//! Fuzz-style robustness: random mutations of the real captured outputs, fed to every parser
//! for a bounded time. A parser may return an error but must never panic or hang.

use std::time::{Duration, Instant};

use hch_codecache::{analytics, codecache, codelist, log, perfmap, report, sparse, watch};

mod common;

/// Bytes that matter to these formats, so mutations hit the interesting paths.
const SPICE: &[u8] = b"0123456789abcdefx[](),-=: '\n.%@Kbnk";

/// One random edit: flip, insert, delete a run, duplicate a line, or truncate.
fn mutate(rng: &mut hch_testkit::Rng, data: &mut Vec<u8>) {
    if data.is_empty() {
        data.push(SPICE[rng.below(SPICE.len())]);
        return;
    }
    let at = rng.below(data.len());
    match rng.below(7) {
        0 => data[at] = SPICE[rng.below(SPICE.len())],
        1 => data.insert(at, SPICE[rng.below(SPICE.len())]),
        2 => {
            let end = (at + rng.below(40)).min(data.len());
            data.drain(at..end);
        }
        3 => {
            let end = (at + rng.below(200)).min(data.len());
            let copy = data[at..end].to_vec();
            let to = rng.below(data.len());
            data.splice(to..to, copy);
        }
        4 => data.truncate(at),
        5 => {
            // Huge numbers: sizes and addresses near the integer limits.
            let run: &[u8] = if rng.below(2) == 0 {
                b"ffffffffffffffff"
            } else {
                b"99999999999999999999"
            };
            data.splice(at..at, run.iter().copied());
        }
        _ => data[at] = data[at].wrapping_add(1),
    }
}

/// Runs every parser, and the analysis on what parsed; only panics matter.
fn run_all(text: &str, cache: &codecache::CodeCache) {
    if let Ok(list) = codelist::parse(text) {
        let r = report::analyze(cache, Some(&list), None, &report::Thresholds::default());
        let hot: Vec<sparse::HotMethod> = r
            .top_methods
            .iter()
            .map(|m| sparse::HotMethod {
                method: m.method.clone(),
                samples: m.versions,
            })
            .collect();
        let s = sparse::join(&list, cache, &hot);
        let _ = sparse::svg(&list, cache, &s);
        let mut w = watch::Watcher::new(watch::WatchOptions::default());
        let _ = w.observe_codelist(0.0, &list);
        let _ = w.trends();
    }
    if let Ok(cc) = codecache::parse(text) {
        let _ = report::analyze(
            &cc,
            None,
            analytics::parse(text).ok().as_ref(),
            &report::Thresholds::default(),
        );
    }
    let _ = codelist::parse_for(text, 17);
    let _ = codecache::parse(text);
    let _ = analytics::parse(text);
    let _ = perfmap::parse(text);
    let _ = log::parse_compilations(text);
    let _ = log::parse_codecache_events(text);
}

#[test]
fn mutated_real_outputs_never_panic() {
    let files = [
        "jdk17_Compiler.codelist.txt",
        "jdk25_Compiler.codelist.txt",
        "jdk17_Compiler.codecache.txt",
        "jdk25_Compiler.codecache_final.txt",
        "jdk27_codecache_written_from_source.txt",
        "jdk25_codecache_full_unsegmented.txt",
        "jdk17_Compiler.CodeHeap_Analytics_default.txt",
        "jdk25_perf-pid.map",
        "jdk25_stdout_printcompilation.txt",
        "jdk25_xlog_codecache_debug_gc.txt",
    ];
    let budget = Duration::from_secs(3);
    let start = Instant::now();
    let mut rng = hch_testkit::Rng(0x9E37_79B9_7F4A_7C15);
    let mut rounds = 0u64;
    let cache = codecache::parse(common::jcmd_body(&common::data(
        "jdk25_Compiler.codecache.txt",
    )))
    .unwrap();
    while start.elapsed() < budget {
        let name = files[rng.below(files.len())];
        let mut data = common::data(name).into_bytes();
        // Work on a window so big files get many rounds too.
        let from = rng.below(data.len());
        data = data.split_off(from.min(data.len().saturating_sub(4000)));
        data.truncate(4000);
        for _ in 0..=rng.below(8) {
            mutate(&mut rng, &mut data);
        }
        run_all(&String::from_utf8_lossy(&data), &cache);
        rounds += 1;
    }
    assert!(rounds > 100, "only {rounds} rounds in {budget:?}");
}
