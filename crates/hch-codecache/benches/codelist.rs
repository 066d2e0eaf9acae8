//! Benchmark: parse a 100,000-line `Compiler.codelist` built from a real JDK 25 capture.
//! Run with `cargo bench -p hch-codecache --bench codelist`.

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
}
