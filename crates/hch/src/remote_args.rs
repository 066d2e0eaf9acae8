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
    /// The library options for the JVM at `endpoint`: the password from --password-file or
    /// HCH_JMX_PASSWORD. Prints one warning line for each risk taken.
    pub fn to_options(&self, endpoint: &str) -> anyhow::Result<RemoteOptions> {
        if self.user.is_none() && self.password_file.is_some() {
            return Err(crate::exit::coded(
                crate::exit::Code::Usage,
                "--password-file needs --user",
            ));
        }
        let password = match (&self.password_file, std::env::var(PASSWORD_ENV)) {
            (Some(file), _) => Some(read_password(file)?),
            (None, Ok(p)) if self.user.is_some() => Some(p),
            _ => None,
        };
        let opts = RemoteOptions {
            user: self.user.clone(),
            password,
            tls: self.tls || self.tls_ca.is_some() || self.tls_insecure,
            tls_ca: self.tls_ca.clone(),
            insecure: self.tls_insecure,
            ..RemoteOptions::default()
        };
        warn_transport(&opts, endpoint);
        Ok(opts)
    }
}

/// Prints `hch: warning: ...` on stderr: one line, with what to do.
pub fn warn(text: &str) {
    eprintln!("hch: warning: {text}");
}

// A password over plain JRMP, or TLS that trusts anyone: said before connecting. (hch refuses
// a plain connector when TLS was asked for, so without TLS the password does go in the clear.)
fn warn_transport(opts: &RemoteOptions, endpoint: &str) {
    if opts.password.is_some() && !opts.tls {
        warn(&format!("the JMX password for {endpoint} goes over plain JRMP, readable by anyone on the network path; start the JVM with com.sun.management.jmxremote.ssl=true and pass --tls-ca FILE"));
    }
    if opts.insecure {
        warn(&format!("--tls-insecure accepts any certificate, so anyone on the network path to {endpoint} can pose as the JVM and read the session; pass --tls-ca FILE (the JVM's certificate: keytool -exportcert -rfc) instead"));
    }
}

// The first line of the file, without its line end; a file others may read is warned about.
fn read_password(file: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the JMX password from {}", file.display()))?;
    warn_if_shared(file);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

// Group or other permission bits on the password file: other users of the host may read it.
fn warn_if_shared(file: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(meta) = std::fs::metadata(file) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let shown = file.display();
        warn(&format!("{shown} is open to group or others (mode {mode:03o}), so other users of this host may read the JMX password; run chmod 600 {shown}"));
    }
}
