//! The agent's log: one line per event, to the `log=` file or else the JVM's stderr. Writing
//! never fails loudly: a full disk must not disturb the JVM.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

/// Where lines go.
#[derive(Debug, Default)]
pub struct Log {
    file: Mutex<Option<File>>,
}

impl Log {
    /// Logs to `path` (appending), or to stderr for `None`.
    pub fn open(path: Option<&Path>) -> std::io::Result<Log> {
        let file = match path {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        Ok(Log {
            file: Mutex::new(file),
        })
    }

    /// Switches to another destination (new options).
    pub fn reopen(&self, path: Option<&Path>) -> std::io::Result<()> {
        let new = Log::open(path)?;
        let file = new.file.into_inner().unwrap_or_else(|p| p.into_inner());
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = file;
        Ok(())
    }

    /// Writes one line: time, `hch-agent[pid]:`, the message.
    pub fn line(&self, msg: &str) {
        let text = format!(
            "{} hch-agent[{}]: {msg}\n",
            humantime::format_rfc3339_millis(SystemTime::now()),
            std::process::id()
        );
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(f) => {
                let _ = f.write_all(text.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
        }
    }
}
