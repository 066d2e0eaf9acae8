//! hch's own directives check reproduces what real JDK 17 and 25 answered to the captured
//! directive files (`Compiler.directives_add` through jcmd, copied into `tests/data/directives`).

use std::path::{Path, PathBuf};

use hch_profile::{check, CheckTarget};

/// The JVM's verdict from its captured jcmd answer: the first section of the capture.
fn jvm_accepted(capture: &str) -> bool {
    let jcmd = capture.split("=== java").next().unwrap_or("");
    jcmd.contains("compiler directives added")
}

#[test]
fn reproduces_the_accept_reject_matrix_of_jdk17_and_jdk25() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/directives");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    assert!(
        files.len() >= 17,
        "captured files missing in {}",
        dir.display()
    );
    let mut mismatches = Vec::new();
    for feature in [17u32, 25] {
        for f in &files {
            let stem = f.file_stem().unwrap().to_string_lossy();
            let capture =
                std::fs::read_to_string(dir.join(format!("jdk{feature}/{stem}.txt"))).unwrap();
            let text = std::fs::read_to_string(f).unwrap();
            let report = check(
                &text,
                CheckTarget {
                    feature,
                    update: None,
                    hot_option: false,
                    dragonwell: false,
                },
            );
            if report.accepted != jvm_accepted(&capture) {
                mismatches.push(format!(
                    "jdk{feature} {stem}: hch says {:?}, JVM accepted={}",
                    report,
                    jvm_accepted(&capture)
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn hot_option_is_refused_by_stock_jdks_with_a_plain_hint() {
    let text = "[ { match: \"a/B.c()V\", c2: { Hot: true } } ]";
    for feature in [17, 25] {
        let r = check(
            text,
            CheckTarget {
                feature,
                update: None,
                hot_option: false,
                dragonwell: false,
            },
        );
        assert!(!r.accepted);
        assert!(
            r.errors[0].message.contains("--dialect stock"),
            "{:?}",
            r.errors
        );
        assert!(
            check(
                text,
                CheckTarget {
                    feature,
                    update: None,
                    hot_option: true,
                    dragonwell: false,
                }
            )
            .accepted
        );
    }
}

#[test]
fn warns_about_dropped_inline_rules_and_key_prefixes() {
    let r = check(
        "[ { match: \"a.b\", excl: true, inline: \"a.c\" } ]",
        CheckTarget {
            feature: 25,
            update: None,
            hot_option: false,
            dragonwell: false,
        },
    );
    assert!(r.accepted);
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
}

#[test]
fn too_many_directives_for_the_stack() {
    let one = "{ match: \"a.b\", Exclude: false }";
    let text = format!("[{}]", vec![one; 51].join(","));
    let r = check(
        &text,
        CheckTarget {
            feature: 17,
            update: None,
            hot_option: false,
            dragonwell: false,
        },
    );
    assert!(!r.accepted);
    assert!(r.errors[0].message.contains("at most 50"));
}

/// Every prefix and a byte-flipped copy of every captured file: a verdict, never a panic.
#[test]
fn truncated_and_mutated_files_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/directives");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let prefix = String::from_utf8_lossy(&bytes[..cut]);
            let _ = check(
                &prefix,
                CheckTarget {
                    feature: 17,
                    update: None,
                    hot_option: false,
                    dragonwell: false,
                },
            );
        }
        for i in 0..bytes.len() {
            let mut m = bytes.to_vec();
            m[i] = b"{}[]\",:*/ \n"[i % 11];
            let _ = check(
                &String::from_utf8_lossy(&m),
                CheckTarget {
                    feature: 25,
                    update: None,
                    hot_option: true,
                    dragonwell: false,
                },
            );
        }
    }
}

/// JDK-8318811 (a `//` comment swallows the next character) by release: 11 and 17 have it, 21
/// before 21.0.8 too (checked on 21.0.8, which accepts good.json), 22 on do not.
#[test]
fn line_comment_bug_by_release() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/directives");
    let text = std::fs::read_to_string(dir.join("good.json")).unwrap();
    for (feature, update, rejected_as) in [
        (11, Some(13), Some("JDK 11 drops")),
        (17, None, Some("JDK 17 drops")),
        (21, None, Some("JDK 21 before 21.0.8 drops")),
        (21, Some(7), Some("JDK 21.0.7 drops")),
        (21, Some(8), None),
        (22, None, None),
        (25, Some(3), None),
    ] {
        let target = CheckTarget {
            feature,
            update,
            ..CheckTarget::default()
        };
        let r = check(&text, target);
        match rejected_as {
            Some(words) => {
                assert!(!r.accepted, "{target:?}");
                let msg = &r.errors[0].message;
                assert!(
                    msg.starts_with(words) && msg.contains("JDK-8318811"),
                    "{msg}"
                );
            }
            None => assert!(r.accepted, "{target:?}: {:?}", r.errors),
        }
    }
}
