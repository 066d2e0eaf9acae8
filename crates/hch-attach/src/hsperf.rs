//! A reader for HotSpot's performance data file (`/tmp/hsperfdata_<user>/<pid>`), the memory
//! map `jps` and `jstat` read. hch takes a JVM's version, main class and options from it
//! without attaching. Every length and offset is checked against the bytes.

use std::collections::BTreeMap;

/// The prologue's magic, stored big-endian whatever the byte order of the rest.
const MAGIC: [u8; 4] = [0xca, 0xfe, 0xc0, 0xc0];
/// Prologue size (magic, byte order, versions, used, overflow, timestamp, offset, count).
const PROLOGUE_LEN: usize = 32;
/// Fixed part of an entry header.
const ENTRY_HEADER_LEN: usize = 20;

/// Why a file is not readable performance data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HsperfError {
    /// The file does not start with the hsperfdata magic.
    #[error("not an hsperfdata file (magic {found:02x?})")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// A length or offset points outside the file.
    #[error("hsperfdata entry {index} at offset {offset} runs past the end ({len} bytes)")]
    Truncated {
        /// Entry number.
        index: usize,
        /// Its offset.
        offset: usize,
        /// File length.
        len: usize,
    },
}

/// One counter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A `long` counter.
    Long(i64),
    /// A string (byte vector up to its NUL).
    Text(String),
}

/// The counters of one JVM, by name (`java.property.java.version`, `sun.rt.javaCommand`…).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerfData {
    /// Every long and string counter.
    pub values: BTreeMap<String, Value>,
}

impl PerfData {
    /// Parses a whole file.
    pub fn parse(bytes: &[u8]) -> Result<PerfData, HsperfError> {
        if bytes.len() < PROLOGUE_LEN || bytes[..4] != MAGIC {
            return Err(HsperfError::BadMagic {
                found: bytes[..bytes.len().min(4)].to_vec(),
            });
        }
        let r = Reader {
            bytes,
            little: bytes[4] == 1,
        };
        let mut offset = r.i32_at(24).unwrap_or(0) as usize;
        let count = r.i32_at(28).unwrap_or(0).max(0) as usize;
        let mut values = BTreeMap::new();
        for index in 0..count {
            let truncated = HsperfError::Truncated {
                index,
                offset,
                len: bytes.len(),
            };
            let (name, value, len) = r.entry(offset).ok_or(truncated)?;
            if let Some(v) = value {
                values.insert(name, v);
            }
            offset += len;
        }
        Ok(PerfData { values })
    }

    /// A string counter.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name)? {
            Value::Text(s) => Some(s),
            Value::Long(_) => None,
        }
    }
}

/// Bounds-checked reads in the file's byte order.
struct Reader<'a> {
    bytes: &'a [u8],
    little: bool,
}

impl Reader<'_> {
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn i32_at(&self, at: usize) -> Option<i32> {
        let b = self.array::<4>(at)?;
        Some(if self.little {
            i32::from_le_bytes(b)
        } else {
            i32::from_be_bytes(b)
        })
    }

    fn i64_at(&self, at: usize) -> Option<i64> {
        let b = self.array::<8>(at)?;
        Some(if self.little {
            i64::from_le_bytes(b)
        } else {
            i64::from_be_bytes(b)
        })
    }

    /// A NUL-terminated string starting at `at` and ending before `end`.
    fn c_str(&self, at: usize, end: usize) -> Option<String> {
        let field = self.bytes.get(at..end)?;
        let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        Some(String::from_utf8_lossy(&field[..len]).into_owned())
    }

    /// The entry at `at`: its name, its value when long or string, and its length.
    fn entry(&self, at: usize) -> Option<(String, Option<Value>, usize)> {
        let len = usize::try_from(self.i32_at(at)?)
            .ok()
            .filter(|&l| l >= ENTRY_HEADER_LEN)?;
        let end = at.checked_add(len).filter(|&e| e <= self.bytes.len())?;
        let field = |o: usize| usize::try_from(self.i32_at(at + o)?).ok();
        let (name_off, vector_len, data_off) = (field(4)?, field(8)?, field(16)?);
        let name = self.c_str(at + name_off, end)?;
        let data = at.checked_add(data_off).filter(|&d| d <= end)?;
        let value = match (self.bytes[at + 12], vector_len) {
            (b'J', 0) => self.i64_at(data).map(Value::Long),
            (b'B', n) if n > 0 => self
                .c_str(data, end.min(data.checked_add(n)?))
                .map(Value::Text),
            _ => None,
        };
        Some((name, value, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a little-endian file with the given string and long entries.
    fn file(entries: &[(&str, Option<&str>, i64)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, text, long) in entries {
            let name_off = ENTRY_HEADER_LEN;
            let data_off = (name_off + name.len() + 1).div_ceil(8) * 8;
            let data: Vec<u8> = match text {
                Some(t) => [t.as_bytes(), &[0]].concat(),
                None => long.to_le_bytes().to_vec(),
            };
            let len = (data_off + data.len()).div_ceil(8) * 8;
            let mut e = vec![0u8; len];
            e[0..4].copy_from_slice(&(len as i32).to_le_bytes());
            e[4..8].copy_from_slice(&(name_off as i32).to_le_bytes());
            let vlen = if text.is_some() { data.len() as i32 } else { 0 };
            e[8..12].copy_from_slice(&vlen.to_le_bytes());
            e[12] = if text.is_some() { b'B' } else { b'J' };
            e[16..20].copy_from_slice(&(data_off as i32).to_le_bytes());
            e[name_off..name_off + name.len()].copy_from_slice(name.as_bytes());
            e[data_off..data_off + data.len()].copy_from_slice(&data);
            body.extend(e);
        }
        let mut f = vec![0u8; PROLOGUE_LEN];
        f[..4].copy_from_slice(&MAGIC);
        f[4] = 1;
        f[5] = 2;
        f[24..28].copy_from_slice(&(PROLOGUE_LEN as i32).to_le_bytes());
        f[28..32].copy_from_slice(&(entries.len() as i32).to_le_bytes());
        f.extend(body);
        f
    }

    #[test]
    fn strings_and_longs() {
        let f = file(&[
            ("java.property.java.version", Some("17.0.15"), 0),
            ("sun.rt.javaCommand", Some("Park 0 1"), 0),
            ("java.cls.loadedClasses", None, 677),
        ]);
        let pd = PerfData::parse(&f).unwrap();
        assert_eq!(pd.text("java.property.java.version"), Some("17.0.15"));
        assert_eq!(pd.text("sun.rt.javaCommand"), Some("Park 0 1"));
        assert_eq!(
            pd.values.get("java.cls.loadedClasses"),
            Some(&Value::Long(677))
        );
        assert_eq!(pd.text("java.cls.loadedClasses"), None);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let f = file(&[("a.b", Some("x"), 0), ("c.d", None, 1)]);
        for cut in 0..f.len() {
            let _ = PerfData::parse(&f[..cut]);
        }
        let mut bad = f.clone();
        bad[PROLOGUE_LEN..PROLOGUE_LEN + 4].copy_from_slice(&(-8i32).to_le_bytes());
        assert!(matches!(
            PerfData::parse(&bad),
            Err(HsperfError::Truncated { index: 0, .. })
        ));
        assert!(matches!(
            PerfData::parse(b"\x7fELF...."),
            Err(HsperfError::BadMagic { .. })
        ));
    }
}
