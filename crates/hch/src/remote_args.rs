//! Options for a JVM reached by `host:port` over JMX, flattened into every command that takes
//! a TARGET. The password never appears on the command line.

use std::path::PathBuf;

use anyhow::Context as _;
use hch_target::remote::RemoteOptions;

/// The environment variable holding the JMX password.
pub const PASSWORD_ENV: &str = "HCH_JMX_PASSWORD";

/// How to log in to a remote JVM (TARGET given as HOST:PORT).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RemoteArgs {
    /// JMX user, for a JVM started with com.sun.management.jmxremote.authenticate=true.
    #[arg(
        long,
        value_name = "USER",
        help_heading = "Remote JVM (HOST:PORT over JMX)"
    )]
    pub user: Option<String>,

    /// File whose first line is the JMX password (else the HCH_JMX_PASSWORD environment
    /// variable).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Remote JVM (HOST:PORT over JMX)"
    )]
    pub password_file: Option<PathBuf>,

    /// Require TLS (a JVM with com.sun.management.jmxremote.ssl=true); needs --tls-ca.
    #[arg(long, help_heading = "Remote JVM (HOST:PORT over JMX)")]
    pub tls: bool,

    /// PEM file with the JVM's certificate or its CA (implies --tls).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Remote JVM (HOST:PORT over JMX)"
    )]
    pub tls_ca: Option<PathBuf>,

    /// FOR TESTS ONLY: accept any TLS certificate, so anyone on the path can read the session.
    #[arg(long, help_heading = "Remote JVM (HOST:PORT over JMX)")]
    pub tls_insecure: bool,
}

impl RemoteArgs {
    /// The library options: the password from --password-file or HCH_JMX_PASSWORD.
    pub fn to_options(&self) -> anyhow::Result<RemoteOptions> {
        if self.user.is_none() && self.password_file.is_some() {
            return Err(crate::exit::coded(2, "--password-file needs --user"));
        }
        let password = match (&self.password_file, std::env::var(PASSWORD_ENV)) {
            (Some(file), _) => Some(read_password(file)?),
            (None, Ok(p)) if self.user.is_some() => Some(p),
            _ => None,
        };
        Ok(RemoteOptions {
            user: self.user.clone(),
            password,
            tls: self.tls || self.tls_ca.is_some() || self.tls_insecure,
            tls_ca: self.tls_ca.clone(),
            insecure: self.tls_insecure,
            ..RemoteOptions::default()
        })
    }
}

// The first line of the file, without its line end.
fn read_password(file: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the JMX password from {}", file.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}
