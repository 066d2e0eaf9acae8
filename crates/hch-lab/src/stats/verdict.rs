//! The verdict: one short sentence per layout compared, saying the effect only when its
//! interval excludes 1.

use super::Ratio;

/// One sentence per ratio.
pub(super) fn sentences(ratios: &[Ratio], baseline: &str) -> Vec<String> {
    ratios.iter().map(|r| sentence(r, baseline)).collect()
}

/// Where the interval lies relative to 1.
#[derive(Debug, PartialEq)]
enum Effect {
    /// From one pair: no interval to judge by.
    Unknown,
    /// The interval includes 1, and so does the estimate's neighbourhood (within 10%).
    None,
    /// The interval includes 1 but the estimate is more than 10% away from it: too noisy to
    /// tell, not evidence of no effect.
    Inconclusive,
    /// The interval lies below 1: the layout is slower than the baseline.
    Slower,
    /// The interval lies above 1.
    Faster,
}

/// The effect an interval shows.
fn effect(r: &Ratio) -> Effect {
    match r.interval {
        None => Effect::Unknown,
        Some([_, hi]) if hi < 1.0 => Effect::Slower,
        Some([lo, _]) if lo > 1.0 => Effect::Faster,
        Some(_) if (r.estimate - 1.0).abs() > 0.1 => Effect::Inconclusive,
        Some(_) => Effect::None,
    }
}

/// The sentence for one layout against the baseline; sparse and natural against compact get
/// the words of the question they answer.
fn sentence(r: &Ratio, base: &str) -> String {
    let l = &r.layout;
    let numbers = format!("{l} runs at {} of {base}{}", two(r.estimate), interval(r));
    let gain = percent(r.estimate);
    match (effect(r), l.as_str(), base) {
        (Effect::Unknown, ..) => {
            format!("{numbers}: one pair only, run more rounds for an interval")
        }
        (Effect::Slower, "sparse", "compact") => {
            format!("compaction is worth about {gain} here ({numbers})")
        }
        (Effect::None, "sparse", "compact") => {
            format!("no measurable effect of compaction ({numbers})")
        }
        (Effect::None, "natural", "compact") => {
            format!("the JIT's natural layout is within the noise of compact ({numbers})")
        }
        (Effect::None, ..) => format!("no measurable effect of {l} ({numbers})"),
        (Effect::Inconclusive, ..) => format!(
            "inconclusive: {numbers}, but the interval includes 1: the scores vary too much between rounds; run more rounds (--rounds) or longer phases (--phase)"
        ),
        (Effect::Slower, ..) => format!("{base} is {gain} faster than the {l} layout ({numbers})"),
        (Effect::Faster, ..) => format!("the {l} layout is {gain} faster than {base} ({numbers})"),
    }
}

/// ` [lo, hi]`, or nothing without an interval.
fn interval(r: &Ratio) -> String {
    match r.interval {
        Some([lo, hi]) => format!(" [{}, {}]", two(lo), two(hi)),
        None => String::new(),
    }
}

/// How much faster the faster side is: 0.70 and 1.43 are both `43%`.
fn percent(ratio: f64) -> String {
    let speedup = if ratio < 1.0 { 1.0 / ratio } else { ratio };
    match ((speedup - 1.0) * 100.0).round() {
        p if p < 1.0 => "less than 1%".to_string(),
        p => format!("{p}%"),
    }
}

/// A ratio with two decimals.
fn two(v: f64) -> String {
    format!("{v:.2}")
}
