//! A reader's window over an input of any size: fixed-size blocks, the unread rest of the last
//! one moved to the front before the next read, byte offsets and line numbers kept for errors.
//! Nothing grows with the input: a record longer than the window is skipped, not buffered.

use std::io::{self, Read};

/// Bytes read per call.
const BLOCK: usize = 1 << 20;

/// The window over a stream.
#[derive(Debug)]
pub(crate) struct Stream<R> {
    r: R,
    buf: Vec<u8>,
    /// The first byte not consumed.
    pub start: usize,
    /// The end of the bytes read.
    pub end: usize,
    /// The absolute offset of `buf[0]`.
    base: u64,
    /// Newlines before `buf[start]`.
    lines: u64,
    /// The input has no more bytes.
    pub eof: bool,
    /// Lines longer than this are skipped.
    max_record: usize,
}

/// One line of a text input.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    /// Its bytes, without the newline (and without a carriage return before it).
    pub bytes: &'a [u8],
    /// Its 1-based number.
    pub no: u64,
    /// Its byte offset.
    pub offset: u64,
    /// Whether a newline ends it (the last line of a cut input has none).
    pub terminated: bool,
}

impl<R: Read> Stream<R> {
    /// A window of `max_record` bytes at least (records up to that size are seen whole).
    pub fn new(r: R, max_record: usize) -> Stream<R> {
        Stream {
            r,
            buf: vec![0; BLOCK + max_record],
            start: 0,
            end: 0,
            base: 0,
            lines: 0,
            eof: false,
            max_record,
        }
    }

    /// The unconsumed bytes.
    pub fn rest(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The absolute offset of `buf[start + at]`.
    pub fn offset(&self, at: usize) -> u64 {
        self.base + (self.start + at) as u64
    }

    /// The 1-based line of `buf[start + at]`.
    pub fn line_at(&self, at: usize) -> u64 {
        let upto = (self.start + at).min(self.end);
        self.lines + 1 + memchr::memchr_iter(b'\n', &self.buf[self.start..upto]).count() as u64
    }

    /// Marks `n` more bytes as read.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.lines +=
            memchr::memchr_iter(b'\n', &self.buf[self.start..self.start + n]).count() as u64;
        self.start += n;
    }

    /// Reads more bytes after the unconsumed ones; `false` at the end of the input or when the
    /// window is full (the caller then skips what it cannot hold).
    pub fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Ok(false);
        }
        let want = (self.buf.len() - self.end).min(BLOCK);
        loop {
            match self.r.read(&mut self.buf[self.end..self.end + want]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Calls `f` with every line; a line longer than the window is skipped, and counted in the
    /// result. Stops early when `f` says so.
    pub fn for_each_line(&mut self, mut f: impl FnMut(Line<'_>) -> bool) -> io::Result<u64> {
        let mut skipped = 0;
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.rest()) {
                if i > self.max_record {
                    skipped += 1;
                    self.consume(i + 1);
                    continue;
                }
                let line = Line {
                    bytes: trim_cr(&self.buf[self.start..self.start + i]),
                    no: self.lines + 1,
                    offset: self.offset(0),
                    terminated: true,
                };
                let go_on = f(line);
                self.start += i + 1;
                self.lines += 1;
                if !go_on {
                    return Ok(skipped);
                }
                continue;
            }
            if self.fill()? {
                continue;
            }
            if self.eof {
                if self.start < self.end {
                    let line = Line {
                        bytes: trim_cr(self.rest()),
                        no: self.lines + 1,
                        offset: self.offset(0),
                        terminated: false,
                    };
                    f(line);
                    self.start = self.end;
                }
                return Ok(skipped);
            }
            // The window is full of one line: skip to its end.
            skipped += 1;
            self.skip_line()?;
        }
    }

    /// Drops bytes up to and including the next newline.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.rest()) {
                self.start += i + 1;
                self.lines += 1;
                return Ok(());
            }
            self.start = self.end;
            if !self.fill()? {
                return Ok(());
            }
        }
    }
}

fn trim_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> (Vec<(String, u64, u64, bool)>, u64) {
        let mut s = Stream::new(input, max);
        s.buf.truncate(max + 8); // a tiny window, to cross block edges often
        let mut out = Vec::new();
        let skipped = s
            .for_each_line(|l| {
                out.push((
                    String::from_utf8_lossy(l.bytes).into_owned(),
                    l.no,
                    l.offset,
                    l.terminated,
                ));
                true
            })
            .unwrap();
        (out, skipped)
    }

    #[test]
    fn lines_cross_block_edges_and_long_ones_are_skipped() {
        let (out, skipped) = lines(b"ab\r\ncdefgh\n0123456789012345678901234567\nxy", 8);
        assert_eq!(skipped, 1);
        assert_eq!(
            out,
            [
                ("ab".into(), 1, 0, true),
                ("cdefgh".into(), 2, 4, true),
                ("xy".into(), 4, 40, false)
            ]
        );
    }
}
