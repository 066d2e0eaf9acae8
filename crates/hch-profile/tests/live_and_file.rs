//! The design's two producing functions agree: directives from a recording file and from the
//! same recording's bytes (as a live target hands them back) are the same, on every JDK found.
//! The recording is made by a real JVM running the demo workload.

use hch_profile::{from_live_recording, from_recordings, AnalyzeOptions, Dialect};
use hch_testkit::{require_jdks, scratch_dir, Jvm, Launch};

#[test]
fn file_and_live_bytes_give_the_same_results() {
    for jdk in require_jdks() {
        let rec = scratch_dir("profile-live").join(format!("rec-jdk{}.jfr", jdk.feature));
        let _ = std::fs::remove_file(&rec);
        let opts = [
            format!(
                "-XX:StartFlightRecording=settings=profile,duration=3s,filename={}",
                rec.display()
            ),
            "-XX:+UnlockDiagnosticVMOptions".into(),
            "-XX:+DebugNonSafepoints".into(),
        ];
        let mut jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "2"]).jvm(opts));
        jvm.wait_for_file(&rec);
        drop(jvm);

        let opts = AnalyzeOptions {
            dialect: Dialect::Stock,
            ..Default::default()
        };
        let file = from_recordings(std::slice::from_ref(&rec), &opts).unwrap();
        let live = from_live_recording(std::fs::read(&rec).unwrap(), &rec, &opts).unwrap();
        assert!(file.error.is_none() && live.error.is_none());
        assert!(file.flat.total_samples > 0, "{}: no samples", jdk.label());
        assert_eq!(file.flat, live.flat, "{}", jdk.label());
        assert_eq!(file.hot, live.hot, "{}", jdk.label());
        assert_eq!(file.directives, live.directives, "{}", jdk.label());
        assert!(
            file.warnings.is_empty(),
            "{}: {:?}",
            jdk.label(),
            file.warnings
        );
        let hot = &file.hot.blobs[..file.hot.blobs.len().min(10)];
        assert!(
            hot.iter().any(|b| b.method.class.starts_with("HotLoop")),
            "{}: {hot:?}",
            jdk.label()
        );
    }
}
