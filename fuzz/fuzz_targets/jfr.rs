//! Fuzzes every entry point of the JFR reader with arbitrary bytes: no panic, no hang, no
//! allocation sized by the input. Seed it with real recordings (see scripts/fuzz_jfr.sh).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Chunks read whole, and read in 4 KiB windows as chunks over the whole-chunk limit are.
    let whole = hch_jfr::JfrFile::from_bytes(data.to_vec());
    let windowed = hch_jfr::JfrFile::from_bytes(data.to_vec()).with_whole_chunk_limit(0);
    for file in [whole, windowed] {
        let _ = hch_jfr::summarize(&file);
        let events = [hch_jfr::SampleEvent::Execution, hch_jfr::SampleEvent::CpuTime];
        let _ = hch_jfr::samples_of(&file, &events);
        let _ = hch_jfr::samples_to_depth(&file, &events, hch_jfr::StackDepth::Host);
        let _ = hch_jfr::for_each_event(&file, &["jdk.ActiveSetting", "jdk.JVMInformation", "jdk.BooleanFlag"], |_, _, _| Ok(()));
    }
});
