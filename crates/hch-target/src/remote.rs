//! Remote targets over JMX (`host:port`). Filled in by the JMX issue.

use crate::{Target, TargetError};

/// Options for reaching a remote JVM.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {}

/// Opens a JMX connection to `host:port`.
pub fn open(spec: &str, _opts: &RemoteOptions) -> Result<Box<dyn Target>, TargetError> {
    Err(TargetError::Unsupported {
        target: format!("jmx {spec}"),
        what: "connect over JMX".into(),
        hint: "remote JVMs are not supported yet; run hch on the JVM's host with its PID".into(),
    })
}
