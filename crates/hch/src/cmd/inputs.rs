//! Input files of `hch analyze` and `hch jfr`: each opened once, checked, and made a regular
//! file the JFR reader can read with positioned reads.
//!
//! A regular file is read in place. `-` (stdin), a FIFO or a pipe is streamed once into an
//! anonymous temporary file (opening a FIFO twice, as format detection then reading used to,
//! hung), and a gzip-compressed input (told by its magic bytes 1f 8b, not its name) is
//! decompressed into one; both stop at [`MAX_STREAMED`] with an error. Device nodes,
//! directories and sockets are refused before anything is read (`/dev/zero` never ends), and an
//! empty input is an error, not a recording without samples. Bad inputs exit 5, I/O errors 1.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::exit::{coded, Code};

/// The most bytes streamed from stdin, a FIFO or a pipe, or decompressed from gzip.
pub const MAX_STREAMED: u64 = 4 << 30;

/// An opened input: a regular file (maybe an anonymous temporary one), positioned at its start.
#[derive(Debug)]
pub struct Input {
    /// What the user gave (`-` for stdin): names the input in messages.
    pub label: PathBuf,
    /// The bytes to read.
    pub file: File,
}

/// Opens an input given on the command line; `-` is stdin.
pub fn open(path: &Path) -> anyhow::Result<Input> {
    let label = path.to_path_buf();
    let (file, kind) = if path.as_os_str() == "-" {
        stdin()?
    } else {
        open_path(path)?
    };
    let file = match kind {
        Kind::Regular => file,
        Kind::Stream => streamed(file, &label)?,
    };
    let file = gunzipped(file, &label)?;
    Ok(Input { label, file })
}

/// What an opened input is, as far as reading it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A regular file: read in place.
    Regular,
    /// A FIFO, pipe or socket: read once, as a stream.
    Stream,
}

/// Sorts a file type into what can be read, refusing the rest with exit 5.
fn kind_of(t: std::fs::FileType, label: &Path) -> anyhow::Result<Kind> {
    let refuse = |what: &str| {
        coded(
            Code::BadInput,
            format!(
                "{}: is {what}, not a recording or collapsed-stacks file: give a file, or `-` to read stdin",
                label.display()
            ),
        )
    };
    if t.is_file() {
        Ok(Kind::Regular)
    } else if t.is_fifo() {
        Ok(Kind::Stream)
    } else if t.is_dir() {
        Err(refuse("a directory"))
    } else if t.is_char_device() {
        Err(refuse("a character device"))
    } else if t.is_block_device() {
        Err(refuse("a block device"))
    } else {
        Err(refuse("a socket or another special file"))
    }
}

/// Opens a path: its type is checked before opening (a device is never opened) and again on
/// the opened file (it may have been replaced in between). Opening a FIFO waits for a writer.
fn open_path(path: &Path) -> anyhow::Result<(File, Kind)> {
    let io = || format!("opening {}", path.display());
    let before = kind_of(std::fs::metadata(path).with_context(io)?.file_type(), path)?;
    let file = File::open(path).with_context(io)?;
    let after = kind_of(file.metadata().with_context(io)?.file_type(), path)?;
    if before != after {
        return Err(coded(
            Code::BadInput,
            format!("{}: changed type while being opened", path.display()),
        ));
    }
    Ok((file, after))
}

/// Stdin as a file of its own: a redirected regular file is read in place, a pipe as a
/// stream; a terminal or another device is refused.
fn stdin() -> anyhow::Result<(File, Kind)> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .context("reading stdin")?;
    let file = File::from(fd);
    let t = file.metadata().context("reading stdin")?.file_type();
    let kind = if t.is_socket() {
        Kind::Stream
    } else {
        kind_of(t, Path::new("stdin"))?
    };
    Ok((file, kind))
}

/// Copies a stream into an anonymous temporary file, at most [`MAX_STREAMED`] bytes.
fn streamed(from: File, label: &Path) -> anyhow::Result<File> {
    let what = "streaming it into a temporary file";
    let mut tmp = tempfile::tempfile().context("creating a temporary file")?;
    let n = copy_capped(from, &mut tmp, MAX_STREAMED)
        .with_context(|| format!("{}: {what}", label.display()))?;
    if n > MAX_STREAMED {
        return Err(coded(
            Code::BadInput,
            format!(
                "{}: more than {MAX_STREAMED} bytes streamed in (the limit for stdin, FIFOs and pipes): save it to a file and give its path",
                label.display()
            ),
        ));
    }
    tmp.seek(SeekFrom::Start(0))?;
    Ok(tmp)
}

/// Copies up to `cap` bytes and one more, so that the caller can tell "more than the cap".
fn copy_capped(from: impl Read, to: &mut File, cap: u64) -> std::io::Result<u64> {
    std::io::copy(&mut from.take(cap.saturating_add(1)), to)
}

/// The file itself, or its decompressed bytes in an anonymous temporary file when it starts
/// with the gzip magic; an empty input (before or after decompressing) is refused.
fn gunzipped(file: File, label: &Path) -> anyhow::Result<File> {
    let mut magic = [0u8; 2];
    let n = read_head(&file, &mut magic).with_context(|| format!("reading {}", label.display()))?;
    if n == 0 {
        return Err(empty(label, ""));
    }
    if magic != [0x1f, 0x8b] {
        return Ok(file);
    }
    let mut tmp = tempfile::tempfile().context("creating a temporary file")?;
    let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(&file));
    let n = copy_capped(gz, &mut tmp, MAX_STREAMED).map_err(|e| {
        coded(
            Code::BadInput,
            format!("{}: not valid gzip data: {e}", label.display()),
        )
    })?;
    if n > MAX_STREAMED {
        return Err(coded(
            Code::BadInput,
            format!(
                "{}: decompresses to more than {MAX_STREAMED} bytes (the limit for gzip input): decompress it to a file first",
                label.display()
            ),
        ));
    }
    if n == 0 {
        return Err(empty(label, " once decompressed"));
    }
    tmp.seek(SeekFrom::Start(0))?;
    Ok(tmp)
}

/// Reads the first bytes of a file without moving its position.
pub(crate) fn read_head(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The error for an input without a byte: it has no samples to report, and is likely a
/// mistake (a recording not written yet, a wrong path in a script).
fn empty(label: &Path, when: &str) -> anyhow::Error {
    coded(
        Code::BadInput,
        format!(
            "{}: empty{when}: not a recording (a JFR file starts with FLR) nor collapsed stacks",
            label.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_stop_one_byte_past_the_cap() {
        let mut tmp = tempfile::tempfile().unwrap();
        assert_eq!(copy_capped(&[7u8; 100][..], &mut tmp, 10).unwrap(), 11);
        let mut tmp = tempfile::tempfile().unwrap();
        assert_eq!(copy_capped(&[7u8; 10][..], &mut tmp, 10).unwrap(), 10);
    }
}
