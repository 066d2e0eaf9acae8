//! `hch jit --html`: the page of a real JVM's recording, loaded in a real headless Chromium. It
//! loads without JavaScript errors, draws a row for each method the workload deoptimizes,
//! shows a method's history on hover, and zooms with the wheel.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Without it the test
//! says so and passes, unless `HCH_REQUIRE_CHROMIUM=1` (set by `.ci/run`).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hch_testkit::browser::{self, Browser};
use hch_testkit::require_jdks;
use serde_json::Value;

/// A recording of `examples/Deopt.java` on the newest JDK, JFR running from the start.
fn recording() -> PathBuf {
    let jdk = require_jdks().pop().unwrap();
    let dir = hch_testkit::scratch_dir("jit-html");
    let jfr = dir.join(format!("deopt-{}.jfr", std::process::id()));
    let classes = hch_testkit::compile(&jdk, &hch_testkit::workload_source("Deopt"));
    let mut child = Command::new(jdk.tool("java"))
        .arg("-cp")
        .arg(&classes)
        .arg(format!(
            "-XX:StartFlightRecording:filename={},settings=profile,jdk.Compilation#threshold=0ms",
            jfr.display()
        ))
        .args(["Deopt", "500", "exit"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{}: Deopt did not finish", jdk.label());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    jfr
}

#[test]
fn the_page_loads_without_errors_shows_the_rows_and_hovers_and_zooms() {
    let Some(chromium) = browser::find() else {
        let must = std::env::var("HCH_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !must,
            "HCH_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)"
        );
        eprintln!(
            "SKIP: no chromium on PATH (apt-get install chromium); the HTML page is not checked"
        );
        return;
    };
    let jfr = recording();
    let page = jfr.with_extension("html");
    let out = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args([
            "jit",
            jfr.to_str().unwrap(),
            "--html",
            page.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["src=\"http", "href=\"http", "url(", "@import"] {
        assert!(
            !html.contains(external),
            "the page needs the network: {external}"
        );
    }

    let mut b = Browser::launch(&chromium);
    b.open(&format!("file://{}", page.display()));
    assert_eq!(b.errors(), Vec::<String>::new(), "JavaScript errors");
    assert_eq!(b.eval("document.documentElement.dataset.ready"), "1");
    assert_eq!(b.eval("document.documentElement.dataset.errors || ''"), "");
    let rows = b.eval("[...document.querySelectorAll('g.row')].map(g => g.dataset.method)");
    let rows: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for m in ["Deopt.totalArea(", "Deopt.branchy(", "Deopt.chorus("] {
        assert!(
            rows.iter().any(|r| r.starts_with(m)),
            "no row for {m}: {rows:?}"
        );
    }
    let reasons = b.eval("document.getElementById('reasons').textContent");
    assert!(
        reasons.as_str().unwrap().contains("unstable_if"),
        "{reasons}"
    );

    // Hover over branchy's unstable_if trap: the tip names the method and its history.
    let at = b.eval(
        "(() => { const g = [...document.querySelectorAll('g.row')].find(g => g.dataset.method.startsWith('Deopt.branchy('));
                  const r = g.querySelector('path.trap').getBoundingClientRect();
                  return [r.left + r.width / 2, r.top + r.height / 2]; })()",
    );
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    b.mouse_move(x, y);
    assert_eq!(b.eval("document.getElementById('tip').hidden"), false);
    let tip = b.eval("document.getElementById('tip').textContent");
    let tip = tip.as_str().unwrap();
    assert!(tip.starts_with("Deopt.branchy("), "{tip}");
    assert!(
        tip.contains("trap unstable_if") && tip.contains(" tier 4"),
        "{tip}"
    );

    // The wheel zooms in at the pointer.
    let before = b.eval("document.getElementById('view').textContent");
    b.wheel(x, y, -400.0);
    let after = b.eval("document.getElementById('view').textContent");
    assert_ne!(before, after, "the wheel did not zoom");
    let width = |v: &Value| {
        let t: Vec<f64> = v
            .as_str()
            .unwrap()
            .split(" to ")
            .map(|p| p.trim_end_matches(" s").parse().unwrap())
            .collect();
        t[1] - t[0]
    };
    assert!(width(&after) < width(&before), "{before} -> {after}");
    assert_eq!(
        b.errors(),
        Vec::<String>::new(),
        "JavaScript errors after hover and zoom"
    );
    let _ = std::fs::remove_file(&jfr);
}
