//! The reader against the JDK's own `jfr` tool, on recordings made now on every JDK found and
//! on public recordings from many producers.

mod common;

use common::*;
use hch_jfr::{read_samples, summarize, JfrFile, SampleEvent};

/// Our per-type counts of a file, zero counts dropped.
/// JDK 17's `jfr` calls checkpoints `jdk.CheckPoint`, JDK 25's `jdk.Checkpoint`.
fn our_summary(path: &std::path::Path) -> std::collections::BTreeMap<String, (u64, u64)> {
    let (s, err) = summarize(&JfrFile::open(path).unwrap());
    assert!(err.is_none(), "{}: {err:?}", path.display());
    s.types
        .into_iter()
        .filter(|t| t.count > 0)
        .map(|t| (t.name, (t.count, t.bytes)))
        .collect()
}

fn normalize(
    mut m: std::collections::BTreeMap<String, (u64, u64)>,
) -> std::collections::BTreeMap<String, (u64, u64)> {
    if let Some(v) = m.remove("jdk.CheckPoint") {
        m.insert("jdk.Checkpoint".into(), v);
    }
    m
}

/// Sums `jfr summary` over the chunks of a file, one chunk at a time.
fn oracle_summary(
    jdk: &hch_testkit::Jdk,
    path: &std::path::Path,
) -> std::collections::BTreeMap<String, (u64, u64)> {
    let mut total = std::collections::BTreeMap::new();
    for chunk in split_chunks(path) {
        for (k, (c, b)) in jdk.jfr_summary(&chunk) {
            let e = total.entry(k).or_insert((0, 0));
            e.0 += c;
            e.1 += b;
        }
    }
    total
}

#[test]
fn summary_and_stacks_equal_jfr_on_every_jdk() {
    for jdk in hch_testkit::require_jdks() {
        if !jdk.has_tool("jfr") {
            hch_testkit::skip(&jdk, "no jfr tool to compare with");
            continue;
        }
        let rec = record_hotloop(&jdk, "oracle", 3, "");
        assert_eq!(
            our_summary(&rec),
            normalize(jdk.jfr_summary(&rec)),
            "summary of {}",
            rec.display()
        );
        let ours = read_samples(&rec, &[SampleEvent::Execution]).unwrap();
        assert!(ours.error.is_none());
        let expected = jdk_stacks(&jdk, &rec, "jdk.ExecutionSample");
        assert!(
            expected.len() >= 20,
            "too few samples on {}: {}",
            jdk.label(),
            expected.len()
        );
        assert_eq!(ours.profile.total_samples as usize, expected.len());
        assert_eq!(
            our_stacks(&ours.profile),
            expected,
            "stacks on {}",
            jdk.label()
        );
        assert_eq!(ours.profile.facts.debug_non_safepoints, Some(true));
        assert_eq!(
            ours.profile.facts.sample_period_ns,
            Some(10_000_000),
            "profile.jfc samples every 10 ms"
        );
        assert_eq!(ours.profile.facts.producer.as_deref(), Some("jdk"));
    }
}

#[test]
fn public_recordings_of_many_producers_equal_jfr_per_chunk() {
    let jdk = oracle_jdk();
    for rec in grafana_recordings() {
        assert_eq!(
            our_summary(&rec),
            normalize(oracle_summary(&jdk, &rec)),
            "summary of {}",
            rec.display()
        );
    }
}

#[test]
fn stacks_of_async_profiler_and_multichunk_files_equal_jfr() {
    let jdk = oracle_jdk();
    // async-profiler.jfr (200,000 samples) is left out here: `jfr print --json` takes minutes
    // on it. Its counts are compared in `public_recordings_of_many_producers_equal_jfr_per_chunk`.
    for name in [
        "FastSlow_2024_01_16_180855.jfr",
        "dump1.jfr",
        "example.jfr",
        "wall.jfr",
    ] {
        let rec = grafana_recordings()
            .into_iter()
            .find(|p| p.ends_with(name))
            .unwrap();
        let ours = read_samples(&rec, &[SampleEvent::Execution]).unwrap();
        // The JDK's jfr fails on chunks with an empty stack trace pool: ask only chunks with samples.
        let mut expected: Vec<_> = split_chunks(&rec)
            .iter()
            .filter(|c| jdk.jfr_summary(c).contains_key("jdk.ExecutionSample"))
            .flat_map(|c| jdk_stacks(&jdk, c, "jdk.ExecutionSample"))
            .collect();
        expected.sort();
        assert_eq!(our_stacks(&ours.profile), expected, "stacks of {name}");
    }
}

#[test]
fn concatenation_of_chunks_from_different_jvms_reads_every_chunk() {
    // The JDK's `jfr` reuses metadata across chunks by id and misreads such a file.
    let jdks = hch_testkit::require_jdks();
    let mut parts = Vec::new();
    for jdk in &jdks {
        parts.push(record_hotloop(jdk, "concat", 2, ""));
    }
    parts.push(
        grafana_recordings()
            .into_iter()
            .find(|p| p.ends_with("async-profiler.jfr"))
            .unwrap(),
    );
    let mixed = hch_testkit::scratch_dir("recordings").join("mixed-concat.jfr");
    let bytes: Vec<u8> = parts
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    std::fs::write(&mixed, bytes).unwrap();
    let sum: u64 = parts
        .iter()
        .map(|p| {
            read_samples(p, &[SampleEvent::Execution])
                .unwrap()
                .profile
                .total_samples
        })
        .sum();
    let all = read_samples(&mixed, &[SampleEvent::Execution]).unwrap();
    assert!(all.error.is_none());
    assert_eq!(all.profile.total_samples, sum);
}

#[test]
fn cpu_time_samples_equal_jfr_on_jdk25_and_later() {
    for jdk in hch_testkit::require_jdks() {
        if jdk.feature < 25 || !jdk.has_tool("jfr") {
            hch_testkit::skip(&jdk, "jdk.CPUTimeSample exists from JDK 25 on");
            continue;
        }
        let rec = record_hotloop(
            &jdk,
            "cputime",
            3,
            ",jdk.CPUTimeSample#enabled=true,jdk.CPUTimeSample#throttle=2ms",
        );
        let ours = read_samples(&rec, &[SampleEvent::CpuTime]).unwrap();
        let expected = jdk_stacks(&jdk, &rec, "jdk.CPUTimeSample");
        assert!(!expected.is_empty(), "no CPUTimeSample on {}", jdk.label());
        assert_eq!(
            our_stacks(&ours.profile),
            expected,
            "CPU time stacks on {}",
            jdk.label()
        );
    }
}

/// `StackDepth::Host` gives what whole stacks cut after their first frame that is not inlined
/// give, with the same counts: checked on every public recording and on one made now.
#[test]
fn host_depth_stacks_are_whole_stacks_cut_at_the_host() {
    use hch_jfr::{samples_to_depth, SampleProfile, StackDepth};
    use std::collections::BTreeMap;
    type Cut = BTreeMap<(Vec<(String, String, i32, &'static str)>, bool), u64>;
    fn cut(p: &SampleProfile) -> Cut {
        let mut m = BTreeMap::new();
        for s in &p.stacks {
            let end = s
                .frames
                .iter()
                .position(|f| f.kind != hch_jfr::FrameKind::Inlined)
                .map_or(s.frames.len(), |i| i + 1);
            let frames = s.frames[..end]
                .iter()
                .map(|f| {
                    let m = &p.methods[f.method as usize];
                    (m.class.clone(), m.name.clone(), f.bci, f.kind.description())
                })
                .collect();
            *m.entry((frames, s.truncated)).or_insert(0) += s.samples;
        }
        m
    }
    let jdk = hch_testkit::require_jdks().into_iter().next().unwrap();
    let mut recs = grafana_recordings();
    recs.push(record_hotloop(&jdk, "host-depth", 2, ""));
    for rec in recs {
        let file = JfrFile::open(&rec).unwrap();
        let events = [SampleEvent::Execution, SampleEvent::NativeMethod];
        let full = samples_to_depth(&file, &events, StackDepth::Full).unwrap();
        let host = samples_to_depth(&file, &events, StackDepth::Host).unwrap();
        assert_eq!(full.profile.total_samples, host.profile.total_samples);
        assert_eq!(cut(&full.profile), cut(&host.profile), "{}", rec.display());
        assert_eq!(full.profile.facts, host.profile.facts);
    }
}
