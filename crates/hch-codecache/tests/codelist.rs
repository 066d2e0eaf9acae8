//! `Compiler.codelist` on real captured outputs of JDK 17 and 25.

use hch_codecache::codelist::{self, State, StateMapping};

mod common;

/// An independent count of state numbers: the third whitespace field of every entry line.
fn raw_states(text: &str) -> Vec<i8> {
    common::jcmd_body(text)
        .lines()
        .filter(|l| l.contains(" [0x"))
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn jdk17_states_map_two_to_not_entrant() {
    let text = common::data("jdk17_Compiler.codelist.txt");
    let list = codelist::parse_for(common::jcmd_body(&text), 17).unwrap();
    let raw = raw_states(&text);
    assert_eq!(list.entries.len(), raw.len());
    assert_eq!(list.mapping, Some(StateMapping::Compiled));
    let ne = list
        .entries
        .iter()
        .filter(|e| e.state == State::NotEntrant)
        .count();
    assert_eq!(ne, raw.iter().filter(|&&s| s == 2).count());
    assert!(ne > 0);
    // Inference agrees with the explicit version.
    assert_eq!(codelist::parse(common::jcmd_body(&text)).unwrap(), list);
}

#[test]
fn jdk25_states_map_one_to_not_entrant() {
    let text = common::data("jdk25_Compiler.codelist.txt");
    let list = codelist::parse_for(common::jcmd_body(&text), 25).unwrap();
    let raw = raw_states(&text);
    assert_eq!(list.mapping, Some(StateMapping::Nmethod));
    let ne = list
        .entries
        .iter()
        .filter(|e| e.state == State::NotEntrant)
        .count();
    assert_eq!(ne, raw.iter().filter(|&&s| s == 1).count());
    assert!(ne > 0);
    let first = &list.entries[0];
    assert_eq!(first.compile_id, 4);
    assert_eq!(first.level, 0);
    assert_eq!(first.method.class, "jdk/internal/misc/Unsafe");
    assert_eq!(first.method.name, "getReferenceVolatile");
    assert_eq!(
        first.method.descriptor,
        "(Ljava/lang/Object;J)Ljava/lang/Object;"
    );
    assert_eq!(first.start, 0x00007fc977ec7008);
    assert_eq!(first.code_size(), 0x00007fc977ec7560 - 0x00007fc977ec7100);
}

#[test]
fn pid_line_of_jcmd_is_skipped_and_methods_round_trip() {
    for f in ["jdk17_Compiler.codelist.txt", "jdk25_Compiler.codelist.txt"] {
        let text = common::data(f);
        let body = common::jcmd_body(&text);
        let list = codelist::parse(body).unwrap();
        for (e, line) in list
            .entries
            .iter()
            .zip(body.lines().filter(|l| l.contains(" [0x")))
        {
            assert_eq!(
                line.split_whitespace().nth(3).unwrap(),
                e.method.dotted(),
                "{f}"
            );
        }
    }
}
