//! Prints the top frames of the CPU samples of recordings: the reader's benchmark workload.
//! Usage: cargo run --release -p hch-jfr --example flat -- FILE... [--threads N] [--full]
//! (`--full` resolves whole stacks instead of leaf to host, to measure what that costs).

use std::collections::HashMap;

fn main() {
    let mut files = Vec::new();
    let mut depth = hch_jfr::StackDepth::Host;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--threads" {
            let n: usize = args
                .next()
                .and_then(|s| s.parse().ok())
                .expect("--threads N");
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .expect("thread pool");
        } else if a == "--full" {
            depth = hch_jfr::StackDepth::Full;
        } else {
            files.push(a);
        }
    }
    let mut top: HashMap<String, u64> = HashMap::new();
    let mut total = 0;
    for f in &files {
        let events = [hch_jfr::SampleEvent::Execution];
        let file = hch_jfr::JfrFile::open(f.as_ref());
        let read = match file.and_then(|file| hch_jfr::samples_to_depth(&file, &events, depth)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(5);
            }
        };
        if let Some(e) = &read.error {
            eprintln!("warning: {e}");
        }
        let p = &read.profile;
        total += p.total_samples;
        for s in &p.stacks {
            if let Some(f) = s.frames.first() {
                let m = &p.methods[f.method as usize];
                *top.entry(format!("{}.{}", m.class.replace('/', "."), m.name))
                    .or_default() += s.samples;
            }
        }
    }
    let mut v: Vec<_> = top.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("total samples: {total}");
    for (name, n) in v.iter().take(10) {
        println!(
            "{n:>10}  {:6.2}%  {name}",
            *n as f64 * 100.0 / total.max(1) as f64
        );
    }
}
