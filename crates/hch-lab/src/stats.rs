//! From phases to a verdict: each phase's median, each layout's spread, and each layout's
//! speed relative to a baseline layout (compact) from pairs of neighbouring phases, with a
//! 95% confidence interval.
//!
//! A ratio is always a speed ratio: above 1 means faster than the baseline, also when the
//! workload's score is a time. Each phase of a layout is paired with the closest baseline
//! phase before it (after it when none comes before), so slow drifts of the machine cancel;
//! the estimate is the geometric mean of the pairs' ratios, the interval a t-interval on their
//! logarithms. Pairs that share one baseline phase are not independent: with fewer baseline
//! phases than pairs ([`Ratio::baselines`]) the interval is too narrow.

mod verdict;

use serde::Serialize;

/// The samples of one phase: one layout measured in one round, in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    /// The round it belongs to (0 for a phase before any re-layout).
    pub round: usize,
    /// `natural`, `compact`, `sparse`...
    pub layout: String,
    /// The workload's scores during the phase, in the order read.
    pub samples: Vec<f64>,
}

/// How to summarize.
#[derive(Debug, Clone)]
pub struct Options {
    /// The layout the others are compared to.
    pub baseline: String,
    /// Samples dropped at the start of each phase while the code settles.
    pub settle: usize,
    /// Whether a bigger score means faster (false for times such as JMH's `ns/op`).
    pub higher_is_better: bool,
}

impl Default for Options {
    /// Baseline `compact`, one settle sample, higher is better.
    fn default() -> Self {
        Options {
            baseline: "compact".into(),
            settle: 1,
            higher_is_better: true,
        }
    }
}

/// The phases cannot be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// No phase of the baseline layout has a sample left after the settle ones.
    #[error("no phase of the baseline layout '{baseline}' has samples after the first {settle}")]
    NoBaseline {
        /// The baseline layout.
        baseline: String,
        /// Samples dropped per phase.
        settle: usize,
    },
    /// A phase's median is zero or negative: no ratio can be taken.
    #[error("round {round}, layout '{layout}': median score {median} is not positive")]
    NotPositive {
        /// The phase's round.
        round: usize,
        /// The phase's layout.
        layout: String,
        /// Its median.
        median: f64,
    },
}

/// One layout over all its phases: the spread of its phase medians.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayoutStats {
    /// The layout.
    pub layout: String,
    /// Phases with samples after the settle ones.
    pub phases: usize,
    /// Median of the phase medians, in the workload's unit.
    pub median: f64,
    /// Smallest phase median.
    pub min: f64,
    /// Largest phase median.
    pub max: f64,
    /// `(max - min) / median`: how far apart its phases are.
    pub spread: f64,
    /// Each phase's median, in time order.
    pub phase_medians: Vec<f64>,
}

/// A layout's speed relative to the baseline: above 1 is faster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratio {
    /// The layout compared.
    pub layout: String,
    /// The geometric mean of the paired ratios.
    pub estimate: f64,
    /// The 95% confidence interval; `None` from a single pair.
    pub interval: Option<[f64; 2]>,
    /// Each pair's speed ratio, in time order.
    pub pairs: Vec<f64>,
    /// How many distinct baseline phases the pairs use.
    pub baselines: usize,
}

/// What the phases say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The layout the ratios are relative to.
    pub baseline: String,
    /// Whether bigger scores were faster.
    pub higher_is_better: bool,
    /// Samples dropped at the start of each phase.
    pub settle: usize,
    /// Phases left out because no sample was left after the settle ones.
    pub empty_phases: usize,
    /// Each layout, in order of first appearance.
    pub layouts: Vec<LayoutStats>,
    /// Each layout but the baseline against the baseline, in order of first appearance.
    pub ratios: Vec<Ratio>,
    /// One short sentence per ratio: the effect, or that there is none to see.
    pub verdict: Vec<String>,
}

/// A phase reduced to its median.
#[derive(Debug)]
struct Measured<'a> {
    layout: &'a str,
    median: f64,
}

/// Summarizes `phases` (in time order).
pub fn summarize(phases: &[Phase], opts: &Options) -> Result<Summary, StatsError> {
    let measured = measure(phases, opts.settle)?;
    if !measured.iter().any(|m| m.layout == opts.baseline) {
        let (baseline, settle) = (opts.baseline.clone(), opts.settle);
        return Err(StatsError::NoBaseline { baseline, settle });
    }
    let names = layout_names(&measured);
    let layouts: Vec<LayoutStats> = names.iter().map(|n| layout_stats(n, &measured)).collect();
    let ratios: Vec<Ratio> = names
        .iter()
        .filter(|n| **n != opts.baseline)
        .map(|n| ratio(n, &measured, opts))
        .collect();
    Ok(Summary {
        baseline: opts.baseline.clone(),
        higher_is_better: opts.higher_is_better,
        settle: opts.settle,
        empty_phases: phases.len() - measured.len(),
        layouts,
        verdict: verdict::sentences(&ratios, &opts.baseline),
        ratios,
    })
}

/// The median of each phase after its settle samples; phases left with none are skipped.
fn measure(phases: &[Phase], settle: usize) -> Result<Vec<Measured<'_>>, StatsError> {
    let mut out = Vec::with_capacity(phases.len());
    for p in phases {
        let Some(median) = median(p.samples.get(settle..).unwrap_or(&[])) else {
            continue;
        };
        if median <= 0.0 {
            let (round, layout) = (p.round, p.layout.clone());
            return Err(StatsError::NotPositive {
                round,
                layout,
                median,
            });
        }
        out.push(Measured {
            layout: &p.layout,
            median,
        });
    }
    Ok(out)
}

/// Layout names in order of first appearance.
fn layout_names<'a>(measured: &[Measured<'a>]) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for m in measured {
        if !names.contains(&m.layout) {
            names.push(m.layout);
        }
    }
    names
}

/// The spread of one layout's phase medians.
fn layout_stats(layout: &str, measured: &[Measured<'_>]) -> LayoutStats {
    let phase_medians: Vec<f64> = measured
        .iter()
        .filter(|m| m.layout == layout)
        .map(|m| m.median)
        .collect();
    let median = median(&phase_medians).unwrap_or(f64::NAN);
    let min = phase_medians.iter().copied().fold(f64::INFINITY, f64::min);
    let max = phase_medians
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    LayoutStats {
        layout: layout.to_string(),
        phases: phase_medians.len(),
        median,
        min,
        max,
        spread: (max - min) / median,
        phase_medians,
    }
}

/// `layout` against the baseline: each of its phases over the nearest baseline phase.
fn ratio(layout: &str, measured: &[Measured<'_>], opts: &Options) -> Ratio {
    let is_base = |m: &Measured<'_>| m.layout == opts.baseline;
    let mut pairs = Vec::new();
    let mut used = Vec::new();
    for (i, m) in measured
        .iter()
        .enumerate()
        .filter(|(_, m)| m.layout == layout)
    {
        let before = measured[..i].iter().rposition(is_base);
        let Some(j) = before.or_else(|| measured[i..].iter().position(is_base).map(|j| i + j))
        else {
            continue; // summarize checked that a baseline phase exists
        };
        let r = m.median / measured[j].median;
        pairs.push(if opts.higher_is_better { r } else { 1.0 / r });
        used.push(j);
    }
    used.sort_unstable();
    used.dedup();
    let (estimate, interval) = geometric_mean_interval(&pairs);
    Ratio {
        layout: layout.to_string(),
        estimate,
        interval,
        pairs,
        baselines: used.len(),
    }
}

/// The geometric mean and, from two values on, the 95% t-interval around it in log space.
fn geometric_mean_interval(ratios: &[f64]) -> (f64, Option<[f64; 2]>) {
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    if logs.len() < 2 {
        return (mean.exp(), None);
    }
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = t_975(logs.len() - 1) * (var / n).sqrt();
    (mean.exp(), Some([(mean - half).exp(), (mean + half).exp()]))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (a two-sided 95% interval):
/// a table to 30, then the Cornish-Fisher expansion (within 0.001 from 31 on).
fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if let Some(t) = df.checked_sub(1).and_then(|i| TABLE.get(i)) {
        return *t;
    }
    let (z, v) = (1.959_964_f64, df.max(1) as f64);
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
}

/// The median of the finite values; `None` when there are none.
fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests;
