//! Java's modified UTF-8 (`DataOutput.writeUTF`): NUL as `C0 80`, characters outside the BMP
//! as two 3-byte surrogates. Invalid input decodes leniently (U+FFFD) instead of failing.

/// Encodes a Rust string as modified UTF-8.
pub fn encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        let c = u32::from(unit);
        match c {
            1..=0x7f => out.push(c as u8),
            0 | 0x80..=0x7ff => out.extend([0xc0 | (c >> 6) as u8, 0x80 | (c & 0x3f) as u8]),
            _ => out.extend([
                0xe0 | (c >> 12) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]),
        }
    }
    out
}

/// Decodes modified UTF-8; malformed sequences become U+FFFD.
pub fn decode(bytes: &[u8]) -> String {
    if bytes.iter().all(|&b| b != 0 && b < 0x80) {
        // The common case: plain ASCII needs no unit juggling.
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut units = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let (unit, len) = decode_unit(&bytes[i..]);
        units.push(unit);
        i += len;
    }
    String::from_utf16_lossy(&units)
}

// One UTF-16 unit from the front of `b` and how many bytes it took (never 0).
fn decode_unit(b: &[u8]) -> (u16, usize) {
    let cont = |i: usize| {
        b.get(i)
            .filter(|&&x| x & 0xc0 == 0x80)
            .map(|&x| u16::from(x & 0x3f))
    };
    match b[0] {
        x if x < 0x80 => (u16::from(x), 1),
        x if x & 0xe0 == 0xc0 => match cont(1) {
            Some(c1) => ((u16::from(x & 0x1f) << 6) | c1, 2),
            None => (0xfffd, 1),
        },
        x if x & 0xf0 == 0xe0 => match (cont(1), cont(2)) {
            (Some(c1), Some(c2)) => ((u16::from(x & 0x0f) << 12) | (c1 << 6) | c2, 3),
            _ => (0xfffd, 1),
        },
        _ => (0xfffd, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nul_bmp_and_supplementary() {
        for s in ["", "jmxrmi", "a\0b", "é€", "x😀y"] {
            assert_eq!(decode(&encode(s)), s);
        }
        assert_eq!(encode("\0"), [0xc0, 0x80]);
        assert_eq!(encode("😀").len(), 6);
    }

    #[test]
    fn bad_bytes_do_not_panic() {
        assert_eq!(decode(&[0xe0, 0x80]), "\u{fffd}\u{fffd}");
        assert_eq!(decode(&[0xff]), "\u{fffd}");
    }
}
