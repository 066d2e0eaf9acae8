//! Reading inputs: the format is told by the content (JFR files start with `FLR\0`).

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
    if head.starts_with(b"FLR\0") {
        return Ok(InputFormat::Jfr);
    }
    match head.iter().position(|&b| b == 0 || (b < 0x09)) {
        Some(offset) => Err(Error::UnknownFormat {
            path: path.to_path_buf(),
            offset: offset as u64,
        }),
        None if crate::flattext::looks_like(&head) => Ok(InputFormat::FlatText),
        None => Ok(InputFormat::Collapsed),
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
