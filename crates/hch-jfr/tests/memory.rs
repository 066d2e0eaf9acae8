//! One huge chunk (async-profiler's shape: metadata, events, then every constant pool at the
//! end) is read in bounded memory by every reader, with the same results as the chunk it was
//! grown from. Its own test binary, so that the process's peak memory is this test's.

mod common;

use std::io::Write;

use hch_jfr::{read_samples, summarize, JfrFile, SampleEvent};

/// How many times the events of the public async-profiler recording are repeated (~96 MB).
const COPIES: u64 = 30;

fn varint_len(b: &[u8]) -> usize {
    b.iter().position(|x| x & 0x80 == 0).unwrap() + 1
}

/// Writes one chunk made of `copies` times the events of a one-chunk recording `b` whose
/// metadata comes first and whose one checkpoint comes last; returns its path.
fn grow(b: &[u8], copies: u64) -> std::path::PathBuf {
    let be = |at: usize| u64::from_be_bytes(b[at..at + 8].try_into().unwrap());
    let (size, cp, md) = (be(8), be(16) as usize, be(24) as usize);
    assert_eq!(
        (size, md),
        (b.len() as u64, 68),
        "one chunk, metadata first"
    );
    let md_size = {
        let mut v = 0u64;
        for (i, x) in b[md..md + varint_len(&b[md..])].iter().enumerate() {
            v |= u64::from(x & 0x7f) << (7 * i);
        }
        v as usize
    };
    let events = &b[md + md_size..cp];
    let grown = (copies - 1) * events.len() as u64;
    let mut head = b[..68].to_vec();
    head[8..16].copy_from_slice(&(size + grown).to_be_bytes());
    head[16..24].copy_from_slice(&(cp as u64 + grown).to_be_bytes());
    let p = hch_testkit::scratch_dir("memory").join("one-huge-chunk.jfr");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    f.write_all(&head).unwrap();
    f.write_all(&b[68..md + md_size]).unwrap();
    for _ in 0..copies {
        f.write_all(events).unwrap();
    }
    f.write_all(&b[cp..]).unwrap();
    f.flush().unwrap();
    p
}

/// The peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn one_huge_chunk_is_read_in_bounded_memory_by_every_reader() {
    let original = common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with("async-profiler.jfr"))
        .unwrap();
    let huge = grow(&std::fs::read(&original).unwrap(), COPIES);
    let len = std::fs::metadata(&huge).unwrap().len();
    assert!(len > 90 << 20, "{len} bytes: over the 64 MiB read whole");
    let before = peak_rss();

    let events = [SampleEvent::Execution];
    let want = read_samples(&original, &events).unwrap().profile;
    let got = read_samples(&huge, &events).unwrap();
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.profile.total_samples, COPIES * want.total_samples);
    assert_eq!(got.profile.methods, want.methods);
    assert_eq!(got.profile.stacks.len(), want.stacks.len());
    for (g, w) in got.profile.stacks.iter().zip(&want.stacks) {
        assert_eq!((&g.frames, g.samples), (&w.frames, COPIES * w.samples));
    }
    assert_eq!(got.profile.facts, want.facts);

    let (s, e) = summarize(&JfrFile::open(&huge).unwrap());
    assert!(e.is_none(), "{e:?}");
    let samples = s.types.iter().find(|t| t.name == "jdk.ExecutionSample");
    assert_eq!(samples.unwrap().count, COPIES * want.total_samples);

    let file = JfrFile::open(&huge).unwrap();
    let mut seen = 0;
    hch_jfr::for_each_event(
        &file,
        &["jdk.NoSuchEvent", "jdk.ActiveSetting"],
        |_, _, _| {
            seen += 1;
            Ok(())
        },
    )
    .unwrap();
    let mut settings = 0u64;
    let small = JfrFile::open(&original).unwrap();
    hch_jfr::for_each_event(&small, &["jdk.ActiveSetting"], |_, _, _| {
        settings += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen,
        COPIES * settings,
        "the settings are among the repeated events"
    );

    let grew = peak_rss().saturating_sub(before);
    assert!(
        grew < 40 << 20,
        "reading a {len}-byte chunk took {grew} more bytes"
    );
    std::fs::remove_file(&huge).unwrap();
}
