//! Benchmark: parse a 100,000-line `Compiler.codelist` built from a real JDK 25 capture.
//! Run with `cargo bench -p hch-codecache --bench codelist`. Also times the heap analytics
//! parser on a real 200 KB report and writes the codelist to `target/hch-bench/` for peers.

use std::time::Instant;

/// Repeats the captured lines with fresh compile ids and addresses up to `n` lines.
fn synthetic(n: usize) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/jdk25_Compiler.codelist.txt"
    );
    let text = std::fs::read_to_string(path).expect("captured codelist");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(" [0x")).collect();
    let mut out = String::from("16466:\n");
    for i in 0..n {
        let line = lines[i % lines.len()];
        let (_, rest) = line.split_once(' ').unwrap();
        let (head, _) = rest.rsplit_once(" [").unwrap();
        let base = 0x7f00_0000_0000u64 + i as u64 * 0x400;
        out.push_str(&format!(
            "{} {head} [{base:#018x}, {:#018x} - {:#018x}]\n",
            i + 1,
            base + 0xf8,
            base + 0x3c0
        ));
    }
    out
}

fn main() {
    let text = synthetic(100_000);
    let mut best = f64::MAX;
    for _ in 0..10 {
        let t = Instant::now();
        let list = hch_codecache::codelist::parse(&text).expect("parses");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(list.entries.len(), 100_000);
        best = best.min(ms);
    }
    let mb = text.len() as f64 / 1e6;
    println!(
        "codelist: 100000 lines, {mb:.1} MB, best of 10: {best:.1} ms ({:.0} MB/s)",
        mb / (best / 1e3)
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/hch-bench");
    if std::fs::create_dir_all(dir).is_ok() {
        let _ = std::fs::write(format!("{dir}/codelist-100k.txt"), &text);
    }
    analytics();
}

/// The CodeHeap_Analytics parser on the captured JDK 17 `all` report.
fn analytics() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/jdk17_Compiler.CodeHeap_Analytics_default.txt"
    );
    let text = std::fs::read_to_string(path).expect("captured analytics");
    let mut best = f64::MAX;
    for _ in 0..10 {
        let t = Instant::now();
        let a = hch_codecache::analytics::parse(&text).expect("parses");
        assert_eq!(a.heaps.len(), 3);
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    let mb = text.len() as f64 / 1e6;
    println!(
        "CodeHeap_Analytics: {mb:.2} MB report, best of 10: {best:.2} ms ({:.0} MB/s)",
        mb / (best / 1e3)
    );
}
