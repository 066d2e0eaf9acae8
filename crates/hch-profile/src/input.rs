//! Reading inputs: the format is told by the content (JFR files start with `FLR\0`, pprof
//! files with gzip's magic or a binary `Profile` message).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use hch_jfr::{JfrFile, SampleEvent, StackDepth};

use crate::model::{InputFormat, Profile};
use crate::{collapsed, Error};

/// Bytes looked at to tell text from binary.
const SNIFF: usize = 4096;

/// Which format a file has, from its first bytes.
pub fn detect(path: &Path) -> Result<InputFormat, Error> {
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut head = Vec::with_capacity(SNIFF);
    File::open(path)
        .map_err(io)?
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    detect_bytes(path, &head)
}

/// Which format a file has, from its first bytes (up to 4 KiB).
pub fn detect_bytes(path: &Path, head: &[u8]) -> Result<InputFormat, Error> {
    if head.starts_with(b"FLR\0") {
        return Ok(InputFormat::Jfr);
    }
    let binary = head.iter().position(|&b| b == 0 || (b < 0x09));
    if crate::pprof::looks_like(head) && (binary.is_some() || head.starts_with(&[0x1f, 0x8b])) {
        return Ok(InputFormat::Pprof);
    }
    match binary {
        Some(offset) => Err(Error::UnknownFormat {
            path: path.to_path_buf(),
            offset: offset as u64,
        }),
        None if crate::flattext::looks_like(head) => Ok(InputFormat::FlatText),
        None => Ok(InputFormat::Collapsed),
    }
}

/// Adds the samples of an input opened already (a checked file, stdin spooled to a temporary
/// file): the format is told by its first bytes, read at offset 0 without moving the file.
/// `label` names it in errors. The result is as for [`read_into`].
pub fn read_opened(
    profile: &mut Profile,
    label: &Path,
    file: File,
    depth: StackDepth,
) -> Result<Option<Error>, Error> {
    use std::os::unix::fs::FileExt;
    let io = |e| Error::Io {
        path: label.to_path_buf(),
        source: e,
    };
    let mut head = vec![0u8; SNIFF];
    let mut n = 0;
    while n < SNIFF {
        match file.read_at(&mut head[n..], n as u64).map_err(io)? {
            0 => break,
            k => n += k,
        }
    }
    match detect_bytes(label, &head[..n])? {
        InputFormat::Jfr => {
            let jfr = JfrFile::from_file(file, label.to_path_buf()).map_err(|e| Error::Jfr {
                path: label.to_path_buf(),
                source: e,
            })?;
            read_jfr(profile, label, &jfr, depth)
        }
        InputFormat::Collapsed => {
            collapsed::read(profile, label, BufReader::new(file))?;
            Ok(None)
        }
        InputFormat::FlatText => {
            crate::flattext::read(profile, label, BufReader::new(file))?;
            Ok(None)
        }
        InputFormat::Pprof => {
            crate::pprof::read(profile, label, BufReader::new(file))?;
            Ok(None)
        }
    }
}

/// Adds one file's samples to `profile`. A JFR file broken after some sound chunks adds those
/// and returns the reader's error as `Ok(Some(_))`; `Err` means nothing could be read.
/// JFR stacks are resolved to `depth`; collapsed files always have whole stacks.
pub fn read_into(
    profile: &mut Profile,
    path: &Path,
    depth: StackDepth,
) -> Result<Option<Error>, Error> {
    match detect(path)? {
        InputFormat::Jfr => {
            let file = JfrFile::open(path).map_err(|e| Error::Jfr {
                path: path.to_path_buf(),
                source: e,
            })?;
            read_jfr(profile, path, &file, depth)
        }
        InputFormat::Collapsed => {
            let f = File::open(path).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            collapsed::read(profile, path, BufReader::new(f))?;
            Ok(None)
        }
        InputFormat::FlatText => {
            let f = File::open(path).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            crate::flattext::read(profile, path, BufReader::new(f))?;
            Ok(None)
        }
        InputFormat::Pprof => {
            let f = File::open(path).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            crate::pprof::read(profile, path, BufReader::new(f))?;
            Ok(None)
        }
    }
}

/// Adds the execution samples of an opened recording; see [`read_into`] for the result.
pub fn read_jfr(
    profile: &mut Profile,
    source: &Path,
    file: &JfrFile,
    depth: StackDepth,
) -> Result<Option<Error>, Error> {
    let jfr_err = |e| Error::Jfr {
        path: source.to_path_buf(),
        source: e,
    };
    let read =
        hch_jfr::samples_to_depth(file, &[SampleEvent::Execution], depth).map_err(jfr_err)?;
    profile.add_samples(source.to_path_buf(), &read.profile);
    Ok(read.error.map(jfr_err))
}
