//! Reader errors: each names the file, the chunk and the byte offset, and what to do.

use std::path::PathBuf;

/// Where in a recording something went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, when reading from one.
    pub file: Option<PathBuf>,
    /// Zero-based chunk index.
    pub chunk: usize,
    /// Absolute byte offset in the file.
    pub offset: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.file {
            write!(f, "{}: ", p.display())?;
        }
        write!(f, "chunk {} at byte {}", self.chunk, self.offset)
    }
}

/// What is wrong with the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The bytes end before a value does.
    #[error("unexpected end of data (needed {needed} more bytes)")]
    Truncated {
        /// Bytes missing.
        needed: u64,
    },
    /// Not `FLR\0`.
    #[error("not a JFR chunk (magic {found:02x?}, expected \"FLR\\0\")")]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// A format version this reader does not know.
    #[error("unsupported JFR version {major}.{minor} (this reader reads 1.x and 2.x)")]
    Version {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// A chunk size that cannot be right.
    #[error("chunk size {size} does not fit the {remaining} bytes left in the file: the file is cut short (copied while still being written?) or damaged; the chunks before it are complete")]
    ChunkSize {
        /// Declared size.
        size: u64,
        /// Bytes left from the chunk start.
        remaining: u64,
    },
    /// A chunk larger than pool offsets can address.
    #[error("chunk of {size} bytes is larger than the 4 GiB this reader supports")]
    ChunkTooLarge {
        /// Declared size.
        size: u64,
    },
    /// A huge chunk, read in windows, has a part larger than the reader holds in memory.
    #[error("{what} is larger than the {limit} bytes this reader holds in memory for one chunk; re-record with smaller chunks (JDK: -XX:FlightRecorderOptions:maxchunksize=64m; async-profiler: chunksize=64m)")]
    OverBound {
        /// What is too large, with its size.
        what: String,
        /// The bound, in bytes.
        limit: u64,
    },
    /// A chunk too large to hold whole, asked for by an API that lends whole chunks.
    #[error("chunk of {size} bytes is larger than the {limit} bytes read whole; read it with read_samples, summarize or for_each_event, which read large chunks in windows, or raise JfrFile::with_whole_chunk_limit")]
    NotWhole {
        /// Declared size.
        size: u64,
        /// The whole-chunk limit.
        limit: u64,
    },
    /// The chunk is still being written.
    #[error("chunk is still being written (generation byte {generation}); dump or stop the recording and read the finished file")]
    InProgress {
        /// The generation byte.
        generation: u8,
    },
    /// Integers stored raw, not as varints.
    #[error("recording uses uncompressed integers (flags {flags:#06x}), which this reader does not support; re-record with a JDK 11+ default configuration")]
    RawIntegers {
        /// The header flags.
        flags: u16,
    },
    /// A record size of zero or past the chunk end.
    #[error("record size {size} is invalid ({remaining} bytes remain in the chunk)")]
    RecordSize {
        /// Declared size.
        size: u64,
        /// Bytes left in the chunk.
        remaining: u64,
    },
    /// A varint longer than 9 bytes cannot occur: the 9th byte carries 8 bits.
    #[error("malformed varint")]
    Varint,
    /// An unknown string encoding byte.
    #[error("unknown string encoding {0} (known: 0 to 5)")]
    StringEncoding(u8),
    /// A length larger than the bytes that remain.
    #[error("length {len} exceeds the {remaining} bytes that remain")]
    Length {
        /// Declared length.
        len: u64,
        /// Bytes left.
        remaining: u64,
    },
    /// No metadata event where the header says.
    #[error("no metadata event found (header metadata offset {0})")]
    NoMetadata(u64),
    /// Metadata that does not describe a sane type system.
    #[error("bad metadata: {0}")]
    Metadata(String),
    /// A value of a type the metadata does not define.
    #[error("type id {0} is not defined in this chunk's metadata")]
    UnknownType(u64),
    /// Types nest deeper than any real recording.
    #[error("values nest deeper than {0} levels")]
    TooDeep(usize),
    /// The checkpoint chain does not go strictly backwards.
    #[error("checkpoint chain is broken: {0}")]
    CheckpointChain(String),
}

/// A reader error: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes of a recording are malformed.
    #[error("{location}: {problem}")]
    Format {
        /// Where.
        location: Location,
        /// What.
        problem: Problem,
    },
    /// The file could not be opened or read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error, as text (so that errors stay `Clone`).
        message: String,
    },
}

impl Error {
    /// Adds the file name to a format error.
    pub fn with_file(mut self, path: &std::path::Path) -> Error {
        if let Error::Format { location, .. } = &mut self {
            location.file = Some(path.to_path_buf());
        }
        self
    }

    /// The chunk index, for format errors.
    pub fn chunk(&self) -> Option<usize> {
        match self {
            Error::Format { location, .. } => Some(location.chunk),
            Error::Io { .. } => None,
        }
    }
}

/// A problem at an offset within a chunk, before the chunk index is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawError {
    pub offset: u64,
    pub problem: Problem,
}

impl RawError {
    pub(crate) fn new(offset: u64, problem: Problem) -> Self {
        RawError { offset, problem }
    }

    /// Places the error in the file: chunk index and the chunk's absolute start.
    pub(crate) fn at(self, chunk: usize, chunk_start: u64) -> Error {
        Error::Format {
            location: Location {
                file: None,
                chunk,
                offset: chunk_start + self.offset,
            },
            problem: self.problem,
        }
    }
}

pub(crate) type RawResult<T> = Result<T, RawError>;
