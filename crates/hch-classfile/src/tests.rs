//! Byte layout of written classes and of assembled instructions.

use super::*;

/// The bytes of a class with one static method `f` whose body `emit` writes.
fn one_method(emit: impl FnOnce(&mut Code<'_>)) -> Result<Vec<u8>, Error> {
    let mut class = ClassFile::new(ACC_PUBLIC, "A", "java/lang/Object");
    let mut code = class.method(ACC_STATIC, "f", "()V");
    emit(&mut code);
    code.finish(4, 2)?;
    class.to_bytes()
}

/// The bytecode of `f` in a class written by `one_method`: after the Code attribute's header.
fn code_of(class: &[u8]) -> &[u8] {
    // The class ends with: code, exception table length (2), code attributes (2), class
    // attributes (2); the code length is the u32 before the code.
    let end = class.len() - 6;
    let mut len_at = end - 4;
    loop {
        let len = u32::from_be_bytes(class[len_at..len_at + 4].try_into().unwrap()) as usize;
        if len_at + 4 + len == end {
            return &class[len_at + 4..end];
        }
        len_at -= 1;
    }
}

#[test]
fn header_fields_and_methods() {
    let mut class = ClassFile::new(ACC_PUBLIC, "a/B", "java/lang/Object");
    class.field(ACC_STATIC, "x", "I");
    class.native_method(ACC_PUBLIC | ACC_STATIC, "n", "()I");
    let bytes = class.to_bytes().unwrap();
    assert_eq!(&bytes[..8], &[0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 49]);
    // Pool: a/B, Class, Object, Class, x, I, n, ()I: 8 entries, count 9.
    assert_eq!(&bytes[8..10], &[0, 9]);
    let after_pool = bytes.len() - 30;
    assert_eq!(
        &bytes[after_pool..],
        &[
            0, 0x21, 0, 2, 0, 4, 0, 0, // access, this, super, no interfaces
            0, 1, 0, 8, 0, 5, 0, 6, 0, 0, // one field: static x I
            0, 1, 1, 9, 0, 7, 0, 8, 0, 0, // one method: public static native n ()I
            0, 0, // no class attributes
        ]
    );
}

#[test]
fn code_attribute_layout() {
    let bytes = one_method(|c| {
        c.op(op::RETURN);
    })
    .unwrap();
    // Method: access, name, descriptor, one attribute "Code" of 13 bytes.
    let tail = &bytes[bytes.len() - 29..];
    assert_eq!(&tail[..6], &[0, 8, 0, 5, 0, 6]);
    assert_eq!(&tail[6..8], &[0, 1]);
    assert_eq!(&tail[10..14], &[0, 0, 0, 13]);
    assert_eq!(
        &tail[14..],
        &[0, 4, 0, 2, 0, 0, 0, 1, 0xb1, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn int_constants_take_the_shortest_form() {
    let bytes = one_method(|c| {
        for v in [-1, 5, 6, -128, 200, -32768, 40000] {
            c.iconst(v).op(op::POP);
        }
        c.op(op::RETURN);
    })
    .unwrap();
    let code = code_of(&bytes);
    let pops: Vec<u8> = code.split(|&b| b == op::POP).flatten().copied().collect();
    assert_eq!(
        pops,
        [2, 8, 0x10, 6, 0x10, 0x80, 0x11, 0, 200, 0x11, 0x80, 0, 0x12, 7, 0xb1]
    );
}

#[test]
fn ldc_forms() {
    let mut class = ClassFile::new(ACC_PUBLIC, "A", "java/lang/Object");
    let mut code = class.method(ACC_STATIC, "f", "()V");
    for i in 0..300 {
        code.ldc(Constant::Int(1_000_000 + i)).op(op::POP);
    }
    code.ldc(Constant::Long(1)).op(op::POP2);
    code.ldc(Constant::Str("s")).op(op::POP).op(op::RETURN);
    let len = code.len();
    code.finish(2, 0).unwrap();
    let bytes = class.to_bytes().unwrap();
    let code = code_of(&bytes);
    assert_eq!(code.len(), len);
    // Pool: A, Class, Object, Class, f, ()V, then the ints from index 7.
    assert_eq!(&code[..2], &[op::LDC, 7]);
    assert_eq!(&code[3 * 248..3 * 248 + 2], &[op::LDC, 255]);
    assert_eq!(&code[3 * 249..3 * 249 + 3], &[op::LDC_W, 1, 0]);
    // The long at 307 (two slots), then Utf8 "s" at 309 and String at 310.
    let tail = &code[code.len() - 9..];
    assert_eq!(
        tail,
        &[op::LDC2_W, 1, 51, op::POP2, op::LDC_W, 1, 54, op::POP, 0xb1]
    );
}

#[test]
fn locals_and_iinc() {
    let bytes = one_method(|c| {
        c.local(op::ILOAD, 0)
            .local(op::ASTORE, 3)
            .local(op::LLOAD, 4)
            .local(op::DSTORE, 300)
            .iinc(2, -1)
            .iinc(2, 1000)
            .op(op::RETURN);
    })
    .unwrap();
    assert_eq!(
        code_of(&bytes),
        [0x1a, 0x4e, 0x16, 4, 0xc4, 0x39, 1, 44, 0x84, 2, 0xff, 0xc4, 0x84, 0, 2, 3, 0xe8, 0xb1]
    );
}

#[test]
fn branches_forward_and_backward() {
    let bytes = one_method(|c| {
        let (top, out) = (c.label(), c.label());
        c.bind(top).op(op::ICONST_0).branch(op::IFEQ, out);
        c.branch(op::GOTO, top).bind(out).op(op::RETURN);
    })
    .unwrap();
    // 0: iconst_0, 1: ifeq +6 (to 7), 4: goto -4 (to 0), 7: return.
    assert_eq!(code_of(&bytes), [3, 0x99, 0, 6, 0xa7, 0xff, 0xfc, 0xb1]);
}

#[test]
fn mistakes_are_reported_with_the_method() {
    let unbound = one_method(|c| {
        let l = c.label();
        c.branch(op::GOTO, l);
    });
    assert!(
        matches!(unbound, Err(Error::UnboundLabel { ref method, label: 0 }) if method == "A.f()V")
    );
    let twice = one_method(|c| {
        let l = c.label();
        c.bind(l).op(op::NOP).bind(l).op(op::RETURN);
    });
    assert!(matches!(
        twice,
        Err(Error::LabelBoundTwice {
            first: 0,
            second: 1,
            ..
        })
    ));
    let wrong = one_method(|c| {
        let l = c.label();
        c.bind(l).branch(op::IADD, l);
    });
    assert!(matches!(
        wrong,
        Err(Error::WrongOpcode {
            opcode: op::IADD,
            ..
        })
    ));
    let far = one_method(|c| {
        let l = c.label();
        c.branch(op::GOTO, l)
            .raw(&[op::NOP; 40000])
            .bind(l)
            .op(op::RETURN);
    });
    assert!(matches!(
        far,
        Err(Error::BranchTooFar {
            at: 0,
            target: 40003,
            ..
        })
    ));
    assert!(matches!(
        one_method(|_| {}),
        Err(Error::CodeLength { len: 0, .. })
    ));
}

#[test]
fn limits_of_the_format() {
    let mut class = ClassFile::new(ACC_PUBLIC, "A", "java/lang/Object");
    for i in 0..33000 {
        class.field(ACC_STATIC, &format!("f{i}"), "J");
        class.field(ACC_STATIC, &format!("g{i}"), "J");
    }
    let e = class.to_bytes().unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooMany {
                what: "the constant pool count",
                ..
            }
        ),
        "{e}"
    );
    let mut class = ClassFile::new(ACC_PUBLIC, "A", "java/lang/Object");
    class.field(ACC_STATIC, &"x".repeat(70000), "J");
    let e = class.to_bytes().unwrap_err();
    assert!(matches!(e, Error::TooMany { count: 70000, .. }), "{e}");
}
