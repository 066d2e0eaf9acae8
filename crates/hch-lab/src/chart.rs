//! The verdict as a picture: one bar per layout, its speed relative to the baseline with the
//! confidence interval as whiskers, and a reference line at 1.

use crate::stats::Summary;
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
/// The plot area: left, top, right, bottom.
const PLOT: [f64; 4] = [80.0, 50.0, 620.0, 330.0];

/// One bar: a layout's ratio, its interval, and a note under its name.
#[derive(Debug)]
struct Bar<'a> {
    layout: &'a str,
    value: f64,
    interval: Option<[f64; 2]>,
    note: String,
    baseline: bool,
}

/// An SVG bar chart of each layout's speed relative to the baseline (which stands at 1).
pub fn bars_svg(summary: &Summary) -> String {
    let bars = bars(summary);
    let top = y_max(&bars);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"13\">\n"
    );
    let base = escape(&summary.baseline);
    text(
        &mut svg,
        WIDTH / 2.0,
        24.0,
        "middle",
        "",
        &format!("Speed of hot code layouts relative to {base}"),
    );
    axes(&mut svg, top, &base);
    let slot = (PLOT[2] - PLOT[0]) / bars.len().max(1) as f64;
    for (i, bar) in bars.iter().enumerate() {
        draw_bar(
            &mut svg,
            bar,
            PLOT[0] + slot * (i as f64 + 0.5),
            slot * 0.5,
            top,
        );
    }
    let one = y(1.0, top);
    let _ = writeln!(
        svg,
        "<line x1=\"{}\" y1=\"{one:.1}\" x2=\"{}\" y2=\"{one:.1}\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>",
        PLOT[0], PLOT[2]
    );
    svg.push_str("</svg>\n");
    svg
}

/// The baseline at 1, then each ratio, in the summary's layout order.
fn bars(summary: &Summary) -> Vec<Bar<'_>> {
    let mut bars = Vec::new();
    for l in &summary.layouts {
        if l.layout == summary.baseline {
            let s = if l.phases == 1 { "" } else { "s" };
            let note = format!("baseline, {} phase{s}", l.phases);
            bars.push(Bar {
                layout: &l.layout,
                value: 1.0,
                interval: None,
                note,
                baseline: true,
            });
        } else if let Some(r) = summary.ratios.iter().find(|r| r.layout == l.layout) {
            let n = r.pairs.len();
            let note = match r.interval {
                Some(_) => format!("{n} pairs, 95% CI"),
                None => format!("{n} pair, no interval"),
            };
            bars.push(Bar {
                layout: &l.layout,
                value: r.estimate,
                interval: r.interval,
                note,
                baseline: false,
            });
        }
    }
    bars
}

/// The top of the y axis: a quarter step above the highest bar or whisker, at least 1.25.
fn y_max(bars: &[Bar<'_>]) -> f64 {
    let high = bars
        .iter()
        .map(|b| b.interval.map_or(b.value, |[_, hi]| hi.max(b.value)))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max);
    ((high * 1.1) / 0.25).ceil() * 0.25
}

/// The vertical position of a ratio.
fn y(v: f64, top: f64) -> f64 {
    PLOT[3] - (v.clamp(0.0, top) / top) * (PLOT[3] - PLOT[1])
}

/// Axes, grid lines with their values, and the axis titles.
fn axes(svg: &mut String, top: f64, base: &str) {
    let step = if top <= 2.0 {
        0.25
    } else if top <= 5.0 {
        0.5
    } else {
        (top / 8.0).ceil()
    };
    let mut v = 0.0;
    while v <= top + 1e-9 {
        let yy = y(v, top);
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>",
            PLOT[0], PLOT[2]
        );
        text(svg, PLOT[0] - 8.0, yy + 4.0, "end", "", &format!("{v:.2}"));
        v += step;
    }
    let [l, t, r, b] = PLOT;
    let _ = writeln!(
        svg,
        "<path d=\"M{l} {t}V{b}H{r}\" fill=\"none\" stroke=\"#333\"/>"
    );
    let mid = (t + b) / 2.0;
    let _ = writeln!(
        svg,
        "<text x=\"20\" y=\"{mid}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {mid})\">\
         speed relative to {base} (higher is faster)</text>"
    );
    text(svg, (l + r) / 2.0, HEIGHT - 12.0, "middle", "", "layout");
}

/// A bar with its whiskers, its value above and its name and note below.
fn draw_bar(svg: &mut String, bar: &Bar<'_>, x: f64, width: f64, top: f64) {
    let (y0, y1) = (y(0.0, top), y(bar.value, top));
    let fill = if bar.baseline { "#95a5a6" } else { "#2e86c1" };
    let _ = writeln!(
        svg,
        "<rect x=\"{:.1}\" y=\"{y1:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>",
        x - width / 2.0,
        y0 - y1
    );
    let mut label_y = y1;
    if let Some([lo, hi]) = bar.interval {
        let (ylo, yhi, cap) = (y(lo, top), y(hi, top), width / 4.0);
        let _ = writeln!(
            svg,
            "<path d=\"M{x:.1} {ylo:.1}V{yhi:.1}M{:.1} {ylo:.1}h{:.1}M{:.1} {yhi:.1}h{:.1}\" \
             stroke=\"#222\" stroke-width=\"1.5\" fill=\"none\"/>",
            x - cap,
            2.0 * cap,
            x - cap,
            2.0 * cap
        );
        label_y = label_y.min(yhi);
    }
    text(
        svg,
        x,
        label_y - 6.0,
        "middle",
        " font-weight=\"bold\"",
        &format!("{:.2}", bar.value),
    );
    text(svg, x, PLOT[3] + 18.0, "middle", "", &escape(bar.layout));
    text(
        svg,
        x,
        PLOT[3] + 34.0,
        "middle",
        " font-size=\"11\" fill=\"#555\"",
        &escape(&bar.note),
    );
}

/// A `<text>` element; `content` must be escaped already.
fn text(svg: &mut String, x: f64, y: f64, anchor: &str, attrs: &str, content: &str) {
    let _ = writeln!(
        svg,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\"{attrs}>{content}</text>"
    );
}

/// Text made safe for XML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\t' | '\n') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{summarize, Options, Phase};

    /// A summary of natural, compact and sparse phases; `odd` names one more layout.
    fn summary(odd: &str) -> Summary {
        let phase = |round, layout: &str, v: f64| Phase {
            round,
            layout: layout.to_string(),
            samples: vec![0.0, v],
        };
        let phases = vec![
            phase(0, "natural", 98.0),
            phase(1, "compact", 100.0),
            phase(1, "sparse", 70.0),
            phase(1, odd, 150.0),
            phase(2, "compact", 104.0),
            phase(2, "sparse", 71.0),
        ];
        summarize(&phases, &Options::default()).unwrap()
    }

    #[test]
    fn well_formed_with_bars_whiskers_and_reference() {
        let svg = bars_svg(&summary("a<b & \"c\"\u{1}"));
        if let Some(path) = std::env::var_os("HCH_LAB_CHART_OUT") {
            std::fs::write(path, &svg).unwrap(); // to look at it
        }
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let texts: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").to_string())
            .collect();
        for want in ["natural", "compact", "sparse", "a<b & \"c\"\u{fffd}"] {
            assert!(texts.iter().any(|t| t == want), "no {want:?} in {texts:?}");
        }
        let values: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("font-weight") == Some("bold"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(values, ["0.98", "1.00", "0.69", "1.50"]);
        assert!(texts.iter().any(|t| t == "2 pairs, 95% CI"));
        assert!(texts.iter().any(|t| t == "1 pair, no interval"));
        let bars = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
        assert_eq!(bars, 4);
        let dashed = doc
            .descendants()
            .filter(|n| n.attribute("stroke-dasharray").is_some());
        let one = dashed
            .map(|n| n.attribute("y1").unwrap().parse::<f64>().unwrap())
            .next();
        let top = 1.75; // 1.50 * 1.1 rounded up to a quarter
        assert_eq!(one, Some((y(1.0, top) * 10.0).round() / 10.0));
    }

    #[test]
    fn escapes_everything_xml_reserves() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
