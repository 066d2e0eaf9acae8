//! hch-jmx doing what `scripts/JmxBench.java` does with the JDK's client, for
//! `scripts/bench_jmx.sh`: a `Compiler.codecache` round trip, and streaming a JFR snapshot back.
//!
//! Usage: `jmx_bench HOST PORT CALLS STREAMS`

use std::time::Instant;

use hch_jmx::{Arg, Client, ConnectOptions, FLIGHT_RECORDER};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, host, port, calls, streams] = &a[..] else {
        return Err("usage: jmx_bench HOST PORT CALLS STREAMS".into());
    };
    let (calls, streams): (usize, usize) = (calls.parse()?, streams.parse()?);
    let t0 = Instant::now();
    let mut c = Client::connect(host, port.parse()?, &ConnectOptions::default())?;
    println!("hch connect_ms={:.1}", t0.elapsed().as_secs_f64() * 1e3);
    for _ in 0..50 {
        c.diagnostic_command("compilerCodecache", &[])?;
    }
    let mut t: Vec<f64> = (0..calls)
        .map(|_| {
            let s = Instant::now();
            c.diagnostic_command("compilerCodecache", &[])
                .map(|_| s.elapsed().as_secs_f64() * 1e6)
        })
        .collect::<Result<_, _>>()?;
    t.sort_by(f64::total_cmp);
    println!(
        "hch codecache_us median={:.0} p90={:.0}",
        t[calls / 2],
        t[calls * 9 / 10]
    );
    for _ in 0..streams {
        stream_snapshot(&mut c)?;
    }
    c.close();
    Ok(())
}

// takeSnapshot, then the timed part: openStream, readStream until null, closeStream.
fn stream_snapshot(c: &mut Client) -> Result<(), Box<dyn std::error::Error>> {
    let (g, v) = c.invoke(FLIGHT_RECORDER, "takeSnapshot", &[], &[])?;
    let id = g.long(v).ok_or("takeSnapshot: no id")?;
    let s = Instant::now();
    let sig = ["long", "javax.management.openmbean.TabularData"];
    let (g, v) = c.invoke(
        FLIGHT_RECORDER,
        "openStream",
        &[Arg::Long(id), Arg::Null],
        &sig,
    )?;
    let sid = g.long(v).ok_or("openStream: no id")?;
    let mut bytes = 0;
    loop {
        let (g, v) = c.invoke(FLIGHT_RECORDER, "readStream", &[Arg::Long(sid)], &["long"])?;
        match g.bytes(v) {
            Some(b) => bytes += b.len(),
            None => break,
        }
    }
    c.invoke(FLIGHT_RECORDER, "closeStream", &[Arg::Long(sid)], &["long"])?;
    let secs = s.elapsed().as_secs_f64();
    c.invoke(
        FLIGHT_RECORDER,
        "closeRecording",
        &[Arg::Long(id)],
        &["long"],
    )?;
    println!(
        "hch stream bytes={bytes} secs={secs:.3} MB/s={:.1}",
        bytes as f64 / secs / 1e6
    );
    Ok(())
}
