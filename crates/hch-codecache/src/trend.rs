//! Robust growth trends: the Theil-Sen slope (median of all pairwise slopes) over a window of
//! samples, and a steadiness test, so one jump or one drop does not make or break an alert.

use serde::Serialize;

/// A trend judged over a window of `(seconds, value)` points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Theil-Sen slope, units per second.
    pub slope: f64,
    /// Share (0..1) of point pairs, in time order, whose value went up.
    pub rising_pairs: f64,
    /// Points used.
    pub points: usize,
    /// The newest value.
    pub last: f64,
}

/// The Theil-Sen slope of the points; `None` with fewer than two distinct times.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, &(t0, v0)) in points.iter().enumerate() {
        for &(t1, v1) in &points[i + 1..] {
            let dt = t1 - t0;
            if dt.abs() > f64::EPSILON {
                slopes.push((v1 - v0) / dt);
            }
        }
    }
    median(&mut slopes)
}

/// Median of the values (sorted in place).
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() & 1 == 0 {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    })
}

/// Share of time-ordered pairs that rise (a Kendall-style count; ties count half).
fn rising_share(points: &[(f64, f64)]) -> f64 {
    let (mut up, mut all) = (0.0, 0.0);
    for (i, &(_, v0)) in points.iter().enumerate() {
        for &(_, v1) in &points[i + 1..] {
            all += 1.0;
            up += if v1 > v0 {
                1.0
            } else if v1 == v0 {
                0.5
            } else {
                0.0
            };
        }
    }
    if all == 0.0 {
        0.0
    } else {
        up / all
    }
}

/// The trend of a window, `None` with fewer than `min_points`.
pub fn judge(points: &[(f64, f64)], min_points: usize) -> Option<Trend> {
    if points.len() < min_points.max(2) {
        return None;
    }
    Some(Trend {
        slope: theil_sen(points)?,
        rising_pairs: rising_share(points),
        points: points.len(),
        last: points[points.len() - 1].1,
    })
}

impl Trend {
    /// Growing steadily: at least `min_slope` per second and most pairs rising.
    pub fn steady_growth(&self, min_slope: f64) -> bool {
        self.slope >= min_slope && self.rising_pairs >= 0.75
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_outlier_does_not_move_the_slope() {
        let mut pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 2.0 * i as f64)).collect();
        pts[5].1 = 1000.0;
        assert_eq!(theil_sen(&pts), Some(2.0));
        let t = judge(&pts, 4).unwrap();
        assert!(t.steady_growth(1.0));
    }

    #[test]
    fn flat_and_noisy_series_are_not_growth() {
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 5.0)).collect();
        assert!(!judge(&flat, 4).unwrap().steady_growth(0.01));
        let saw: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, (i % 2) as f64)).collect();
        assert!(!judge(&saw, 4).unwrap().steady_growth(0.01));
        assert_eq!(judge(&flat[..2], 4), None);
        assert_eq!(theil_sen(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }
}
