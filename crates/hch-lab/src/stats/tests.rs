//! Pairing, intervals and the verdict on phases made up to show each case.

use super::*;

/// Phases from `(layout, samples)` in time order; round 0 for the first, then one round per
/// compact phase.
fn phases(list: &[(&str, &[f64])]) -> Vec<Phase> {
    let mut round = 0;
    list.iter()
        .map(|(layout, samples)| {
            round += usize::from(*layout == "compact");
            Phase {
                round,
                layout: layout.to_string(),
                samples: samples.to_vec(),
            }
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn medians_drop_settle_samples() {
    let p = phases(&[
        ("compact", &[1.0, 100.0, 102.0, 101.0]),
        ("compact", &[5.0, 98.0]),
    ]);
    let s = summarize(&p, &Options::default()).unwrap();
    let c = &s.layouts[0];
    assert_eq!(c.phase_medians, [101.0, 98.0]);
    assert_eq!((c.phases, c.min, c.max, c.median), (2, 98.0, 101.0, 99.5));
    assert!(close(c.spread, 3.0 / 99.5));
    assert!(s.ratios.is_empty() && s.verdict.is_empty());
}

#[test]
fn pairs_use_the_closest_preceding_baseline_or_the_following_one() {
    let p = phases(&[
        ("natural", &[0.0, 90.0]),
        ("compact", &[0.0, 100.0]),
        ("sparse", &[0.0, 70.0]),
        ("compact", &[0.0, 110.0]),
        ("sparse", &[0.0, 77.0]),
        ("compact", &[0.0, 105.0]),
        ("sparse", &[0.0, 73.5]),
    ]);
    let s = summarize(&p, &Options::default()).unwrap();
    let names: Vec<&str> = s.layouts.iter().map(|l| l.layout.as_str()).collect();
    assert_eq!(names, ["natural", "compact", "sparse"]);
    let natural = &s.ratios[0];
    assert_eq!((natural.pairs.clone(), natural.interval), (vec![0.9], None));
    let sparse = &s.ratios[1];
    assert_eq!(sparse.baselines, 3);
    assert!(sparse.pairs.iter().all(|&r| close(r, 0.7)));
    assert!(close(sparse.estimate, 0.7));
    let [lo, hi] = sparse.interval.unwrap();
    assert!(close(lo, 0.7) && close(hi, 0.7));
    assert_eq!(
        s.verdict,
        [
            "natural runs at 0.90 of compact: one pair only, run more rounds for an interval",
            "compaction is worth about 43% here (sparse runs at 0.70 of compact [0.70, 0.70])",
        ]
    );
}

#[test]
fn interval_matches_a_t_interval_on_logs() {
    // Log ratios ln(0.9), ln(1.0), ln(1.1): mean m, sd s, t(2) = 4.303.
    let p = phases(&[
        ("compact", &[100.0]),
        ("sparse", &[90.0]),
        ("compact", &[100.0]),
        ("sparse", &[100.0]),
        ("compact", &[100.0]),
        ("sparse", &[110.0]),
    ]);
    let opts = Options {
        settle: 0,
        ..Options::default()
    };
    let s = summarize(&p, &opts).unwrap();
    let logs = [0.9f64.ln(), 0.0, 1.1f64.ln()];
    let m = logs.iter().sum::<f64>() / 3.0;
    let sd = (logs.iter().map(|l| (l - m).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = 4.303 * sd / 3f64.sqrt();
    let r = &s.ratios[0];
    assert!(close(r.estimate, m.exp()));
    let [lo, hi] = r.interval.unwrap();
    assert!(close(lo, (m - half).exp()) && close(hi, (m + half).exp()));
    assert!(
        s.verdict[0].starts_with("no measurable effect of compaction (sparse runs at 1.00"),
        "{}",
        s.verdict[0]
    );
}

#[test]
fn lower_is_better_scores_are_inverted() {
    // Times: compact takes 10 ns, sparse 20 ns, so sparse runs at 0.5 of compact.
    let p = phases(&[
        ("compact", &[10.0]),
        ("sparse", &[20.0]),
        ("compact", &[10.0]),
        ("sparse", &[20.5]),
    ]);
    let opts = Options {
        settle: 0,
        higher_is_better: false,
        ..Options::default()
    };
    let s = summarize(&p, &opts).unwrap();
    assert!(close(s.ratios[0].pairs[1], 10.0 / 20.5));
    assert!(s.ratios[0].estimate < 0.5);
    assert!(
        s.verdict[0].starts_with("compaction is worth about 102% here"),
        "{}",
        s.verdict[0]
    );
}

#[test]
fn natural_faster_slower_and_within_noise() {
    let run = |natural: [f64; 2]| {
        let p = phases(&[
            ("compact", &[100.0]),
            ("natural", &[natural[0]]),
            ("compact", &[100.0]),
            ("natural", &[natural[1]]),
        ]);
        let opts = Options {
            settle: 0,
            ..Options::default()
        };
        summarize(&p, &opts).unwrap().verdict.remove(0)
    };
    assert!(run([99.0, 101.0]).starts_with("the JIT's natural layout is within the noise"));
    assert!(run([80.0, 81.0]).starts_with("compact is 24% faster than the natural layout"));
    assert!(run([120.0, 121.0]).starts_with("the natural layout is 20% faster than compact"));
    // Far from 1 but an interval that includes it: noise, not evidence of no effect.
    let v = run([40.0, 110.0]);
    assert!(
        v.starts_with("inconclusive: natural runs at 0.66 of compact"),
        "{v}"
    );
}

#[test]
fn errors_and_empty_phases() {
    let p = phases(&[("sparse", &[1.0, 2.0]), ("compact", &[1.0])]);
    let e = summarize(&p, &Options::default()).unwrap_err();
    assert!(matches!(e, StatsError::NoBaseline { settle: 1, .. }), "{e}");
    let p = phases(&[
        ("compact", &[1.0, 5.0]),
        ("sparse", &[1.0]),
        ("sparse", &[0.0, -1.0]),
    ]);
    let e = summarize(&p, &Options::default()).unwrap_err();
    assert!(matches!(e, StatsError::NotPositive { round: 1, .. }), "{e}");
    let p = phases(&[
        ("compact", &[1.0, 5.0]),
        ("sparse", &[1.0]),
        ("sparse", &[0.0, 4.0]),
    ]);
    let s = summarize(&p, &Options::default()).unwrap();
    assert_eq!((s.empty_phases, s.ratios[0].pairs.clone()), (1, vec![0.8]));
}

#[test]
fn t_quantiles() {
    assert_eq!(t_975(1), 12.706);
    assert_eq!(t_975(30), 2.042);
    assert!((t_975(31) - 2.0395).abs() < 0.001);
    assert!((t_975(60) - 2.0003).abs() < 0.001);
    assert!((t_975(1000) - 1.9623).abs() < 0.001);
}

#[test]
fn serializes_for_json() {
    let p = phases(&[("compact", &[1.0, 5.0]), ("sparse", &[1.0, 4.0])]);
    let s = summarize(&p, &Options::default()).unwrap();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["ratios"][0]["layout"], "sparse");
    assert_eq!(v["ratios"][0]["interval"], serde_json::Value::Null);
    assert_eq!(v["layouts"][0]["median"], 5.0);
}
