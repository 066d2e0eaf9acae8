//! Bounded random-mutation fuzzing of the reply parser over every captured Return: whatever
//! the bytes, parsing ends with a value or an error, never a panic, a hang or a huge allocation.

use hch_jmx::jrmp;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

// Every Return in the captures (bounded to 8 kB each so the test stays fast).
fn replies() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(DATA).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(cap) = name.strip_suffix(".stream0.messages.txt") else {
            continue;
        };
        let s2c = std::fs::read(format!("{DATA}/{cap}.stream0.s2c.bin")).unwrap();
        for line in std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("S->C") && l.contains("RETURN"))
        {
            let mut it = line.split_whitespace().skip(1);
            let off: usize = it.next().unwrap()[1..].parse().unwrap();
            let len: usize = it.next().unwrap()[4..].parse().unwrap();
            if len <= 8192 {
                out.push(s2c[off..off + len].to_vec());
            }
        }
    }
    out
}

fn mutate(rng: &mut hch_testkit::Rng, b: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(b.len());
        match rng.below(5) {
            0 => b[i] = rng.next_u64() as u8,
            1 => b[i] ^= 1 << rng.below(8),
            2 => {
                b[i] = [
                    0x70, 0x71, 0x72, 0x73, 0x75, 0x77, 0x78, 0x7a, 0x7c, 0x7e, 0xff, 0x7f,
                ][rng.below(12)]
            }
            3 => b.truncate(i.max(1)),
            _ => b.insert(i, rng.next_u64() as u8),
        }
    }
}

#[test]
fn mutated_replies_never_panic() {
    let replies = replies();
    assert!(replies.len() > 50, "{}", replies.len());
    let mut rng = hch_testkit::Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 2];
    for round in 0..400 {
        for r in &replies {
            let mut b = r.clone();
            mutate(&mut rng, &mut b);
            let res = jrmp::parse_return(&b, round % 2 == 0);
            outcomes[usize::from(res.is_ok())] += 1;
            if let Ok(ret) = res {
                // Walking the result must not panic either.
                let _ = jrmp::remote_ref(&ret.graph, ret.value);
                let _ = jrmp::exception(&ret.graph, ret.value);
            }
        }
    }
    eprintln!("errors {}, parsed {}", outcomes[0], outcomes[1]);
}

// A Return header (normal return), then `value`.
fn return_with(value: &[u8]) -> Vec<u8> {
    let mut b = vec![0x51, 0xac, 0xed, 0x00, 0x05, 0x77, 0x0f, 0x01];
    b.extend([0u8; 14]);
    b.extend_from_slice(value);
    b
}

/// 100,000 nested Object[]: a depth limit error, not a stack overflow.
#[test]
fn deep_nesting_is_refused() {
    let mut v = vec![0x75, 0x72, 0x00, 0x13];
    v.extend(b"[Ljava.lang.Object;");
    v.extend([
        0x90, 0xce, 0x58, 0x9f, 0x10, 0x73, 0x29, 0x6c, 0x02, 0x00, 0x00, 0x78, 0x70, 0, 0, 0, 1,
    ]);
    for _ in 0..100_000 {
        // An Object[] of one element, its class by reference to the first descriptor.
        v.extend([0x75, 0x71, 0x00, 0x7e, 0x00, 0x00, 0, 0, 0, 1]);
    }
    let e = jrmp::parse_return(&return_with(&v), true).unwrap_err();
    assert!(
        matches!(
            e,
            hch_jmx::Error::Limit {
                what: "levels of nesting",
                ..
            }
        ),
        "{e}"
    );
}

/// References to handles that do not exist, and a class descriptor that is its own superclass.
#[test]
fn bad_references_are_refused() {
    let e = jrmp::parse_return(&return_with(&[0x71, 0x00, 0x7e, 0x00, 0x05]), true).unwrap_err();
    assert!(
        matches!(&e, hch_jmx::Error::Malformed { what, .. } if what.contains("unknown handle")),
        "{e}"
    );
    // TC_OBJECT, class "A" whose superclass is a reference to itself (handle 0).
    let mut v = vec![
        0x73, 0x72, 0x00, 0x01, b'A', 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x78,
    ];
    v.extend([0x71, 0x00, 0x7e, 0x00, 0x00]);
    let e = jrmp::parse_return(&return_with(&v), true).unwrap_err();
    assert!(
        matches!(
            &e,
            hch_jmx::Error::Malformed { .. } | hch_jmx::Error::Limit { .. }
        ),
        "{e}"
    );
}

/// Regression (review): an endless superclass chain and a long run of TC_RESET markers were
/// read by recursion with no limit; both must end in an error, not a stack overflow.
#[test]
fn superclass_chains_and_reset_runs_are_bounded() {
    // TC_OBJECT, then class "A" whose superclass is a new class "A" ... 100,000 times.
    let mut v = vec![0x73];
    for _ in 0..100_000 {
        v.extend([
            0x72, 0x00, 0x01, b'A', 0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0x00, 0x00, 0x78,
        ]);
    }
    assert!(jrmp::parse_return(&return_with(&v), true).is_err());
    let mut resets = vec![0x79; 200_000];
    resets.push(0x70);
    let _ = jrmp::parse_return(&return_with(&resets), true);
}

/// Decoded array elements are 16 bytes each whatever their size on the wire: an Object[5] of
/// boolean[1000000] (5 MB sent) passes the 4 million element cap of one reply at its fourth
/// array and is refused, instead of growing to 80 MB of values.
#[test]
fn array_elements_are_capped_per_reply() {
    // An Object[5] (class descriptor handle 0, the array handle 1) ...
    let mut v = vec![0x75, 0x72, 0x00, 0x13];
    v.extend(b"[Ljava.lang.Object;");
    v.extend([
        0x90, 0xce, 0x58, 0x9f, 0x10, 0x73, 0x29, 0x6c, 0x02, 0x00, 0x00, 0x78, 0x70, 0, 0, 0, 5,
    ]);
    // ... of boolean[1000000]: the first with its descriptor (handle 2), then by reference.
    for i in 0..5 {
        if i == 0 {
            v.extend([
                0x75, 0x72, 0x00, 0x02, b'[', b'Z', 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00,
            ]);
            v.extend([0x00, 0x78, 0x70]);
        } else {
            v.extend([0x75, 0x71, 0x00, 0x7e, 0x00, 0x02]);
        }
        v.extend(1_000_000u32.to_be_bytes());
        v.extend(std::iter::repeat_n(1u8, 1_000_000));
    }
    let e = jrmp::parse_return(&return_with(&v), true).unwrap_err();
    assert!(
        matches!(
            e,
            hch_jmx::Error::TooLong {
                what: "array elements in one reply",
                claimed: 4_000_005,
                limit: 4_000_000,
                ..
            }
        ),
        "{e}"
    );
}

/// A long block data record announcing 100 MB is refused before its bytes are awaited.
#[test]
fn long_block_data_is_capped() {
    let mut v = vec![0x7a];
    v.extend((100u32 << 20).to_be_bytes());
    let mut b = vec![0x51, 0xac, 0xed, 0x00, 0x05];
    b.extend(v);
    let e = jrmp::parse_return(&b, true).unwrap_err();
    assert!(
        matches!(
            e,
            hch_jmx::Error::TooLong {
                what: "bytes of block data",
                claimed: 104_857_600,
                ..
            }
        ),
        "{e}"
    );
}
