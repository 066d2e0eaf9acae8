//! Bad input never panics, hangs or over-allocates; errors name the chunk and the byte offset;
//! complete chunks still yield their data.

mod common;

use hch_jfr::{read_samples, summarize, Error, JfrFile, Problem, SampleEvent};

fn small_recordings() -> Vec<Vec<u8>> {
    let names = [
        "dump1.jfr",
        "example.jfr",
        "wall_tick_sample.jfr",
        "nativemem.jfr",
        "FastSlow_2024_01_16_180855.jfr",
    ];
    common::grafana_recordings()
        .into_iter()
        .filter(|p| names.iter().any(|n| p.ends_with(n)))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// Runs every entry point on bytes, chunks read whole and in 4 KiB windows; the only
/// requirement is: no panic, and a result.
fn exercise(bytes: Vec<u8>) {
    let whole = JfrFile::from_bytes(bytes.clone());
    let windowed = JfrFile::from_bytes(bytes).with_whole_chunk_limit(0);
    for file in [whole, windowed] {
        let _ = summarize(&file);
        let _ = hch_jfr::samples_of(&file, &[SampleEvent::Execution, SampleEvent::NativeMethod]);
        let _ = hch_jfr::for_each_event(
            &file,
            &["jdk.ExecutionSample", "jdk.ActiveSetting"],
            |_, _, _| Ok(()),
        );
    }
}

#[test]
fn mutated_real_recordings_never_panic() {
    let seed = std::env::var("HCH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e3779b97f4a7c15);
    let rounds: usize = std::env::var("HCH_FUZZ_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut rng = hch_testkit::Rng(seed);
    for base in small_recordings() {
        for _ in 0..rounds {
            let mut b = base.clone();
            match rng.below(5) {
                0 => {
                    for _ in 0..1 + rng.below(8) {
                        let i = rng.below(b.len());
                        b[i] ^= 1 << rng.below(8);
                    }
                }
                1 => b.truncate(rng.below(b.len())),
                2 => {
                    let i = rng.below(b.len());
                    let n = rng.below(16).min(b.len() - i);
                    for x in &mut b[i..i + n] {
                        *x = 0xff;
                    }
                }
                3 => {
                    // Corrupt a header field: sizes and offsets.
                    let field = 8 + 8 * rng.below(3);
                    let v = rng.next_u64().to_be_bytes();
                    b[field..field + 8].copy_from_slice(&v);
                }
                _ => {
                    let i = rng.below(b.len());
                    b.insert(i, rng.next_u64() as u8);
                }
            }
            exercise(b);
        }
    }
}

#[test]
fn garbage_and_empty_input_are_clear_errors() {
    for bytes in [
        vec![],
        b"not a recording".to_vec(),
        vec![0u8; 100],
        b"FLR\0\0\x02".to_vec(),
    ] {
        let r = hch_jfr::samples_of(
            &JfrFile::from_bytes(bytes.clone()),
            &[SampleEvent::Execution],
        );
        if bytes.is_empty() {
            assert_eq!(r.unwrap().profile.total_samples, 0);
            continue;
        }
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e}");
        assert!(e.to_string().contains("chunk 0 at byte"), "{e}");
    }
}

#[test]
fn a_file_cut_mid_chunk_keeps_the_complete_chunks() {
    let rec = common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with("FastSlow_2024_01_16_180855.jfr"))
        .unwrap();
    let bytes = std::fs::read(&rec).unwrap();
    let spans = JfrFile::from_bytes(bytes.clone()).chunk_spans().0;
    assert!(spans.len() >= 2);
    let full = read_samples(&rec, &[SampleEvent::Execution])
        .unwrap()
        .profile
        .total_samples;
    let first_only = hch_jfr::samples_of(
        &JfrFile::from_bytes(bytes[..spans[0].size as usize].to_vec()),
        &[SampleEvent::Execution],
    )
    .unwrap()
    .profile
    .total_samples;
    let cut_at = spans[1].start + 1000;
    let cut = hch_jfr::samples_of(
        &JfrFile::from_bytes(bytes[..cut_at as usize].to_vec()),
        &[SampleEvent::Execution],
    )
    .unwrap();
    assert_eq!(cut.profile.total_samples, first_only);
    assert!(first_only <= full);
    match cut.error {
        Some(Error::Format {
            location,
            problem: Problem::ChunkSize { .. },
        }) => {
            assert_eq!(location.chunk, 1);
            assert_eq!(
                location.offset,
                spans[1].start + 8,
                "the size field of chunk 1"
            );
        }
        other => panic!("expected a chunk size error, got {other:?}"),
    }
}

#[test]
fn a_chunk_still_being_written_is_named() {
    let rec = common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with("dump1.jfr"))
        .unwrap();
    let mut bytes = std::fs::read(&rec).unwrap();
    bytes[64] = 3; // generation byte: being written
    let e =
        hch_jfr::samples_of(&JfrFile::from_bytes(bytes), &[SampleEvent::Execution]).unwrap_err();
    assert!(e.to_string().contains("still being written"), "{e}");
}

#[test]
fn zero_record_size_and_forward_checkpoint_chain_are_errors() {
    let rec = common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with("dump1.jfr"))
        .unwrap();
    let good = std::fs::read(&rec).unwrap();
    let mut zero = good.clone();
    zero[68] = 0; // the first record's size
    let e = hch_jfr::samples_of(&JfrFile::from_bytes(zero), &[SampleEvent::Execution]).unwrap_err();
    assert!(e.to_string().contains("record size 0"), "{e}");
    assert!(e.to_string().contains("chunk 0 at byte 68"), "{e}");
    let mut raw = good;
    raw[67] &= !1; // compressed integers off
    let e = hch_jfr::samples_of(&JfrFile::from_bytes(raw), &[SampleEvent::Execution]).unwrap_err();
    assert!(e.to_string().contains("uncompressed integers"), "{e}");
}

/// A `par_fold` whose fold uses rayon itself (so a worker may take up another chunk while it
/// holds its accumulator) still visits every chunk once and does not deadlock.
#[test]
fn par_fold_with_a_fold_that_uses_rayon_visits_every_chunk() {
    let one = small_recordings().remove(1);
    let chunks = 64;
    let file = JfrFile::from_bytes(one.repeat(chunks));
    let (seen, found, folded, error) = file.par_fold(
        Vec::new,
        |acc: &mut Vec<usize>, c| {
            let (a, b) = rayon::join(|| c.events().count(), || c.records().count());
            assert!(a <= b);
            acc.push(c.index);
            Ok(())
        },
        |a, b| a.extend(b),
    );
    assert!(error.is_none());
    assert_eq!((found, folded), (chunks, chunks));
    let mut seen = seen;
    seen.sort_unstable();
    assert_eq!(seen, (0..chunks).collect::<Vec<_>>());
}

/// A recording of the public set, by file name.
fn recording(name: &str) -> std::path::PathBuf {
    common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap()
}

/// A file in the scratch directory with these bytes, then zeros (a hole) up to `len`.
fn sparse_file(name: &str, bytes: &[u8], len: u64) -> std::path::PathBuf {
    let p = hch_testkit::scratch_dir("bad-input").join(name);
    let f = std::fs::File::create(&p).unwrap();
    std::io::Write::write_all(&mut &f, bytes).unwrap();
    f.set_len(len).unwrap();
    p
}

/// The peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// A chunk header that declares 4 GiB, in a file of 300 KB or in a (sparse) file larger than
/// 4 GiB, is a clear error naming file, chunk and offset; nothing is allocated from it.
#[test]
fn a_header_declaring_4_gib_is_an_error_not_an_allocation() {
    let mut bytes = std::fs::read(recording("example.jfr")).unwrap();
    bytes[8..16].copy_from_slice(&(4u64 << 30).to_be_bytes());
    let len = bytes.len() as u64;
    for (name, file_len) in [
        ("4gib-small.jfr", len),
        ("4gib-sparse.jfr", (4 << 30) + 4096),
    ] {
        let p = sparse_file(name, &bytes, file_len);
        let e = read_samples(&p, &[SampleEvent::Execution]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(name), "{text}");
        assert!(text.contains("chunk 0 at byte 8"), "{text}");
        match e {
            Error::Format {
                problem: Problem::ChunkSize { size, remaining },
                ..
            } => assert_eq!((size, remaining), (4 << 30, file_len)),
            Error::Format {
                problem: Problem::ChunkTooLarge { size },
                ..
            } => assert_eq!((size, file_len), (4 << 30, (4 << 30) + 4096)),
            other => panic!("{other:?}"),
        }
        let (s, e) = summarize(&JfrFile::open(&p).unwrap());
        assert_eq!(s.chunks, 0);
        assert!(e.unwrap().to_string().contains("does not fit") || file_len > len);
        std::fs::remove_file(&p).unwrap();
    }
}

/// A real chunk grown to 2 GiB by an unknown record at its end (a hole on disk) reads like
/// the original, through windows: it does not take 2 GiB of memory.
#[test]
fn a_2_gib_chunk_is_read_in_windows_not_whole() {
    let original = recording("example.jfr");
    let mut bytes = std::fs::read(&original).unwrap();
    let spans = JfrFile::from_bytes(bytes.clone()).chunk_spans().0;
    assert_eq!(spans.len(), 1, "a one-chunk recording");
    let filler = (2u64 << 30) - bytes.len() as u64;
    let mut head = Vec::new();
    for mut v in [filler, 999_999] {
        while v >= 0x80 {
            head.push(v as u8 | 0x80);
            v >>= 7;
        }
        head.push(v as u8);
    }
    bytes[8..16].copy_from_slice(&(2u64 << 30).to_be_bytes());
    bytes.extend_from_slice(&head);
    let p = sparse_file("2gib-chunk.jfr", &bytes, 2 << 30);
    let events = [SampleEvent::Execution];
    let want = read_samples(&original, &events).unwrap();
    let got = read_samples(&p, &events).unwrap();
    assert!(got.error.is_none(), "{:?}", got.error);
    assert!(want.profile.total_samples > 0);
    assert_eq!(got.profile.total_samples, want.profile.total_samples);
    assert_eq!(got.profile.stacks, want.profile.stacks);
    assert_eq!(got.profile.methods, want.profile.methods);
    assert_eq!(got.profile.facts, want.profile.facts);
    let (s, e) = summarize(&JfrFile::open(&p).unwrap());
    assert!(e.is_none(), "{e:?}");
    let filler_stats = s
        .types
        .iter()
        .find(|t| t.name == "unknown(999999)")
        .unwrap();
    assert_eq!((filler_stats.count, filler_stats.bytes), (1, filler));
    let whole = JfrFile::open(&p).unwrap();
    let e = whole.for_each_chunk(|_| Ok(())).unwrap_err().to_string();
    assert!(
        e.contains("larger than the 67108864 bytes read whole"),
        "{e}"
    );
    assert!(peak_rss() < 1 << 30, "peak RSS {} bytes", peak_rss());
    std::fs::remove_file(&p).unwrap();
}

/// A multi-chunk file cut in its second chunk, read in windows, keeps the first chunk's
/// samples; the error names the file, the chunk and the offset of its size field.
#[test]
fn a_file_cut_mid_chunk_read_in_windows_keeps_the_complete_chunks() {
    let bytes = std::fs::read(recording("FastSlow_2024_01_16_180855.jfr")).unwrap();
    let spans = JfrFile::from_bytes(bytes.clone()).chunk_spans().0;
    let cut = &bytes[..spans[1].start as usize + 1000];
    let p = sparse_file("cut-windowed.jfr", cut, cut.len() as u64);
    let first = JfrFile::from_bytes(bytes[..spans[0].size as usize].to_vec());
    let events = [SampleEvent::Execution];
    let want = hch_jfr::samples_of(&first, &events).unwrap().profile;
    let file = JfrFile::open(&p).unwrap().with_whole_chunk_limit(0);
    let got = hch_jfr::samples_of(&file, &events).unwrap();
    assert_eq!(got.profile.total_samples, want.total_samples);
    assert_eq!(got.profile.stacks, want.stacks);
    assert_eq!(got.chunks, (1, 1));
    let e = got.error.unwrap().to_string();
    let at = format!("cut-windowed.jfr: chunk 1 at byte {}", spans[1].start + 8);
    assert!(e.contains(&at), "{e}");
    std::fs::remove_file(&p).unwrap();
}

/// A recording from a file the caller opened reads as one opened by path, named by its label.
#[test]
fn from_file_reads_an_open_file_under_its_label() {
    let p = recording("dump1.jfr");
    let by_path = read_samples(&p, &[SampleEvent::Execution]).unwrap().profile;
    let f = std::fs::File::open(&p).unwrap();
    let file = JfrFile::from_file(f, "label.jfr".into()).unwrap();
    assert_eq!(file.path(), Some(std::path::Path::new("label.jfr")));
    let opened = hch_jfr::samples_of(&file, &[SampleEvent::Execution])
        .unwrap()
        .profile;
    assert_eq!(opened.stacks, by_path.stacks);
    let mut bad = std::fs::read(&p).unwrap();
    bad[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
    let q = sparse_file("label-bad.jfr", &bad, bad.len() as u64);
    let file = JfrFile::from_file(std::fs::File::open(&q).unwrap(), "label.jfr".into()).unwrap();
    let e = hch_jfr::samples_of(&file, &[SampleEvent::Execution]).unwrap_err();
    assert!(
        e.to_string().starts_with("label.jfr: chunk 0 at byte 8"),
        "{e}"
    );
    std::fs::remove_file(&q).unwrap();
}
