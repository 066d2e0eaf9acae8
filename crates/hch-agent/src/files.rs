//! The agent's private directory: settings, recordings and directives files live here for one
//! cycle or one operation, and the directory goes with them. It is the JVM's own filesystem, so
//! the paths the JVM is given are these paths.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The largest file the agent reads back (a recording of an hour of samples is far smaller).
const MAX_READ: u64 = 512 << 20;

/// A directory of the agent's own, removed with everything in it when dropped.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    next: AtomicU32,
}

/// The prefix of every private directory's name.
pub const PREFIX: &str = "hch-agent-";

impl PrivateDir {
    /// A new directory `hch-agent-<pid>-<n>` in the temporary directory, open to the JVM's
    /// user only.
    pub fn create() -> io::Result<PrivateDir> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{n}-{nanos:08x}", std::process::id());
        let path = std::env::temp_dir().join(name);
        DirBuilder::new().mode(0o700).create(&path)?;
        Ok(PrivateDir {
            path,
            next: AtomicU32::new(0),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a new file named after `name` and returns its path.
    pub fn put(&self, name: &str, contents: &[u8]) -> io::Result<PathBuf> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.path.join(format!("{n}-{safe}"));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(contents)?;
        Ok(path)
    }

    /// Reads a file of this directory (never one elsewhere).
    pub fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let p = self.inside(path)?;
        let mut bytes = Vec::new();
        fs::File::open(p)?
            .take(MAX_READ + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_READ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{path} is larger than {MAX_READ} bytes"),
            ));
        }
        Ok(bytes)
    }

    /// Removes a file of this directory; missing is fine.
    pub fn remove(&self, path: &str) -> io::Result<()> {
        match fs::remove_file(self.inside(path)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// `path` if it names a file directly in this directory.
    fn inside<'a>(&self, path: &'a str) -> io::Result<&'a Path> {
        let p = Path::new(path);
        if p.parent() == Some(self.path.as_path()) {
            Ok(p)
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{path} is not in the agent's directory {}",
                    self.path.display()
                ),
            ))
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_stay_inside_and_go_with_the_dir() {
        let d = PrivateDir::create().unwrap();
        let p = d.put("settings.jfc", b"x").unwrap();
        let s = p.to_str().unwrap();
        assert_eq!(d.read(s).unwrap(), b"x");
        assert!(d.read("/etc/passwd").is_err());
        d.remove(s).unwrap();
        d.remove(s).unwrap();
        let dir = d.path().to_path_buf();
        d.put("a/../b", b"y").unwrap();
        drop(d);
        assert!(!dir.exists());
    }
}
