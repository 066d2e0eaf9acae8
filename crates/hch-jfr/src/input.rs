//! A bounds-checked cursor over a chunk's bytes: varints, fixed-width values and strings.

use std::borrow::Cow;

use crate::error::{Problem, RawError, RawResult};

/// A cursor over a byte slice. Offsets are relative to the slice (the chunk).
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A string value as stored, borrowed where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JfrStr<'a> {
    /// Encoding 0.
    Null,
    /// Encoding 1, or a zero-length array.
    Empty,
    /// Encoding 2: a key into the `java.lang.String` constant pool.
    PoolRef(u64),
    /// Encodings 3 (UTF-8), 4 (UTF-16 chars as varints, decoded) and 5 (Latin-1, decoded).
    Text(Cow<'a, str>),
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn err(&self, problem: Problem) -> RawError {
        RawError::new(self.pos as u64, problem)
    }

    fn truncated(&self, needed: usize) -> RawError {
        self.err(Problem::Truncated {
            needed: (needed - self.remaining()) as u64,
        })
    }

    /// Takes `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> RawResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated(n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self) -> RawResult<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub(crate) fn be_u16(&mut self) -> RawResult<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn be_u32(&mut self) -> RawResult<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn be_u64(&mut self) -> RawResult<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// An unsigned LEB128 varint of at most 9 bytes; the 9th byte carries a full 8 bits.
    /// Padded (non-minimal) encodings are legal and accepted.
    #[inline]
    pub(crate) fn varint(&mut self) -> RawResult<u64> {
        let buf = self.buf;
        let mut pos = self.pos;
        let mut value = 0u64;
        for shift in (0..56).step_by(7) {
            let Some(&b) = buf.get(pos) else {
                return Err(self.truncated(pos - self.pos + 1));
            };
            pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                self.pos = pos;
                return Ok(value);
            }
        }
        let Some(&b) = buf.get(pos) else {
            return Err(self.truncated(pos - self.pos + 1));
        };
        self.pos = pos + 1;
        Ok(value | (u64::from(b) << 56))
    }

    /// Skips one varint without decoding it.
    #[inline]
    pub(crate) fn skip_varint(&mut self) -> RawResult<()> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        for (i, &b) in rest.iter().take(8).enumerate() {
            if b & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(());
            }
        }
        if rest.len() < 9 {
            return Err(self.truncated(rest.len() + 1));
        }
        self.pos += 9;
        Ok(())
    }

    /// Skips `n` varints in a row: counts the bytes that end a varint, minding the 9-byte form.
    #[inline]
    pub(crate) fn skip_varints(&mut self, n: usize) -> RawResult<()> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let (mut i, mut left, mut run) = (0usize, n, 0usize);
        // Eight bytes at a time: the bytes without the continuation bit each end one varint.
        // A run of eight continuation bytes may be a 9-byte varint: the exact loop takes over.
        while left >= 8 {
            let Some(word) = rest.get(i..i + 8) else {
                break;
            };
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let ends = !u64::from_le_bytes(w) & 0x8080_8080_8080_8080;
            if ends == 0 || run + (ends.trailing_zeros() / 8) as usize >= 8 {
                break;
            }
            left -= ends.count_ones() as usize;
            run = (ends.leading_zeros() / 8) as usize;
            i += 8;
        }
        while left > 0 {
            let Some(&b) = rest.get(i) else {
                return Err(self.truncated(i + 1));
            };
            i += 1;
            run += 1;
            // A byte without the continuation bit, or the 9th byte, ends a varint.
            if b & 0x80 == 0 || run == 9 {
                left -= 1;
                run = 0;
            }
        }
        self.pos += i;
        Ok(())
    }

    /// A varint used as a length or count: it must fit in what remains, `min_size` bytes each.
    pub(crate) fn length(&mut self, min_size: usize) -> RawResult<usize> {
        let at = self.pos;
        let len = self.varint()?;
        let remaining = self.remaining() as u64;
        if len.saturating_mul(min_size.max(1) as u64) > remaining {
            return Err(RawError::new(at as u64, Problem::Length { len, remaining }));
        }
        Ok(len as usize)
    }

    pub(crate) fn f32(&mut self) -> RawResult<f32> {
        Ok(f32::from_bits(self.be_u32()?))
    }

    pub(crate) fn f64(&mut self) -> RawResult<f64> {
        Ok(f64::from_bits(self.be_u64()?))
    }

    /// A string value with its encoding byte.
    pub(crate) fn string(&mut self) -> RawResult<JfrStr<'a>> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(JfrStr::Null),
            1 => Ok(JfrStr::Empty),
            2 => Ok(JfrStr::PoolRef(self.varint()?)),
            3 => {
                let n = self.length(1)?;
                Ok(JfrStr::Text(String::from_utf8_lossy(self.bytes(n)?)))
            }
            4 => {
                let n = self.length(1)?;
                let mut units = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    units.push(self.varint()? as u16);
                }
                Ok(JfrStr::Text(Cow::Owned(String::from_utf16_lossy(&units))))
            }
            5 => {
                let n = self.length(1)?;
                let b = self.bytes(n)?;
                // ASCII (most Latin-1 strings) reads as UTF-8 as it is: borrow it.
                Ok(JfrStr::Text(match std::str::from_utf8(b) {
                    Ok(ascii) if b.is_ascii() => Cow::Borrowed(ascii),
                    _ => Cow::Owned(b.iter().map(|&b| b as char).collect()),
                }))
            }
            e => Err(RawError::new(at as u64, Problem::StringEncoding(e))),
        }
    }

    /// Skips a string value.
    pub(crate) fn skip_string(&mut self) -> RawResult<()> {
        let at = self.pos;
        match self.u8()? {
            0 | 1 => Ok(()),
            2 => self.skip_varint(),
            3 | 5 => {
                let n = self.length(1)?;
                self.bytes(n).map(|_| ())
            }
            4 => {
                let n = self.length(1)?;
                (0..n).try_for_each(|_| self.skip_varint())
            }
            e => Err(RawError::new(at as u64, Problem::StringEncoding(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_minimal_padded_and_nine_bytes() {
        let mut c = Cursor::new(&[0x05, 0x85, 0x80, 0x80, 0x00, 0xff, 0x01], 0);
        assert_eq!(c.varint().unwrap(), 5);
        assert_eq!(c.varint().unwrap(), 5, "padded 4-byte encoding of 5");
        assert_eq!(c.varint().unwrap(), 0xff);
        let nine = [0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Cursor::new(&nine, 0).varint().unwrap(), u64::MAX);
        let mut s = Cursor::new(&nine, 0);
        s.skip_varint().unwrap();
        assert_eq!(s.pos(), 9);
        // int -1 is written as the 32-bit pattern
        assert_eq!(
            Cursor::new(&[0xff, 0xff, 0xff, 0xff, 0x0f], 0)
                .varint()
                .unwrap() as i32,
            -1
        );
    }

    /// The word-at-a-time skip agrees with decoding one varint after another, 9-byte ones too.
    #[test]
    fn skip_varints_matches_decoding() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..2000 {
            let mut bytes = Vec::new();
            let n = 1 + round % 40;
            for _ in 0..n {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let len = match rng % 16 {
                    0 => 9,
                    k => 1 + (k as usize % 5),
                };
                for b in 0..len {
                    let last = b + 1 == len;
                    let byte = (rng >> (b * 3)) as u8;
                    bytes.push(if last && len < 9 {
                        byte & 0x7f
                    } else {
                        byte | 0x80
                    });
                }
            }
            let mut decoded = Cursor::new(&bytes, 0);
            for _ in 0..n {
                decoded.varint().unwrap();
            }
            let mut skipped = Cursor::new(&bytes, 0);
            skipped.skip_varints(n).unwrap();
            assert_eq!(skipped.pos(), decoded.pos(), "round {round}");
            assert!(Cursor::new(&bytes, 0).skip_varints(n + 1).is_err());
        }
    }

    #[test]
    fn truncated_varint_is_an_error() {
        assert!(Cursor::new(&[0x80, 0x80], 0).varint().is_err());
        assert!(Cursor::new(&[0x80; 8], 0).skip_varint().is_err());
    }

    #[test]
    fn strings_of_every_encoding() {
        let data = [
            0u8, 1, 2, 7, 3, 2, b'h', b'i', 4, 2, 0x68, 0xe9, 0x01, 5, 1, 0xe9,
        ];
        let mut c = Cursor::new(&data, 0);
        assert_eq!(c.string().unwrap(), JfrStr::Null);
        assert_eq!(c.string().unwrap(), JfrStr::Empty);
        assert_eq!(c.string().unwrap(), JfrStr::PoolRef(7));
        assert_eq!(c.string().unwrap(), JfrStr::Text("hi".into()));
        assert_eq!(c.string().unwrap(), JfrStr::Text("hé".into()));
        assert_eq!(c.string().unwrap(), JfrStr::Text("é".into()));
        assert!(Cursor::new(&[9], 0).string().is_err());
        // a length beyond the end is refused before anything is allocated
        assert!(Cursor::new(&[3, 0xff, 0xff, 0xff, 0x0f], 0)
            .string()
            .is_err());
    }
}
