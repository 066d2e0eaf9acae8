//! The SVG maps of hot code on real captured outputs: well-formed XML, tooltips, legend and
//! region marks, one map or two side by side, and a bounded size for huge inputs.

use hch_codecache::sparse::{self, HotMethod, Map, MapBlob, MapHeap, Sparseness, MAX_ELEMENTS};
use hch_codecache::{codecache, codelist, MethodRef};

mod common;

/// The JDK 25 capture with every 7th live nmethod hot (its compile id as samples).
fn jdk25() -> (codelist::Codelist, codecache::CodeCache, Sparseness) {
    let list = codelist::parse_for(
        common::jcmd_body(&common::data("jdk25_Compiler.codelist.txt")),
        25,
    )
    .unwrap();
    let cc = codecache::parse(common::jcmd_body(&common::data(
        "jdk25_Compiler.codecache.txt",
    )))
    .unwrap();
    let hot: Vec<HotMethod> = list
        .entries
        .iter()
        .filter(|e| {
            e.compile_id % 7 == 0 || e.method.name == "<init>" || e.method.class.contains('$')
        })
        .map(|e| HotMethod {
            method: MethodRef::clone(&e.method),
            samples: u64::from(e.compile_id),
        })
        .collect();
    let s = sparse::join(&list, &cc, &hot);
    (list, cc, s)
}

/// A tiny well-formedness check: one root, tags balanced and named alike, attribute values
/// quoted, `&` only in entities, no `<` in text or values. Returns the element names in order.
fn elements(xml: &str) -> Vec<String> {
    let (mut stack, mut names) = (Vec::<String>::new(), Vec::new());
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        text(&rest[..i]);
        assert!(
            i == 0 || !stack.is_empty() || rest[..i].trim().is_empty(),
            "text outside the root"
        );
        let j = i + rest[i..].find('>').expect("a tag is closed");
        let tag = &rest[i + 1..j];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing tag");
        } else {
            let inner = tag.strip_suffix('/').unwrap_or(tag);
            let (name, attrs) = inner.split_once(' ').unwrap_or((inner, ""));
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{tag}"
            );
            assert!(!stack.is_empty() || names.is_empty(), "one root");
            attributes(attrs);
            names.push(name.to_string());
            if !tag.ends_with('/') {
                stack.push(name.to_string());
            }
        }
        rest = &rest[j + 1..];
    }
    assert!(
        stack.is_empty() && rest.trim().is_empty(),
        "unclosed: {stack:?}"
    );
    names
}

/// `name="value"` pairs, names unique.
fn attributes(mut a: &str) {
    let mut seen = Vec::new();
    while !a.trim().is_empty() {
        let (name, tail) = a.trim_start().split_once("=\"").expect("name=\"value\"");
        let (value, tail) = tail.split_once('"').expect("a closing quote");
        assert!(
            !name.contains(' ') && !seen.contains(&name),
            "attribute {name}"
        );
        assert!(!value.contains('<'), "{value}");
        text(value);
        seen.push(name);
        a = tail;
    }
}

/// Character data: every `&` starts an entity.
fn text(t: &str) {
    for (i, _) in t.match_indices('&') {
        let e = &t[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|x| e.starts_with(x)),
            "bare & in {t:?}"
        );
    }
}

#[test]
fn one_map_has_tooltips_legend_and_region_marks() {
    let (list, cc, s) = jdk25();
    let svg = sparse::svg(&list, &cc, &s);
    let names = elements(&svg);
    assert_eq!(names[0], "svg");
    assert!(names.iter().filter(|n| *n == "title").count() >= s.placed.len());
    for want in [
        "java.lang.Object.&lt;init&gt;()V\nlevel 4 (C2), ",
        "LambdaForm$Holder",
        "level 3 (C1)",
        "other code",
        "free / unused",
        "page holding hot code",
        "2 MiB region boundary",
        "'non-profiled nmethods': ",
        "'profiled nmethods': ",
        ">0x7fc978000000</text>",
        ">0x7fc970400000</text>",
        "64 KiB per row, 4 KiB page grid",
        &format!("{} distinct 4 KiB pages</tspan>", s.overall.pages),
    ] {
        assert!(svg.contains(want), "{want:?} missing");
    }
    assert!(!svg.contains("non-nmethods"));
    let again = sparse::svg_maps(&[sparse::map_of(&list, &cc, &s, "hot code in the code heaps")]);
    assert_eq!(svg, again);
}

/// The same hot code packed from one address, as `hch compact` would lay it out.
fn packed(before: &Map) -> Map {
    let (lo, mut at) = (0x7fc9_8000_0000u64, 0x7fc9_8000_0000u64);
    let mut hot: Vec<MapBlob> = before.heaps.iter().flat_map(|h| h.hot.clone()).collect();
    hot.sort_by(|a, b| b.samples.total_cmp(&a.samples));
    for b in &mut hot {
        let len = b.end - b.start;
        (b.start, b.end) = (at, at + len);
        at += len;
    }
    Map {
        title: "after <compact> & co".into(),
        heaps: vec![MapHeap {
            name: "hot nmethods".into(),
            lo,
            hi: lo + (8 << 20),
            other: vec![],
            hot,
        }],
    }
}

#[test]
fn before_and_after_side_by_side_show_the_pages() {
    let (list, cc, s) = jdk25();
    let before = sparse::map_of(&list, &cc, &s, "before");
    let after = packed(&before);
    let svg = sparse::svg_maps(&[before, after]);
    elements(&svg);
    assert_eq!(svg.matches("free / unused").count(), 1, "one legend");
    assert!(svg.contains("after &lt;compact&gt; &amp; co"));
    assert!(
        svg.contains("<g transform=\"translate(0,80)\">")
            && svg.contains("<g transform=\"translate(652,80)\">")
    );
    let pages: Vec<u64> = svg
        .match_indices(" distinct 4 KiB pages</tspan>")
        .map(|(i, _)| svg[..i].rsplit('>').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0], s.overall.pages);
    assert_eq!(
        pages[1], s.overall.packed_pages,
        "packed pages are what compact reaches"
    );
    assert!(pages[1] * 2 < pages[0], "{pages:?}");
    assert!(svg.contains(">0x7fc980000000</text>"));
}

#[test]
fn two_hundred_thousand_blobs_stay_bounded() {
    let lo = 0x7f00_0000_0000u64;
    let blob = |i: u64| MapBlob {
        label: format!("p.C{i}.m()V"),
        level: 4,
        start: lo + i * 5000,
        end: lo + i * 5000 + 300,
        samples: (i % 1000) as f64,
    };
    let heap = MapHeap {
        name: "CodeCache".into(),
        lo,
        hi: lo + (1 << 30),
        other: (0..200_000u64)
            .map(|i| (lo + i * 5000 + 400, lo + i * 5000 + 4000))
            .collect(),
        hot: (0..200_000u64).map(blob).collect(),
    };
    let map = Map {
        title: "huge".into(),
        heaps: vec![heap],
    };
    let t = std::time::Instant::now();
    let svg = sparse::svg_maps(std::slice::from_ref(&map));
    let drawn = t.elapsed();
    let n = elements(&svg).len();
    eprintln!("{n} elements, {} bytes, drawn in {drawn:?}", svg.len());
    assert!(n <= MAX_ELEMENTS, "{n} elements");
    assert!(svg.contains("coolest hot nmethods are drawn without tooltips"));
    assert!(svg.contains("a tick every"));
    // Side by side, each of four heaps of 50,000 blobs gets a quarter of the budget.
    let mut two = map.clone();
    two.heaps[0].hot.truncate(50_000);
    two.heaps[0].other.truncate(50_000);
    two.heaps.push(two.heaps[0].clone());
    let n4 = elements(&sparse::svg_maps(&[two.clone(), two])).len();
    assert!(n4 <= MAX_ELEMENTS, "{n4} elements");
}
