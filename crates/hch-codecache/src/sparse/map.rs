//! The SVG map of hot code. [`Map`] is a plain model any caller can fill: the JVM's layout
//! through [`map_of`], or a layout planned elsewhere (`hch compact`, `hch lab`). [`svg_maps`]
//! draws maps as columns side by side under one legend. Each heap is zoomed to its hot span, so
//! the 4 KiB pages holding hot code (what costs i-TLB misses) can be seen and counted.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::{figures_of, Figures, Sparseness, PAGE, REGION};
use crate::codecache::{CodeCache, HeapKind};
use crate::codelist::Codelist;

/// The SVG holds at most about this many elements whatever the number of blobs: ranges are
/// merged at the drawing's resolution and only the hottest blobs get their own tooltip.
pub const MAX_ELEMENTS: usize = 50_000;

/// One column of the drawing: a title and its code heaps, top to bottom.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Map {
    /// Shown above the column, e.g. `before` or `after hch compact`.
    pub title: String,
    /// The heaps, drawn in this order.
    pub heaps: Vec<MapHeap>,
}

/// One code heap of a [`Map`]: its addresses, the code that is not hot, and the hot code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MapHeap {
    /// The heap name, e.g. `non-profiled nmethods`.
    pub name: String,
    /// Lowest address of the heap.
    pub lo: u64,
    /// End (exclusive) of the addresses that may hold code, e.g. the committed high.
    pub hi: u64,
    /// Code that is not hot, as `[start, end)` ranges in any order (may overlap hot code).
    pub other: Vec<(u64, u64)>,
    /// The hot code; blobs starting outside `[lo, hi)` are left out.
    pub hot: Vec<MapBlob>,
}

/// One hot nmethod of a [`MapHeap`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MapBlob {
    /// The method, as its tooltip names it, e.g. `java.lang.String.hashCode()I`.
    pub label: String,
    /// Compilation level: 0 native, 1 to 3 C1, 4 C2.
    pub level: i8,
    /// First byte.
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
    /// Samples; colours scale to the hottest blob of all the maps drawn together.
    pub samples: f64,
}

/// Width of a heap's rows, in pixels.
const PLOT_W: u64 = 512;
/// Left margin, for the region addresses.
const MARGIN: u64 = 100;
/// Width of a column.
const COL_W: u64 = MARGIN + PLOT_W + 8;
/// Space between columns.
const GAP: u64 = 32;
/// Space around the drawing.
const PAD: u64 = 8;
/// Rows per heap at most (the hot span sets the bytes per row).
const MAX_ROWS: u64 = 256;
/// Bytes per row at least: 16 pages, each 32 pixels wide.
const MIN_ROW_BYTES: u64 = 64 * 1024;
/// Height a heap aims at, in pixels; rows are 3 to 14 pixels high.
const PLOT_H: u64 = 448;
/// Height of a text line.
const LINE: u64 = 14;
/// Colour of code that is not hot.
const OTHER: &str = "#b0b0b0";
/// Colour of free or unused addresses.
const FREE: &str = "#f4f4f4";
/// Overlay of the pages holding hot code.
const PAGE_TINT: &str = "#2b6cd4";
/// Opacity of that overlay.
const PAGE_OPACITY: &str = "0.28";
/// The 2 MiB region lines and their addresses.
const REGION_LINE: &str = "#1f2f6b";
/// The 4 KiB page grid and ticks.
const GRID: &str = "#000000";

/// The map of one JVM's code heaps (all but `'non-nmethods'`), from what [`super::join`] found.
pub fn map_of(list: &Codelist, cc: &CodeCache, s: &Sparseness, title: &str) -> Map {
    let heaps = cc
        .heaps
        .iter()
        .filter(|h| h.kind() != HeapKind::NonNmethods)
        .filter_map(|h| {
            h.bounds
                .map(|[lo, top, _]| map_heap(list, s, &h.name, lo, top))
        })
        .collect();
    Map {
        title: title.to_string(),
        heaps,
    }
}

/// One heap's part of the codelist and of the hot set, cut at the committed high.
fn map_heap(list: &Codelist, s: &Sparseness, name: &str, lo: u64, hi: u64) -> MapHeap {
    let inside = |a: u64| lo <= a && a < hi;
    let hot: Vec<MapBlob> = s
        .placed
        .iter()
        .filter(|p| inside(p.start))
        .map(|p| MapBlob {
            label: p.method.dotted(),
            level: p.level,
            start: p.start,
            end: p.end.min(hi),
            samples: p.samples,
        })
        .collect();
    let starts: HashSet<u64> = hot.iter().map(|b| b.start).collect();
    let other = list
        .entries
        .iter()
        .filter(|e| inside(e.start) && !starts.contains(&e.start))
        .map(|e| (e.start, e.end.min(hi)))
        .collect();
    MapHeap {
        name: name.to_string(),
        lo,
        hi,
        other,
        hot,
    }
}

/// One JVM's map as an SVG document (what `hch sparseness --svg` writes).
pub fn svg(list: &Codelist, cc: &CodeCache, s: &Sparseness) -> String {
    svg_maps(&[map_of(list, cc, s, "hot code in the code heaps")])
}

/// What every heap drawing shares: the colour scale and the element budget.
struct Ctx {
    /// Samples of the hottest blob of all maps.
    hottest: f64,
    /// Ranges (and tooltips) per kind and heap.
    cap: usize,
}

/// Maps side by side (e.g. before and after `hch compact`), each with its own scale, under one
/// legend; under each title, its figures (hot nmethods, distinct pages and regions, density).
pub fn svg_maps(maps: &[Map]) -> String {
    let heaps = maps.iter().map(|m| m.heaps.len()).sum::<usize>().max(1);
    let hottest = maps
        .iter()
        .flat_map(|m| &m.heaps)
        .flat_map(|h| &h.hot)
        .map(|b| b.samples)
        .fold(0.0, f64::max);
    // A heap draws at most ~14 elements per unit of cap (3 kinds of ranges, tooltips).
    let ctx = Ctx {
        hottest: hottest.max(1e-9),
        cap: (MAX_ELEMENTS * 9 / 10 / heaps / 14).max(1),
    };
    let mut o = String::new();
    let top = legend(&mut o);
    let mut height = top;
    for (i, m) in maps.iter().enumerate() {
        let x = i as u64 * (COL_W + GAP);
        let _ = writeln!(o, "<g transform=\"translate({x},{top})\">");
        height = height.max(top + column(&mut o, m, &ctx));
        o.push_str("</g>\n");
    }
    let w = maps.len().max(1) as u64 * (COL_W + GAP) - GAP + 2 * PAD;
    let h = height + 2 * PAD;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"monospace\" font-size=\"11\">\n<g transform=\"translate({PAD},{PAD})\">\n{o}</g>\n</svg>\n"
    )
}

/// The legend items, three per line.
const LEGEND: [&str; 6] = [
    "other code",
    "hot code, by samples",
    "free / unused",
    "page holding hot code",
    "2 MiB region boundary",
    "4 KiB page grid / ticks",
];

/// The shared legend, so colours mean the same in every column; returns its height.
fn legend(o: &mut String) -> u64 {
    let _ = writeln!(
        o,
        "<defs><linearGradient id=\"hch-heat\"><stop offset=\"0\" stop-color=\"{}\"/><stop offset=\"1\" stop-color=\"{}\"/></linearGradient></defs>",
        heat(0.0),
        heat(1.0)
    );
    for (i, label) in LEGEND.iter().enumerate() {
        let (x, y) = ((i as u64 % 3) * 206, (i as u64 / 3) * 18);
        o.push_str(&swatch(i, x, y));
        text(o, x as i64 + 40, y + 11, "", label);
    }
    text(
        o,
        0,
        50,
        "font-size=\"10\"",
        "Each heap shows its hot span, rounded out to 2 MiB regions, left to right, top to bottom.",
    );
    text(o, 0, 64, "font-size=\"10\"", "Hot code goes from yellow (few samples) to red (the most); hover it for method, tier, size.");
    80
}

/// The swatch of legend item `i` at `(x, y)`.
fn swatch(i: usize, x: u64, y: u64) -> String {
    let rect = |fill: &str, extra: &str| {
        format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"34\" height=\"12\" fill=\"{fill}\"{extra}/>\n",
            y + 1
        )
    };
    let line = |stroke: &str, extra: &str| {
        format!(
            "<path d=\"M{x} {}h34\" stroke=\"{stroke}\"{extra}/>\n",
            y + 7
        )
    };
    match i {
        0 => rect(OTHER, ""),
        1 => rect("url(#hch-heat)", ""),
        2 => rect(FREE, " stroke=\"#999999\" stroke-width=\"0.5\""),
        3 => rect(FREE, "") + &rect(PAGE_TINT, &page_attrs(true)),
        4 => line(REGION_LINE, " stroke-width=\"1.5\""),
        _ => line(GRID, " stroke-width=\"0.8\" stroke-opacity=\"0.4\""),
    }
}

/// The attributes of the hot-page overlay: outlined when pages are wide enough to tell apart.
fn page_attrs(outline: bool) -> String {
    let stroke = if outline {
        format!(" stroke=\"{PAGE_TINT}\" stroke-width=\"0.8\"")
    } else {
        String::new()
    };
    format!(" fill-opacity=\"{PAGE_OPACITY}\"{stroke}")
}

/// One map: title, figures, heaps; returns its height.
fn column(o: &mut String, m: &Map, ctx: &Ctx) -> u64 {
    text(
        o,
        0,
        16,
        "font-size=\"14\" font-weight=\"bold\"",
        &esc(&m.title),
    );
    let f = figures_of(m.heaps.iter().flat_map(hot_in).map(|b| (b.start, b.end)));
    let mut y = 20;
    for line in figure_lines(&f) {
        y += LINE;
        text(o, 0, y, "", &line);
    }
    y += 14;
    for h in &m.heaps {
        let _ = writeln!(o, "<g transform=\"translate(0,{y})\">");
        y += heap(o, h, ctx) + 18;
        o.push_str("</g>\n");
    }
    y
}

/// The blobs of a heap that start inside it.
fn hot_in(h: &MapHeap) -> impl Iterator<Item = &MapBlob> {
    h.hot.iter().filter(|b| h.lo <= b.start && b.start < h.hi)
}

/// A map's figures in three lines, the distinct pages in bold: they are what costs.
fn figure_lines(f: &Figures) -> [String; 3] {
    [
        format!(
            "{}, {} of hot code",
            count(f.nmethods as u64, "hot nmethod"),
            size(f.hot_bytes)
        ),
        format!(
            "on <tspan font-weight=\"bold\">{}</tspan> in {} of 2 MiB",
            count(f.pages, "distinct 4 KiB page"),
            count(f.regions, "region")
        ),
        format!(
            "span {}, density {:.0} % (packed: {}, {:.0} %)",
            size(f.span_bytes),
            f.density * 100.0,
            count(f.packed_pages, "page"),
            f.packed_density * 100.0
        ),
    ]
}

/// One heap: header lines, then its hot span as rows; returns the height.
fn heap(o: &mut String, h: &MapHeap, ctx: &Ctx) -> u64 {
    let mut hot: Vec<&MapBlob> = hot_in(h).collect();
    let name = esc(&h.name);
    let Some(g) = Grid::new(h, &hot) else {
        text(
            o,
            0,
            LINE,
            "font-weight=\"bold\"",
            &format!("'{name}': no hot code"),
        );
        let all = format!(
            "{:#x}..{:#x} ({})",
            h.lo,
            h.hi,
            size(h.hi.saturating_sub(h.lo))
        );
        text(o, 0, 2 * LINE, "font-size=\"10\"", &all);
        return 2 * LINE;
    };
    hot.sort_by(|a, b| b.samples.total_cmp(&a.samples).then(a.start.cmp(&b.start)));
    let f = figures_of(hot.iter().map(|b| (b.start, b.end)));
    let head = format!(
        "'{name}': {} on {} of 4 KiB",
        count(f.nmethods as u64, "hot nmethod"),
        count(f.pages, "page")
    );
    text(o, 0, LINE, "font-weight=\"bold\"", &head);
    let shown = format!(
        "shown {:#x}..{:#x} ({} of {}), {} per row, {}",
        g.lo,
        g.hi,
        size(g.hi - g.lo),
        size(h.hi - h.lo),
        size(g.row_bytes),
        g.scale_note()
    );
    text(o, 0, 2 * LINE, "font-size=\"10\"", &shown);
    let mut y = 2 * LINE;
    if hot.len() > ctx.cap {
        y += LINE;
        let more = format!(
            "the {} coolest hot nmethods are drawn without tooltips",
            hot.len() - ctx.cap
        );
        text(o, 0, y, "font-size=\"10\"", &more);
    }
    y += if g.page_grid() { 6 } else { 12 };
    let _ = writeln!(o, "<g transform=\"translate({MARGIN},{y})\">");
    plot(o, &g, h, &hot, ctx);
    o.push_str("</g>\n");
    y + g.height()
}

/// The rows, bottom layer first: free, other code, hot pages, hot code, then the scales.
fn plot(o: &mut String, g: &Grid, h: &MapHeap, hot: &[&MapBlob], ctx: &Ctx) {
    g.fill(o, &[(g.lo, g.hi)], FREE, "");
    g.fill(o, &g.merged(h.other.clone(), ctx.cap), OTHER, "");
    let pages = hot
        .iter()
        .map(|b| (b.start / PAGE * PAGE, round_up(end(b), PAGE)));
    let pages = g.merged(pages.collect(), ctx.cap);
    g.fill(o, &pages, PAGE_TINT, &page_attrs(g.page_grid()));
    let (tips, rest) = hot.split_at(hot.len().min(ctx.cap));
    if let Some(first) = rest.first() {
        let merged = g.merged(rest.iter().map(|b| (b.start, end(b))).collect(), ctx.cap);
        g.fill(o, &merged, &heat(first.samples / ctx.hottest), "");
    }
    for b in tips.iter().rev() {
        g.blob(o, b, &heat(b.samples / ctx.hottest));
    }
    g.scale(o);
    g.regions(o);
}

/// The end of a blob, at least one byte after its start so it is drawn.
fn end(b: &MapBlob) -> u64 {
    b.end.max(b.start.saturating_add(1))
}

/// `x` rounded up to a multiple of `unit`, saturating.
fn round_up(x: u64, unit: u64) -> u64 {
    x.checked_next_multiple_of(unit).unwrap_or(u64::MAX)
}

/// The rows a heap's hot span is drawn in: `[lo, hi)` laid out from `base`, `row_bytes` per row.
#[derive(Debug)]
struct Grid {
    /// First address shown.
    lo: u64,
    /// End of the addresses shown.
    hi: u64,
    /// Address at the left of the first row (`lo` rounded down to a row).
    base: u64,
    /// Bytes per row, a power of two.
    row_bytes: u64,
    /// Rows.
    rows: u64,
    /// Height of a row in pixels.
    row_px: u64,
}

impl Grid {
    /// The hot span rounded out to 2 MiB regions and clamped to the heap; `None` without hot code.
    fn new(h: &MapHeap, hot: &[&MapBlob]) -> Option<Grid> {
        let first = hot.iter().map(|b| b.start).min()?;
        let last = hot.iter().map(|b| end(b)).max()?;
        let lo = (first / REGION * REGION).max(h.lo);
        let hi = round_up(last, REGION).min(h.hi);
        let row_bytes = (hi - lo)
            .div_ceil(MAX_ROWS)
            .checked_next_power_of_two()
            .unwrap_or(1 << 63)
            .max(MIN_ROW_BYTES);
        let base = lo / row_bytes * row_bytes;
        let rows = (hi - base).div_ceil(row_bytes);
        let row_px = (PLOT_H / rows).clamp(3, 14);
        Some(Grid {
            lo,
            hi,
            base,
            row_bytes,
            rows,
            row_px,
        })
    }

    /// Height of the rows in pixels.
    fn height(&self) -> u64 {
        self.rows * self.row_px
    }

    /// Pixels for a byte offset within a row.
    fn px(&self, bytes: u64) -> f64 {
        bytes as f64 * PLOT_W as f64 / self.row_bytes as f64
    }

    /// True when pages are wide enough (8 px) for a grid; else a tick scale.
    fn page_grid(&self) -> bool {
        self.px(PAGE) >= 8.0
    }

    /// Bytes between two page ticks, a power of two of pages at least 4 px apart.
    fn tick_bytes(&self) -> u64 {
        let pages = (4.0 / self.px(PAGE)).ceil() as u64;
        let pages = pages.checked_next_power_of_two().unwrap_or(1 << 52);
        pages.saturating_mul(PAGE).min(self.row_bytes)
    }

    /// What the page scale is, for the header.
    fn scale_note(&self) -> String {
        if self.page_grid() {
            "4 KiB page grid".to_string()
        } else {
            format!("a tick every {}", size(self.tick_bytes()))
        }
    }

    /// `[a, b)` clamped to the span, as at most three rectangles `(x, y, w, h)`: the end of its
    /// first row, whole rows, the start of its last row (bounded whatever the size).
    fn rects(&self, a: u64, b: u64) -> Vec<(f64, u64, f64, u64)> {
        let (a, b) = (a.max(self.lo), b.min(self.hi));
        if b <= a {
            return Vec::new();
        }
        let (rb, rp, w) = (self.row_bytes, self.row_px, PLOT_W as f64);
        let (ra, rz) = ((a - self.base) / rb, (b - 1 - self.base) / rb);
        let xa = self.px((a - self.base) % rb);
        let xz = self.px((b - 1 - self.base) % rb + 1);
        if ra == rz {
            return vec![(xa, ra * rp, (xz - xa).max(1.0), rp)];
        }
        let mut v = vec![(xa, ra * rp, (w - xa).max(1.0), rp)];
        if rz > ra + 1 {
            v.push((0.0, (ra + 1) * rp, w, (rz - ra - 1) * rp));
        }
        v.push((0.0, rz * rp, xz.max(1.0), rp));
        v
    }

    /// Ranges clamped to the span and merged across gaps under a pixel, then across wider gaps
    /// until at most `cap` remain: the output stays bounded however many blobs there are.
    fn merged(&self, mut r: Vec<(u64, u64)>, cap: usize) -> Vec<(u64, u64)> {
        r.retain_mut(|x| {
            *x = (x.0.max(self.lo), x.1.min(self.hi));
            x.0 < x.1
        });
        r.sort_unstable();
        let mut gap = (self.row_bytes / PLOT_W).max(1);
        loop {
            r = bridge(&r, gap);
            if r.len() <= cap || gap == u64::MAX {
                return r;
            }
            gap = gap.saturating_mul(2);
        }
    }

    /// Draws ranges in one colour.
    fn fill(&self, o: &mut String, ranges: &[(u64, u64)], fill: &str, extra: &str) {
        for &(a, b) in ranges {
            for (x, y, w, h) in self.rects(a, b) {
                let _ = writeln!(o, "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{fill}\"{extra}/>");
            }
        }
    }

    /// Draws a hot blob with its tooltip (a group when it wraps over rows).
    fn blob(&self, o: &mut String, b: &MapBlob, fill: &str) {
        let rects = self.rects(b.start, end(b));
        let title = format!("<title>{}</title>", esc(&tooltip(b)));
        let rect = |(x, y, w, h): (f64, u64, f64, u64), inner: &str| {
            format!("<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\">{inner}</rect>")
        };
        match rects.as_slice() {
            [] => {}
            [one] => {
                let _ = writeln!(o, "<g fill=\"{fill}\">{}</g>", rect(*one, &title));
            }
            many => {
                let body: String = many.iter().map(|r| rect(*r, "")).collect();
                let _ = writeln!(o, "<g fill=\"{fill}\">{title}{body}</g>");
            }
        }
    }

    /// Faint 4 KiB page lines when pages are wide, else ticks above the rows.
    fn scale(&self, o: &mut String) {
        let mut d = String::new();
        let step = if self.page_grid() {
            PAGE
        } else {
            self.tick_bytes()
        };
        for i in 0..=self.row_bytes / step {
            let x = self.px(i * step);
            if self.page_grid() {
                let _ = write!(d, "M{x:.1} 0V{}", self.height());
            } else {
                let len = if i % 4 == 0 { 7 } else { 4 };
                let _ = write!(d, "M{x:.1} -{len}V-1");
            }
        }
        if self.page_grid() && self.row_px >= 6 {
            for r in 1..self.rows {
                let _ = write!(d, "M0 {}H{PLOT_W}", r * self.row_px);
            }
        }
        let _ = writeln!(o, "<path d=\"{d}\" fill=\"none\" stroke=\"{GRID}\" stroke-width=\"0.5\" stroke-opacity=\"0.3\"/>");
    }

    /// The 2 MiB region boundaries as strong lines (margin ticks when under 5 px apart, so
    /// they do not hide the rows), their addresses in the left margin.
    fn regions(&self, o: &mut String) {
        let (mut d, mut last): (String, Option<u64>) = (String::new(), None);
        let apart = self.row_px * (REGION / self.row_bytes).max(1);
        let from = if apart < 5 { "-3" } else { "0" };
        let to = if apart < 5 { 0 } else { PLOT_W };
        for r in 0..=self.rows {
            let a = self.base.saturating_add(r.saturating_mul(self.row_bytes));
            if a % REGION != 0 || a < self.lo || a > self.hi {
                continue;
            }
            let y = r * self.row_px;
            let _ = write!(d, "M{from} {y}H{to}");
            if last.is_none_or(|l| y >= l + 12) {
                let label = format!("{a:#x}");
                text(
                    o,
                    -5,
                    y + 3,
                    "text-anchor=\"end\" font-size=\"9\" fill=\"#1f2f6b\"",
                    &label,
                );
                last = Some(y);
            }
        }
        let per_row = self.row_bytes / REGION;
        if per_row > 1 && PLOT_W / per_row >= 4 {
            for j in 1..per_row {
                let _ = write!(d, "M{:.1} 0V{}", self.px(j * REGION), self.height());
            }
        }
        let _ = writeln!(
            o,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{REGION_LINE}\" stroke-width=\"1.2\"/>"
        );
    }
}

/// Sorted ranges merged when less than `gap` bytes apart.
fn bridge(r: &[(u64, u64)], gap: u64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(r.len());
    for &(a, b) in r {
        match out.last_mut() {
            Some(l) if a <= l.1.saturating_add(gap) => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The tooltip of a hot blob: method, tier, size, samples, addresses.
fn tooltip(b: &MapBlob) -> String {
    format!(
        "{}\nlevel {} ({}), {} bytes, {} samples\n{:#x}..{:#x}",
        b.label,
        b.level,
        tier(b.level),
        b.end.saturating_sub(b.start),
        samples(b.samples),
        b.start,
        b.end
    )
}

/// The compiler behind a compilation level.
fn tier(level: i8) -> &'static str {
    match level {
        0 => "native",
        1..=3 => "C1",
        4 => "C2",
        _ => "unknown",
    }
}

/// Samples, whole unless split among versions.
fn samples(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// `n` things, singular for one.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Bytes as KiB, MiB or GiB with one decimal (none when whole).
fn size(b: u64) -> String {
    let (v, unit) = match b {
        b if b < 1 << 20 => (b as f64 / 1024.0, "KiB"),
        b if b < 1 << 30 => (b as f64 / (1u64 << 20) as f64, "MiB"),
        b => (b as f64 / (1u64 << 30) as f64, "GiB"),
    };
    let n = format!("{v:.1}");
    format!("{} {unit}", n.strip_suffix(".0").unwrap_or(&n))
}

/// A text element; `content` must already be escaped.
fn text(o: &mut String, x: i64, y: u64, attrs: &str, content: &str) {
    let sep = if attrs.is_empty() { "" } else { " " };
    let _ = writeln!(o, "<text x=\"{x}\" y=\"{y}\"{sep}{attrs}>{content}</text>");
}

/// Yellow (cool) to red (hottest).
fn heat(share: f64) -> String {
    let g = (200.0 * (1.0 - share.clamp(0.0, 1.0))) as u8;
    format!("#ff{g:02x}00")
}

/// XML text: markup characters escaped, characters XML forbids replaced.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\n' | '\t' => o.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(start: u64, len: u64, samples: f64) -> MapBlob {
        MapBlob {
            label: "A.a()V".into(),
            level: 4,
            start,
            end: start + len,
            samples,
        }
    }

    /// A heap of 1 GiB with hot code in two places 100 MiB apart.
    fn wide_heap() -> MapHeap {
        MapHeap {
            name: "h".into(),
            lo: 0x1000_0000,
            hi: 0x5000_0000,
            other: vec![],
            hot: vec![blob(0x1010_0000, 100, 1.0), blob(0x1650_0000, 100, 2.0)],
        }
    }

    #[test]
    fn the_span_is_rounded_to_regions_and_clamped_to_the_heap() {
        let h = wide_heap();
        let hot: Vec<&MapBlob> = h.hot.iter().collect();
        let g = Grid::new(&h, &hot).unwrap();
        assert_eq!((g.lo, g.hi), (0x1000_0000, 0x1660_0000));
        assert!(g.rows <= MAX_ROWS + 1 && g.row_bytes.is_power_of_two());
        assert!(
            !g.page_grid(),
            "128 pages per row are too narrow for a grid"
        );
        let h = MapHeap {
            lo: 0x1010_0000,
            hi: 0x1010_8000,
            ..wide_heap()
        };
        let hot: Vec<&MapBlob> = h.hot.iter().take(1).collect();
        let g = Grid::new(&h, &hot).unwrap();
        assert_eq!(
            (g.lo, g.hi, g.row_bytes, g.rows),
            (0x1010_0000, 0x1010_8000, MIN_ROW_BYTES, 1)
        );
        assert!(g.page_grid());
    }

    #[test]
    fn a_range_is_at_most_three_rectangles() {
        let h = MapHeap {
            lo: 0,
            hi: 4 * REGION,
            ..wide_heap()
        };
        let g = Grid::new(&h, &[&blob(0, 4 * REGION, 1.0)]).unwrap();
        assert_eq!(g.row_bytes, 64 * 1024);
        assert_eq!(g.rects(0x100, 0x200).len(), 1);
        let r = g.rects(0x8000, 10 * 0x10000 + 0x8000);
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[0].0, r[1].1, r[1].3, r[2].2),
            (256.0, g.row_px, 9 * g.row_px, 256.0)
        );
        assert!(
            g.rects(5 * REGION, 6 * REGION).is_empty(),
            "outside the span"
        );
    }

    #[test]
    fn merging_stops_at_the_cap() {
        let h = wide_heap();
        let g = Grid::new(&h, &h.hot.iter().collect::<Vec<_>>()).unwrap();
        let many: Vec<(u64, u64)> = (0..1_000u64)
            .map(|i| (0x1000_0000 + i * 0x10000, 0x1000_0000 + i * 0x10000 + 16))
            .collect();
        assert!(g.merged(many.clone(), 100).len() <= 100);
        assert_eq!(
            g.merged(many, 2_000).len(),
            1_000,
            "64 KiB apart is wider than a pixel"
        );
        assert_eq!(
            bridge(&[(0, 10), (12, 20), (40, 50)], 2),
            [(0, 20), (40, 50)]
        );
    }

    #[test]
    fn text_is_escaped_and_sizes_read_well() {
        assert_eq!(esc("a<init>&\"$\u{1}"), "a&lt;init&gt;&amp;&quot;$\u{fffd}");
        assert_eq!(
            (size(64 * 1024), size(3 << 19), size(1 << 30)),
            ("64 KiB".into(), "1.5 MiB".into(), "1 GiB".into())
        );
        assert_eq!((tier(0), tier(3), tier(4)), ("native", "C1", "C2"));
        assert_eq!(
            (samples(3.0), samples(2.5)),
            ("3".to_string(), "2.5".to_string())
        );
    }
}
