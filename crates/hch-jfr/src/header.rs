//! The 68-byte chunk header.

use serde::Serialize;

use crate::error::{Problem, RawError, RawResult};
use crate::input::Cursor;

/// Size of a chunk header.
pub const HEADER_SIZE: usize = 68;

/// A chunk header, all fields big-endian on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkHeader {
    /// Format major version (2 for JDK 11+, async-profiler).
    pub major: u16,
    /// Format minor version.
    pub minor: u16,
    /// Chunk size in bytes, header included.
    pub size: u64,
    /// Offset of the newest checkpoint event, from the chunk start.
    pub constant_pool_offset: u64,
    /// Offset of the newest metadata event, from the chunk start.
    pub metadata_offset: u64,
    /// Start time, nanoseconds since the Unix epoch.
    pub start_nanos: u64,
    /// Duration in nanoseconds.
    pub duration_nanos: u64,
    /// Tick counter value at the chunk start.
    pub start_ticks: u64,
    /// Ticks per second.
    pub ticks_per_second: u64,
    /// 0 when complete; 1..=255 while being written.
    pub generation: u8,
    /// Bit 0: compressed integers; bit 1: final chunk.
    pub flags: u16,
}

impl ChunkHeader {
    /// Parses and checks a header at the start of `buf` (`buf` runs to the end of the file).
    pub(crate) fn parse(buf: &[u8]) -> RawResult<ChunkHeader> {
        Self::parse_with_remaining(buf, buf.len() as u64)
    }

    /// Parses a header from its first 68 bytes; `remaining` is what the file has from here on.
    pub(crate) fn parse_with_remaining(buf: &[u8], remaining: u64) -> RawResult<ChunkHeader> {
        let mut c = Cursor::new(buf, 0);
        let magic = c.bytes(4)?;
        if magic != b"FLR\0" {
            let mut found = [0u8; 4];
            found.copy_from_slice(magic);
            return Err(RawError::new(0, Problem::BadMagic { found }));
        }
        let (major, minor) = (c.be_u16()?, c.be_u16()?);
        if !(1..=2).contains(&major) {
            return Err(RawError::new(4, Problem::Version { major, minor }));
        }
        let h = ChunkHeader {
            major,
            minor,
            size: c.be_u64()?,
            constant_pool_offset: c.be_u64()?,
            metadata_offset: c.be_u64()?,
            start_nanos: c.be_u64()?,
            duration_nanos: c.be_u64()?,
            start_ticks: c.be_u64()?,
            ticks_per_second: c.be_u64()?,
            generation: c.u8()?,
            flags: {
                c.u8()?;
                c.be_u16()?
            },
        };
        h.check(remaining)?;
        Ok(h)
    }

    /// Rejects headers whose numbers cannot describe a readable chunk.
    fn check(&self, remaining: u64) -> RawResult<()> {
        if self.generation != 0 {
            return Err(RawError::new(
                64,
                Problem::InProgress {
                    generation: self.generation,
                },
            ));
        }
        if self.size < HEADER_SIZE as u64 || self.size > remaining {
            return Err(RawError::new(
                8,
                Problem::ChunkSize {
                    size: self.size,
                    remaining,
                },
            ));
        }
        if self.size > u64::from(u32::MAX) {
            return Err(RawError::new(8, Problem::ChunkTooLarge { size: self.size }));
        }
        if self.flags & 1 == 0 && self.major >= 2 {
            return Err(RawError::new(
                66,
                Problem::RawIntegers { flags: self.flags },
            ));
        }
        Ok(())
    }

    /// Converts a tick value of this chunk to nanoseconds since the epoch.
    pub fn ticks_to_nanos(&self, ticks: u64) -> u64 {
        let tps = self.ticks_per_second.max(1) as u128;
        let delta = ticks.wrapping_sub(self.start_ticks) as i64 as i128;
        let nanos = self.start_nanos as i128 + delta * 1_000_000_000 / tps as i128;
        nanos.clamp(0, u64::MAX as i128) as u64
    }
}
