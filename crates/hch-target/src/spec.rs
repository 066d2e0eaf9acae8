//! A target as written on the command line, parsed once and strictly: a local PID is plain
//! decimal digits (`+6108` or `06108` are not PIDs), a remote JVM is `HOST:PORT` or
//! `[IPv6]:PORT` with a port from 1 to 65535.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::TargetError;

/// Linux's largest possible PID (`PID_MAX_LIMIT` on 64-bit): larger numbers are no process,
/// and above `i32::MAX` they would turn negative, which `kill` reads as a process group.
pub const PID_MAX: u32 = 4_194_304;

/// The longest DNS name.
const MAX_HOST: usize = 253;

/// Where a JVM is: a PID on this host, or the JMX agent of a remote one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetSpec {
    /// A local JVM by its PID as this host sees it (containers too).
    Pid(u32),
    /// A JMX agent: host name or address (IPv6 without brackets) and port.
    Jmx {
        /// Host name, IPv4 or IPv6 address.
        host: String,
        /// The agent's port, 1 to 65535.
        port: u16,
    },
}

impl TargetSpec {
    /// Parses `1234`, `host:9010`, `10.0.0.5:9010` or `[::1]:9010`; anything else is an error
    /// that says what a target looks like.
    pub fn parse(s: &str) -> Result<TargetSpec, TargetError> {
        let bad = |reason: String| TargetError::Unreachable {
            target: s.to_string(),
            reason,
        };
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return parse_pid(s).map(TargetSpec::Pid).map_err(bad);
        }
        if let Some((host, port)) = split_host_port(s).map_err(&bad)? {
            return Ok(TargetSpec::Jmx { host, port });
        }
        let signed =
            s.starts_with(['+', '-']) && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit());
        Err(bad(if signed {
            "a PID is plain decimal digits, without a sign (see `hch list`)".into()
        } else {
            "expected a PID (see `hch list`) or HOST:PORT of a JMX agent".into()
        }))
    }

    /// Whether this is a remote JVM reached over JMX.
    pub fn is_remote(&self) -> bool {
        matches!(self, TargetSpec::Jmx { .. })
    }
}

impl FromStr for TargetSpec {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetSpec::parse(s)
    }
}

impl fmt::Display for TargetSpec {
    /// The canonical form: `1234`, `host:9010`, `[::1]:9010`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Pid(pid) => write!(f, "{pid}"),
            TargetSpec::Jmx { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            TargetSpec::Jmx { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

// Digits only (checked by the caller); no leading zero, not 0, at most PID_MAX.
fn parse_pid(s: &str) -> Result<u32, String> {
    if s.starts_with('0') {
        return Err(if s == "0" {
            "0 is not a process; give the JVM's PID (see `hch list`)".into()
        } else {
            format!(
                "write the PID without leading zeros: {}",
                s.trim_start_matches('0')
            )
        });
    }
    match s.parse::<u32>() {
        Ok(pid) if pid <= PID_MAX => Ok(pid),
        _ => Err(format!(
            "{s} is above the largest PID Linux allows ({PID_MAX})"
        )),
    }
}

// `None` when there is no colon at all (not meant as HOST:PORT).
fn split_host_port(s: &str) -> Result<Option<(String, u16)>, String> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Ok(None);
    };
    let host = match host.strip_prefix('[') {
        Some(inner) => bracketed_v6(inner)?,
        None => plain_host(host)?,
    };
    Ok(Some((host, parse_port(port)?)))
}

// `[v6]`: an IPv6 address inside brackets (the opening one already stripped).
fn bracketed_v6(inner: &str) -> Result<String, String> {
    let addr = inner
        .strip_suffix(']')
        .ok_or_else(|| "an IPv6 address needs its closing bracket: [ADDR]:PORT".to_string())?;
    addr.parse::<Ipv6Addr>()
        .map(|_| addr.to_string())
        .map_err(|_| format!("{addr:?} is not an IPv6 address"))
}

// A host name or IPv4 address: letters, digits, `-`, `.` and `_`, at most 253 bytes.
fn plain_host(host: &str) -> Result<String, String> {
    if host.contains(':') {
        return Err("write an IPv6 address in brackets: [::1]:9010".into());
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(host.to_string());
    }
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    if host.is_empty() || host.len() > MAX_HOST {
        return Err(format!(
            "the host must have 1 to {MAX_HOST} characters: HOST:PORT"
        ));
    }
    if host.starts_with(['-', '.']) || !host.bytes().all(ok_char) {
        return Err(format!(
            "{host:?} is not a host name (letters, digits, '-', '.' and '_') or an IP address"
        ));
    }
    Ok(host.to_string())
}

// 1 to 65535 in plain decimal digits.
fn parse_port(port: &str) -> Result<u16, String> {
    let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(p) if digits && p != 0 && !port.starts_with('0') => Ok(p),
        _ => Err(format!(
            "{port:?} is not a port: give the JVM's com.sun.management.jmxremote.port, 1 to 65535"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jmx(host: &str, port: u16) -> TargetSpec {
        TargetSpec::Jmx {
            host: host.into(),
            port,
        }
    }

    fn reason(s: &str) -> String {
        match TargetSpec::parse(s) {
            Err(TargetError::Unreachable { reason, .. }) => reason,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn pids_are_plain_decimal_digits() {
        assert_eq!(TargetSpec::parse("6108").unwrap(), TargetSpec::Pid(6108));
        assert_eq!(TargetSpec::parse("1").unwrap(), TargetSpec::Pid(1));
        assert_eq!(
            TargetSpec::parse("4194304").unwrap(),
            TargetSpec::Pid(PID_MAX)
        );
        assert!(reason("+6108").contains("without a sign"));
        assert!(reason("-1").contains("without a sign"));
        assert!(reason("06108").contains("leading zeros: 6108"));
        assert!(reason("0").contains("not a process"));
        assert!(reason("4194305").contains("largest PID"));
        assert!(reason("4294967295").contains("largest PID"));
        assert!(reason("99999999999999999999").contains("largest PID"));
        for bad in ["", " 1", "1 ", "١٢", "12a", "0x10"] {
            assert!(TargetSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_and_port() {
        assert_eq!(
            TargetSpec::parse("127.0.0.1:9010").unwrap(),
            jmx("127.0.0.1", 9010)
        );
        assert_eq!(
            TargetSpec::parse("db-1.example:1099").unwrap(),
            jmx("db-1.example", 1099)
        );
        assert_eq!(TargetSpec::parse("jvm_a:1").unwrap(), jmx("jvm_a", 1));
        assert_eq!(TargetSpec::parse("[::1]:9010").unwrap(), jmx("::1", 9010));
        assert_eq!(
            TargetSpec::parse("[fe80::1]:65535").unwrap(),
            jmx("fe80::1", 65535)
        );
        assert!(reason("::1:9010").contains("brackets"));
        assert!(reason("[::1:9010").contains("closing bracket"));
        assert!(reason("[]:9010").contains("not an IPv6 address"));
        assert!(reason("[1.2.3.4]:9010").contains("not an IPv6 address"));
        assert!(reason(":9010").contains("1 to 253"));
        assert!(reason(&format!("{}:1", "a".repeat(254))).contains("1 to 253"));
        assert!(reason("-host:9010").contains("not a host name"));
        assert!(reason("a b:9010").contains("not a host name"));
        assert!(reason("user@host:9010").contains("not a host name"));
        for port in [
            "", "0", "+9010", "09010", "65536", "99999", "123456", "9o10", " 1",
        ] {
            assert!(
                reason(&format!("host:{port}")).contains("is not a port"),
                "{port:?}"
            );
        }
        assert!(reason("host").contains("expected a PID"));
    }

    #[test]
    fn display_is_the_canonical_form() {
        for s in ["6108", "host:9010", "10.0.0.5:1", "[::1]:9010"] {
            assert_eq!(TargetSpec::parse(s).unwrap().to_string(), s);
        }
        assert!(TargetSpec::parse("[::1]:9010").unwrap().is_remote());
        assert!(!TargetSpec::parse("1").unwrap().is_remote());
    }
}
