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

/// Runs every entry point on bytes; the only requirement is: no panic, and a result.
fn exercise(bytes: Vec<u8>) {
    let file = JfrFile::from_bytes(bytes);
    let _ = summarize(&file);
    let _ = hch_jfr::samples_of(&file, &[SampleEvent::Execution, SampleEvent::NativeMethod]);
    let _ = hch_jfr::for_each_event(
        &file,
        &["jdk.ExecutionSample", "jdk.ActiveSetting"],
        |_, _, _| Ok(()),
    );
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
