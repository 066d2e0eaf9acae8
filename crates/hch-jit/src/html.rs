//! The report as one self-contained HTML page: the data as JSON inside it, the page's script
//! and styles inline (`page/`), nothing fetched from the network.
//!
//! A page must stay small whatever the input: it carries the methods worth looking at (the
//! churning ones, the hot ones, those with traps; at most [`MAX_METHODS`]), compile and
//! deoptimization rates in at most [`MAX_BINS`] bins, and at most [`MAX_POINTS`] code cache
//! samples per heap. The JSON report (`--json`) has everything.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::analysis::{recompiles, Report};
use crate::model::{CacheSample, Method, Ms};

/// Methods drawn as rows.
pub const MAX_METHODS: usize = 150;
/// Bins of the rate lane.
pub const MAX_BINS: usize = 600;
/// Code cache samples per heap.
pub const MAX_POINTS: usize = 1500;

const TEMPLATE: &str = include_str!("page/page.html");
const SCRIPT: &str = include_str!("page/page.js");
const STYLE: &str = include_str!("page/page.css");

/// What the page draws.
#[derive(Debug, Serialize)]
struct Page<'r> {
    title: String,
    span: (Ms, Ms),
    summary: &'r crate::analysis::Summary,
    storms: &'r [crate::storm::Storm],
    churn: &'r crate::analysis::Churn,
    load: &'r crate::analysis::Load,
    heaps: &'r [crate::analysis::HeapSummary],
    cache_events: &'r [crate::model::CacheEvent],
    markers: &'r [crate::model::Marker],
    threads: &'r [String],
    code_cache: Vec<&'r CacheSample>,
    rates: Rates,
    methods: Vec<&'r Method>,
    hot: BTreeMap<&'r str, Option<f64>>,
}

/// Events per bin.
#[derive(Debug, Serialize)]
struct Rates {
    start: Ms,
    bin_ms: Ms,
    compiles: Vec<u32>,
    recompiles: Vec<u32>,
    traps: Vec<u32>,
    invalidations: Vec<u32>,
}

/// The page.
pub fn html(report: &Report) -> String {
    let t = &report.timeline;
    let span = t.source.span_ms.unwrap_or((0.0, 1.0));
    let span = (span.0, span.1.max(span.0 + 1.0));
    let title = format!(
        "hch jit: {}{}",
        t.source.format.map_or("timeline", |f| f.label()),
        t.source
            .jdk
            .as_deref()
            .map(|j| format!(", JDK {j}"))
            .unwrap_or_default()
    );
    let page = Page {
        title: title.clone(),
        span,
        summary: &report.summary,
        storms: &report.storms,
        churn: &report.churn,
        load: &report.load,
        heaps: &report.code_cache,
        cache_events: &report.cache_events,
        markers: &t.markers,
        threads: &t.threads,
        code_cache: thin(&t.code_cache),
        rates: rates(report, span),
        methods: chosen(report),
        hot: report
            .hot
            .iter()
            .map(|h| (h.method.as_str(), h.hot_percent))
            .collect(),
    };
    let data = serde_json::to_string(&page).unwrap_or_else(|_| "null".into());
    // Inside a <script> element only `</` can end it early; `<\/` is the same JSON string.
    let data = data.replace("</", "<\\/").replace("<!--", "<\\u0021--");
    TEMPLATE
        .replace("{{TITLE}}", &escape(&title))
        .replace("{{STYLE}}", STYLE)
        .replace("{{SCRIPT}}", SCRIPT)
        .replace("{{DATA}}", &data)
}

/// HTML text escapes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('{', "&#123;")
}

/// The methods drawn: churning ones first, then hot ones, then any with traps.
fn chosen(r: &Report) -> Vec<&Method> {
    let mut names: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    let churn = r.churn.methods.iter().map(|c| c.method.as_str());
    let hot = r.hot.iter().map(|h| h.method.as_str());
    let trapped = r
        .timeline
        .methods
        .iter()
        .filter(|m| !m.deopts.is_empty())
        .map(|m| m.name.as_str());
    for n in churn.chain(hot).chain(trapped) {
        if names.len() >= MAX_METHODS {
            break;
        }
        if seen.insert(n) {
            names.push(n);
        }
    }
    let by_name: BTreeMap<&str, &Method> = r
        .timeline
        .methods
        .iter()
        .filter(|m| seen.contains(m.name.as_str()))
        .map(|m| (m.name.as_str(), m))
        .collect();
    names
        .iter()
        .filter_map(|n| by_name.get(n).copied())
        .collect()
}

/// At most [`MAX_POINTS`] samples per heap, evenly picked.
fn thin(samples: &[CacheSample]) -> Vec<&CacheSample> {
    let mut by: BTreeMap<&str, Vec<&CacheSample>> = BTreeMap::new();
    for s in samples {
        by.entry(&s.heap).or_default().push(s);
    }
    let mut out = Vec::new();
    for list in by.values() {
        let step = list.len().div_ceil(MAX_POINTS).max(1);
        out.extend(list.iter().step_by(step).copied());
        if let Some(last) = list.last() {
            if (list.len() - 1) % step != 0 {
                out.push(last);
            }
        }
    }
    out
}

fn rates(r: &Report, span: (Ms, Ms)) -> Rates {
    let width = span.1 - span.0;
    let bin_ms = nice_bin(width / MAX_BINS as f64);
    let n = ((width / bin_ms).ceil() as usize + 1).min(MAX_BINS + 2);
    let mut rates = Rates {
        start: span.0,
        bin_ms,
        compiles: vec![0; n],
        recompiles: vec![0; n],
        traps: vec![0; n],
        invalidations: vec![0; n],
    };
    let bin = |t: Ms| (((t - span.0) / bin_ms).floor().max(0.0) as usize).min(n - 1);
    for m in &r.timeline.methods {
        for v in &m.versions {
            if let Some(t) = v.start_ms {
                rates.compiles[bin(t)] += 1;
            }
            let away = v
                .end
                .as_ref()
                .filter(|e| e.kind != crate::model::EndKind::TierUp);
            if let Some(t) = away.and_then(|e| e.at_ms) {
                rates.invalidations[bin(t)] += 1;
            }
        }
        for v in recompiles(&m.versions) {
            if let Some(t) = v.start_ms {
                rates.recompiles[bin(t)] += 1;
            }
        }
        for d in m.deopts.iter().filter(|d| !d.frame) {
            rates.traps[bin(d.at_ms)] += 1;
        }
    }
    rates
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `ms` (at least 1 ms).
fn nice_bin(ms: Ms) -> Ms {
    if !ms.is_finite() || ms <= 1.0 {
        return 1.0;
    }
    let mut unit = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if unit * m >= ms {
                return unit * m;
            }
        }
        unit *= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_round() {
        assert_eq!(nice_bin(0.2), 1.0);
        assert_eq!(nice_bin(3.0), 5.0);
        assert_eq!(nice_bin(120.0), 200.0);
    }

    #[test]
    fn a_page_cannot_be_closed_by_its_data() {
        let mut t = crate::model::Timeline::default();
        t.source.jdk = Some("</script><script>alert(1)</script>".into());
        let page = html(&crate::analysis::analyze(t, &Default::default()));
        assert_eq!(page.matches("</script>").count(), 3, "only the page's own");
        for external in [
            "src=\"http",
            "href=\"http",
            "@import",
            "url(",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!page.contains(external), "{external}");
        }
    }
}
