//! Makes a LogCompilation file of about BYTES by repeating a real one: its `<tty>` section and
//! its compiler threads' logs are each written again and again with compile ids and stamps
//! shifted past the previous copy, so the result reads as one long run of the same JVM.
//!
//!   cargo run --release -p hch-jit --example synth_logcompilation -- BASE.xml OUT.xml BYTES

use std::io::Write;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, out, bytes] = &args[..] else {
        eprintln!("usage: synth_logcompilation BASE.xml OUT.xml BYTES");
        std::process::exit(2);
    };
    let want: u64 = bytes.parse().expect("BYTES is a number");
    let text = std::fs::read(base)?;
    let at = |needle: &str, from: usize| {
        from + memchr::memmem::find(&text[from..], needle.as_bytes())
            .unwrap_or_else(|| panic!("{base}: no {needle}"))
    };
    let tty = at("<tty>", 0) + "<tty>\n".len();
    let tty_done = at("<tty_done", tty);
    let logs = at("</tty>", tty_done) + "</tty>\n".len();
    let done = at("<hotspot_log_done", logs);
    let (max_id, max_stamp) = maxima(&text);
    let per_copy = (tty_done - tty + done - logs) as u64;
    let fixed = text.len() as u64 - per_copy;
    let copies = want.saturating_sub(fixed).div_ceil(per_copy.max(1)).max(1);
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    w.write_all(&text[..tty])?;
    let shift = |k: u64| (k * (max_id + 1), k as f64 * max_stamp);
    for k in 0..copies {
        rewrite(&mut w, &text[tty..tty_done], shift(k))?;
    }
    rewrite(&mut w, &text[tty_done..logs], shift(copies - 1))?;
    for k in 0..copies {
        rewrite(&mut w, &text[logs..done], shift(k))?;
    }
    rewrite(&mut w, &text[done..], shift(copies - 1))?;
    w.flush()?;
    eprintln!(
        "{out}: {copies} copies of {base} ({} compile ids each)",
        max_id + 1
    );
    Ok(())
}

/// The largest compile id and stamp of the file.
fn maxima(text: &[u8]) -> (u64, f64) {
    let (mut id, mut stamp) = (0u64, 0f64);
    for (key, v) in attrs(text) {
        match key {
            Key::Id => id = id.max(v.parse().unwrap_or(0)),
            Key::Stamp => stamp = stamp.max(v.parse().unwrap_or(0.0)),
        }
    }
    (id, stamp)
}

#[derive(Clone, Copy)]
enum Key {
    Id,
    Stamp,
}

/// Every `compile_id='N'` and `stamp='S'` value, in order.
fn attrs(text: &[u8]) -> impl Iterator<Item = (Key, &str)> {
    let ids = memchr::memmem::find_iter(text, b" compile_id='").map(|i| (i + 13, Key::Id));
    let stamps = memchr::memmem::find_iter(text, b" stamp='").map(|i| (i + 8, Key::Stamp));
    ids.chain(stamps).filter_map(move |(start, key)| {
        let len = memchr::memchr(b'\'', &text[start..])?;
        Some((key, std::str::from_utf8(&text[start..start + len]).ok()?))
    })
}

/// Copies `part` with compile ids and stamps shifted.
fn rewrite(
    w: &mut impl Write,
    part: &[u8],
    (id_shift, stamp_shift): (u64, f64),
) -> std::io::Result<()> {
    let mut spots: Vec<(usize, usize, Key)> = Vec::new();
    for (pat, key) in [
        (&b" compile_id='"[..], Key::Id),
        (&b" stamp='"[..], Key::Stamp),
    ] {
        for i in memchr::memmem::find_iter(part, pat) {
            let start = i + pat.len();
            if let Some(len) = memchr::memchr(b'\'', &part[start..]) {
                spots.push((start, start + len, key));
            }
        }
    }
    spots.sort_by_key(|s| s.0);
    let mut from = 0;
    for (start, end, key) in spots {
        w.write_all(&part[from..start])?;
        let v = std::str::from_utf8(&part[start..end]).unwrap_or("0");
        match key {
            Key::Id => write!(w, "{}", v.parse::<u64>().unwrap_or(0) + id_shift)?,
            Key::Stamp => write!(w, "{:.3}", v.parse::<f64>().unwrap_or(0.0) + stamp_shift)?,
        }
        from = end;
    }
    w.write_all(&part[from..])
}
