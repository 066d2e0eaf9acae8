//! Input files of `hch analyze` and `hch jfr`: an empty file exits 5, a FIFO is read once and
//! does not hang, a character device is refused, `-` reads stdin (a pipe or a redirected
//! file), and a gzip-compressed recording (told by its bytes) reads as the plain one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of hch left: exit code, stdout, stderr.
struct Run {
    code: Option<i32>,
    out: String,
    err: String,
}

/// Runs hch with `args` and this stdin, failing the test if it takes more than 60 s.
fn hch(args: &[&str], stdin: Stdio) -> Run {
    let dir = hch_testkit::scratch_dir("analyze-inputs");
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (out, err) = (dir.join(format!("{n}.out")), dir.join(format!("{n}.err")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .stdin(stdin)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    drop(child.stdin.take()); // a piped stdin gets no bytes: end it
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hch {args:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code(),
        out: std::fs::read_to_string(&out).unwrap(),
        err: std::fs::read_to_string(&err).unwrap(),
    };
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(err);
    run
}

/// A public recording, gzip-compressed as shipped.
fn gz(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hch-jfr/tests/data/grafana")
        .join(format!("{name}.jfr.gz"))
}

/// The same recording decompressed into the scratch directory.
fn plain(name: &str) -> PathBuf {
    let p = hch_testkit::scratch_dir("analyze-inputs").join(format!("{name}.jfr"));
    if !p.exists() {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(gz(name)).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
    }
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The output of a command on the plain recording, which every other way of giving it must match.
fn expected(args: &[&str], file: &Path) -> String {
    let mut all = args.to_vec();
    all.push(s(file));
    let r = hch(&all, Stdio::null());
    assert_eq!(r.code, Some(0), "{}", r.err);
    assert!(r.out.contains("Total samples"), "{}", r.out);
    r.out
}

#[test]
fn an_empty_file_exits_5() {
    let p = hch_testkit::scratch_dir("analyze-inputs").join("empty.jfr");
    std::fs::write(&p, b"").unwrap();
    for args in [
        &["analyze", s(&p)][..],
        &["jfr", "summary", s(&p)],
        &["jfr", "print", "--events", "jdk.ExecutionSample", s(&p)],
    ] {
        let r = hch(args, Stdio::null());
        assert_eq!(r.code, Some(5), "{args:?}: {}", r.err);
        assert!(r.err.contains("empty.jfr: empty"), "{}", r.err);
        assert!(!r.out.contains("0 samples"), "{}", r.out);
    }
    // An empty stream too.
    let r = hch(&["analyze", "-"], Stdio::piped());
    assert_eq!(r.code, Some(5), "{}", r.err);
}

#[test]
fn a_fifo_is_read_once_and_does_not_hang() {
    let rec = plain("example");
    let want = expected(&["analyze", "--flat", "5"], &rec);
    let fifo =
        hch_testkit::scratch_dir("analyze-inputs").join(format!("in-{}.fifo", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (f, r) = (fifo.clone(), rec.clone());
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        w.write_all(&std::fs::read(&r).unwrap()).unwrap();
    });
    let got = hch(&["analyze", "--flat", "5", s(&fifo)], Stdio::null());
    writer.join().unwrap();
    std::fs::remove_file(&fifo).unwrap();
    assert_eq!(got.code, Some(0), "{}", got.err);
    assert_eq!(got.out, want);
}

#[test]
fn a_character_device_is_refused() {
    for args in [
        &["analyze", "/dev/zero"][..],
        &["jfr", "summary", "/dev/zero"],
    ] {
        let r = hch(args, Stdio::null());
        assert_eq!(r.code, Some(5), "{args:?}: {}", r.err);
        assert!(
            r.err.contains("/dev/zero: is a character device"),
            "{}",
            r.err
        );
    }
    let r = hch(
        &["analyze", "-"],
        Stdio::from(std::fs::File::open("/dev/zero").unwrap()),
    );
    assert_eq!(r.code, Some(5), "{}", r.err);
    assert!(r.err.contains("character device"), "{}", r.err);
}

#[test]
fn dash_reads_stdin_from_a_pipe_or_a_redirected_file() {
    let rec = plain("example");
    let want = expected(&["analyze", "--flat", "5"], &rec);
    let redirected = hch(
        &["analyze", "--flat", "5", "-"],
        Stdio::from(std::fs::File::open(&rec).unwrap()),
    );
    assert_eq!(redirected.code, Some(0), "{}", redirected.err);
    assert_eq!(redirected.out, want);
    // A pipe: `cat example.jfr | hch analyze -`.
    let mut cat = Command::new("cat")
        .arg(&rec)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let piped = hch(
        &["analyze", "--flat", "5", "-"],
        Stdio::from(cat.stdout.take().unwrap()),
    );
    cat.wait().unwrap();
    assert_eq!(piped.code, Some(0), "{}", piped.err);
    assert_eq!(piped.out, want);
}

#[test]
fn a_gzip_recording_reads_as_the_plain_one() {
    let (z, rec) = (
        gz("FastSlow_2024_01_16_180855"),
        plain("FastSlow_2024_01_16_180855"),
    );
    let want = expected(&["analyze", "--flat", "10"], &rec);
    let got = hch(&["analyze", "--flat", "10", s(&z)], Stdio::null());
    assert_eq!(got.code, Some(0), "{}", got.err);
    assert_eq!(got.out, want);
    // Told by its bytes, not its name; through stdin too.
    let renamed = hch_testkit::scratch_dir("analyze-inputs").join("compressed.jfr");
    std::fs::copy(&z, &renamed).unwrap();
    let got = hch(&["analyze", "--flat", "10", s(&renamed)], Stdio::null());
    assert_eq!(got.out, want, "{}", got.err);
    let got = hch(
        &["analyze", "--flat", "10", "-"],
        Stdio::from(std::fs::File::open(&z).unwrap()),
    );
    assert_eq!(got.out, want, "{}", got.err);
    // `jfr summary` and `jfr print` alike (the summary names the file it was given).
    let sum = |p: &Path| {
        let r = hch(&["jfr", "summary", s(p)], Stdio::null());
        assert_eq!(r.code, Some(0), "{}", r.err);
        r.out.replace(s(p), "FILE")
    };
    assert_eq!(sum(&z), sum(&rec));
    let print = |p: &Path| {
        hch(
            &["jfr", "print", "--events", "jdk.ActiveSetting", s(p)],
            Stdio::null(),
        )
        .out
    };
    assert!(print(&rec).lines().count() > 10);
    assert_eq!(print(&z), print(&rec));
}

#[test]
fn corrupt_gzip_and_gzip_of_nothing_exit_5() {
    let dir = hch_testkit::scratch_dir("analyze-inputs");
    let bytes = std::fs::read(gz("example")).unwrap();
    let corrupt = dir.join("corrupt.jfr.gz");
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).unwrap();
    let r = hch(&["analyze", s(&corrupt)], Stdio::null());
    assert_eq!(r.code, Some(5), "{}", r.err);
    assert!(
        r.err.contains("corrupt.jfr.gz: not valid gzip data"),
        "{}",
        r.err
    );
    let nothing = dir.join("nothing.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"").unwrap();
    std::fs::write(&nothing, enc.finish().unwrap()).unwrap();
    let r = hch(&["analyze", s(&nothing)], Stdio::null());
    assert_eq!(r.code, Some(5), "{}", r.err);
    assert!(r.err.contains("empty once decompressed"), "{}", r.err);
}
