//! Duration arguments (`--duration`, `--every`, `--for`, `--timeout`, `--interval`): humantime
//! syntax, capped at parse time so that no later `Instant + duration` can overflow and panic.

use std::time::Duration;

/// The longest duration any argument takes: 30 days.
pub const MAX: Duration = Duration::from_secs(30 * 24 * 3600);

/// Parses `10s`, `5m`, `1h 30m`, ... up to [`MAX`]; clap turns an error into a usage error
/// (exit 2).
pub fn parse(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e} (e.g. 10s, 5m, 1h)"))?;
    if d > MAX {
        return Err(format!("`{s}` is longer than the maximum of 30 days"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_at_thirty_days() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("30days"), Ok(MAX));
        for huge in ["30days 1s", "18446744073709551615s", "1000y"] {
            assert!(
                parse(huge).unwrap_err().contains("maximum of 30 days"),
                "{huge}"
            );
        }
        assert!(parse("99999999999999999999999s").is_err());
        assert!(parse("soon").unwrap_err().contains("e.g. 10s"));
    }
}
