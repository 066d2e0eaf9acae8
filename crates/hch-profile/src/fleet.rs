//! One hot set for a fleet: the profiles of several instances of one service merged with a
//! weight per instance, and how alike the instances' own hot sets are, so that a user knows
//! whether one directives file fits them all.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::hotset::HotSet;
use crate::model::Profile;

/// How much each instance counts in the merged profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Weight {
    /// Every instance counts as much as the one with most samples (its counts are scaled up).
    Equal,
    /// Every sample counts once: busy instances weigh more (a plain merge).
    Samples,
}

/// Merges the instances' profiles. With [`Weight::Equal`], each instance's samples and
/// nanoseconds are scaled to the largest instance's sample total (rounded to whole samples).
pub fn merge(parts: Vec<Profile>, weight: Weight) -> Profile {
    let target = parts.iter().map(|p| p.total_samples).max().unwrap_or(0);
    let mut out = Profile::new();
    for mut p in parts {
        if weight == Weight::Equal && p.total_samples > 0 {
            let k = target as f64 / p.total_samples as f64;
            scale(&mut p, k);
        }
        out.merge(p);
    }
    out
}

/// Multiplies every count of a profile by `k`.
fn scale(p: &mut Profile, k: f64) {
    let by = |n: u64| (n as f64 * k).round() as u64;
    for s in &mut p.stacks {
        s.samples = by(s.samples);
        s.ns = s.ns.map(by);
    }
    for i in &mut p.inputs {
        i.samples = by(i.samples);
    }
    p.total_samples = by(p.total_samples);
}

/// One instance: its input, samples and hot set size.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    /// Its input file.
    pub source: PathBuf,
    /// Its samples (unweighted).
    pub samples: u64,
    /// Code blobs in its own hot set.
    pub hot_blobs: usize,
}

/// How alike two instances' hot sets are.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    /// Index of the first instance.
    pub a: usize,
    /// Index of the second instance.
    pub b: usize,
    /// Methods in both hot sets over methods in either (Jaccard index, 0 to 1).
    pub jaccard: f64,
    /// Sum over methods of the smaller of the two shares of compiled samples (0 to 1; 1 when
    /// both spend their compiled time alike).
    pub weighted: f64,
}

/// The overlap report of a fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Overlap {
    /// The weight the merge used.
    pub weight: Weight,
    /// The instances, in input order.
    pub instances: Vec<Instance>,
    /// Every pair once.
    pub pairs: Vec<Pair>,
    /// The least alike pair's Jaccard index.
    pub min_jaccard: f64,
    /// The mean Jaccard index over the pairs.
    pub mean_jaccard: f64,
}

/// Each hot set's methods and their share of its compiled samples.
fn shares(h: &HotSet) -> HashMap<String, f64> {
    let total = h.compiled_samples.max(1) as f64;
    h.blobs
        .iter()
        .map(|b| {
            let m = &b.method;
            let key = format!("{}.{}{}", m.class, m.name, m.descriptor);
            (key, b.samples as f64 / total)
        })
        .collect()
}

/// Compares every pair of instances' own hot sets.
pub fn overlap(instances: Vec<(PathBuf, u64, &HotSet)>, weight: Weight) -> Overlap {
    let sets: Vec<HashMap<String, f64>> = instances.iter().map(|(_, _, h)| shares(h)).collect();
    let mut pairs = Vec::new();
    for a in 0..sets.len() {
        for b in a + 1..sets.len() {
            let (x, y) = (&sets[a], &sets[b]);
            let both = x.keys().filter(|k| y.contains_key(*k)).count();
            let either = x.len() + y.len() - both;
            let weighted = x
                .iter()
                .filter_map(|(k, sx)| y.get(k).map(|sy| sx.min(*sy)))
                .fold(0.0, |acc, v| acc + v);
            let jaccard = if either == 0 {
                1.0
            } else {
                both as f64 / either as f64
            };
            pairs.push(Pair {
                a,
                b,
                jaccard,
                weighted,
            });
        }
    }
    let js: Vec<f64> = pairs.iter().map(|p| p.jaccard).collect();
    Overlap {
        weight,
        instances: instances
            .into_iter()
            .map(|(source, samples, h)| Instance {
                source,
                samples,
                hot_blobs: h.blobs.len(),
            })
            .collect(),
        min_jaccard: js.iter().copied().fold(1.0, f64::min),
        mean_jaccard: if js.is_empty() {
            1.0
        } else {
            js.iter().sum::<f64>() / js.len() as f64
        },
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collapsed;
    use crate::hotset::{hot_set, HotOptions, Sizes};

    fn profile(text: &str) -> Profile {
        let mut p = Profile::new();
        collapsed::read(&mut p, "x".as_ref(), text.as_bytes()).unwrap();
        p
    }

    #[test]
    fn equal_weight_scales_the_smaller_instance_up() {
        let busy = profile("A.a_[j] 90\nB.b_[j] 10\n");
        let idle = profile("B.b_[j] 10\n");
        let m = merge(vec![busy.clone(), idle.clone()], Weight::Equal);
        assert_eq!(m.total_samples, 200);
        let s = merge(vec![busy, idle], Weight::Samples);
        assert_eq!(s.total_samples, 110);
    }

    #[test]
    fn overlap_of_identical_and_disjoint_hot_sets() {
        let opts = HotOptions::default();
        let sizes = Sizes::default();
        let a = hot_set(&profile("A.a_[j] 50\nB.b_[j] 50\n"), &opts, &sizes);
        let b = hot_set(&profile("A.a_[j] 5\nB.b_[j] 5\n"), &opts, &sizes);
        let c = hot_set(&profile("C.c_[j] 5\n"), &opts, &sizes);
        let o = overlap(
            vec![
                ("a".into(), 100, &a),
                ("b".into(), 10, &b),
                ("c".into(), 5, &c),
            ],
            Weight::Equal,
        );
        assert_eq!(o.pairs.len(), 3);
        assert_eq!((o.pairs[0].jaccard, o.pairs[0].weighted), (1.0, 1.0));
        assert_eq!((o.pairs[1].jaccard, o.pairs[1].weighted), (0.0, 0.0));
        assert_eq!(o.min_jaccard, 0.0);
    }
}
