//! Times attach round trips inside one process, without process start-up: connect, send one
//! diagnostic command, read the whole reply.
//!
//! ```sh
//! cargo run --release -p hch-attach --example round_trip -- PID [COMMAND] [N]
//! ```

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pid: u32 = args
        .first()
        .ok_or("usage: round_trip PID [COMMAND] [N]")?
        .parse()?;
    let command = args.get(1).map_or("Compiler.codecache", String::as_str);
    let n: u32 = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let mut vm = hch_attach::Vm::open(pid, &hch_attach::Options::default())?;
    vm.jcmd(command)?; // starts the listener if needed
    let mut times: Vec<f64> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = Instant::now();
        let reply = vm.jcmd(command)?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
        assert!(!reply.failed(), "{}", reply.text());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!("{n} round trips of `{command}` to JVM {pid}: median {median:.0} µs, mean {mean:.0} µs, min {:.0} µs", times[0]);
    Ok(())
}
