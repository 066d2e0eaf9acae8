//! Chunks read in windows (as chunks over the whole-chunk limit are) give exactly what chunks
//! read whole give: samples, summaries and printed events, on every public recording, with
//! windows from 4 KiB (every constant and record crosses window ends) to larger than a chunk.

mod common;

use std::path::Path;

use hch_jfr::{summarize, JfrFile, SampleEvent, StackDepth};

/// What every reader makes of a file, as text to compare (events printed only if `print`).
fn everything(file: &JfrFile, print: bool) -> Vec<String> {
    let events = [SampleEvent::Execution, SampleEvent::NativeMethod];
    let mut out = Vec::new();
    for depth in [StackDepth::Full, StackDepth::Host] {
        match hch_jfr::samples_to_depth(file, &events, depth) {
            Ok(r) => out.push(format!(
                "{} {:?} {:?}",
                serde_json::to_string(&r.profile).unwrap(),
                r.chunks,
                r.error.map(|e| e.to_string())
            )),
            Err(e) => out.push(format!("error {e}")),
        }
    }
    let (s, e) = summarize(file);
    out.push(format!(
        "{} {:?}",
        serde_json::to_string(&s).unwrap(),
        e.map(|e| e.to_string())
    ));
    if !print {
        return out;
    }
    let names = [
        "jdk.ExecutionSample",
        "jdk.ActiveSetting",
        "jdk.JVMInformation",
        "jdk.ObjectAllocationSample",
        "jdk.ThreadPark",
        "profiler.Log",
    ];
    // Enough events to cross many windows; all of them would take minutes unoptimized.
    let mut printed = 0;
    let r = hch_jfr::for_each_event(file, &names, |chunk, name, v| {
        out.push(format!("{chunk} {name} {v}"));
        printed += 1;
        if printed == 2000 {
            return Err(hch_jfr::Error::Io {
                path: "stop".into(),
                message: "enough".into(),
            });
        }
        Ok(())
    });
    out.push(format!("{:?}", r.map_err(|e| e.to_string())));
    out
}

fn compare(path: &Path, limit: u64) {
    // Unoptimized, printing the events of the larger files takes most of a minute.
    let print = std::fs::metadata(path).unwrap().len() < 2_000_000;
    let whole = everything(&JfrFile::open(path).unwrap(), print);
    let windowed = everything(
        &JfrFile::open(path).unwrap().with_whole_chunk_limit(limit),
        print,
    );
    assert_eq!(whole.len(), windowed.len(), "{}", path.display());
    for (w, v) in whole.iter().zip(&windowed) {
        assert!(
            w == v,
            "{} with windows (limit {limit}) differs:\n whole: {:.600}\n windowed: {:.600}",
            path.display(),
            w,
            v
        );
    }
}

#[test]
fn windowed_reads_equal_whole_reads_on_every_public_recording() {
    for p in common::grafana_recordings() {
        compare(&p, 0);
        // Windows of 100 KB too, on the smaller files (unoptimized tests are slow).
        if std::fs::metadata(&p).unwrap().len() < 500_000 {
            compare(&p, 100_000);
        }
    }
}

#[test]
fn in_memory_bytes_read_in_windows_too() {
    let p = common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with("FastSlow_2024_01_16_180855.jfr"))
        .unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let whole = everything(&JfrFile::from_bytes(bytes.clone()), true);
    let windowed = everything(&JfrFile::from_bytes(bytes).with_whole_chunk_limit(0), true);
    assert_eq!(whole, windowed);
}

/// The APIs that lend whole chunks refuse a chunk over the limit, naming chunk and offset.
#[test]
fn whole_chunk_apis_refuse_chunks_over_the_limit() {
    let p = common::grafana_recordings()
        .into_iter()
        .find(|p| p.ends_with("dump1.jfr"))
        .unwrap();
    let file = JfrFile::open(&p).unwrap().with_whole_chunk_limit(1000);
    let e = file.for_each_chunk(|_| Ok(())).unwrap_err().to_string();
    assert!(e.contains("chunk 0 at byte 8"), "{e}");
    assert!(e.contains("larger than the 1000 bytes read whole"), "{e}");
    assert!(e.contains("dump1.jfr"), "{e}");
}
