//! Samples from a workload's output lines: JMH iteration lines and `score <n> [unit]` lines
//! ([`ScoreSpec::Auto`]), or the first capture group of the user's regular expression.

use serde::Serialize;

/// How to find scores in a workload's output.
#[derive(Debug, Clone)]
pub enum ScoreSpec {
    /// JMH measurement iterations (`Iteration   3: 1234.567 ops/s`; warm-up iterations and
    /// `Result` summaries are not samples) and lines `score <number> [unit]` (higher is better).
    Auto,
    /// Lines the expression matches; its first capture group is the number.
    Regex {
        /// The expression, with at least one capture group.
        regex: regex::Regex,
        /// Whether a smaller number is better (a time rather than a rate).
        lower_is_better: bool,
    },
}

/// The user's expression could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreError {
    /// Not a valid regular expression.
    #[error("score pattern '{pattern}'")]
    Regex {
        /// The pattern given.
        pattern: String,
        /// Why it does not compile.
        #[source]
        source: regex::Error,
    },
    /// No capture group to take the number from.
    #[error("score pattern '{pattern}' has no capture group: put the number in ( )")]
    NoGroup {
        /// The pattern given.
        pattern: String,
    },
}

impl ScoreSpec {
    /// [`ScoreSpec::Regex`] from a pattern, checked to have a capture group.
    pub fn regex(pattern: &str, lower_is_better: bool) -> Result<ScoreSpec, ScoreError> {
        let regex = regex::Regex::new(pattern).map_err(|source| ScoreError::Regex {
            pattern: pattern.to_string(),
            source,
        })?;
        if regex.captures_len() < 2 {
            let pattern = pattern.to_string();
            return Err(ScoreError::NoGroup { pattern });
        }
        Ok(ScoreSpec::Regex {
            regex,
            lower_is_better,
        })
    }
}

/// One score read from one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// The number, finite.
    pub value: f64,
    /// Its unit when the line gives one (`ops/s`, `ns/op`, `Mcalls/s`).
    pub unit: Option<String>,
    /// Whether a bigger value means faster (false for JMH's `<time>/op`).
    pub higher_is_better: bool,
}

/// The sample a line holds, if it holds one.
pub fn parse_line(spec: &ScoreSpec, line: &str) -> Option<Sample> {
    match spec {
        ScoreSpec::Auto => {
            let t = line.trim();
            match t.strip_prefix("Iteration ") {
                Some(rest) => jmh_iteration(rest),
                None => score_line(t),
            }
        }
        ScoreSpec::Regex {
            regex,
            lower_is_better,
        } => Some(Sample {
            value: number(regex.captures(line)?.get(1)?.as_str().trim())?,
            unit: None,
            higher_is_better: !lower_is_better,
        }),
    }
}

/// The result after `Iteration   3:`: `1234.567 ops/s`, `12.3 ±(99.9%) 0.4 us/op`, or a
/// sample-mode line `n = 1000, mean = 24 ns/op, p{...} = ...` whose mean is taken.
fn jmh_iteration(rest: &str) -> Option<Sample> {
    let (index, result) = rest.split_once(':')?;
    index.trim().parse::<u32>().ok()?;
    let result = result.trim();
    let result = match result.strip_prefix("n = ") {
        Some(sampled) => sampled.split_once("mean = ")?.1.split(',').next()?,
        None => result,
    };
    let mut tokens = result.split_whitespace();
    let value = number(tokens.next()?)?;
    let mut unit = tokens.next()?;
    if unit.starts_with('±') {
        unit = tokens.nth(1)?; // the error, then the unit
    }
    Some(Sample {
        value,
        unit: Some(unit.to_string()),
        higher_is_better: jmh_higher_is_better(unit)?,
    })
}

/// JMH's units: `ops/<time>` is a rate, `<time>/op` a time; anything else is not JMH's.
fn jmh_higher_is_better(unit: &str) -> Option<bool> {
    const TIMES: [&str; 7] = ["ns", "us", "ms", "s", "min", "hr", "day"];
    match unit.split_once('/')? {
        ("ops", t) if TIMES.contains(&t) => Some(true),
        (t, "op") if TIMES.contains(&t) => Some(false),
        _ => None,
    }
}

/// `score <number> [unit]` (or `score: ...`), case aside.
fn score_line(t: &str) -> Option<Sample> {
    let mut tokens = t.split_whitespace();
    let word = tokens.next()?;
    let word = word.strip_suffix(':').unwrap_or(word);
    if !word.eq_ignore_ascii_case("score") {
        return None;
    }
    Some(Sample {
        value: number(tokens.next()?)?,
        unit: tokens.next().map(str::to_string),
        higher_is_better: true,
    })
}

/// A finite number: `1234.5`, `1,234.5` (thousands), `1234,5` (a decimal comma, as JMH
/// prints in some locales); `≈ 10⁻⁴`, `NaN` and the like are not.
fn number(s: &str) -> Option<f64> {
    let plain = if !s.contains(',') {
        s.to_string()
    } else if thousands_grouped(s) {
        s.replace(',', "")
    } else if s.matches(',').count() == 1 && !s.contains('.') {
        s.replace(',', ".")
    } else {
        return None;
    };
    plain.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `1,234` or `-12,345,678.9`: groups of three digits after a lead of one to three.
fn thousands_grouped(s: &str) -> bool {
    let int = s.split('.').next().unwrap_or(s);
    let int = int.strip_prefix('-').unwrap_or(int);
    let mut groups = int.split(',');
    let lead = groups.next().unwrap_or("");
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    (1..=3).contains(&lead.len()) && digits(lead) && groups.all(|g| g.len() == 3 && digits(g))
}

#[cfg(test)]
mod tests;
