//! The assembler: a method's bytecode, emitted instruction by instruction, with labels whose
//! branches are patched when the method is finished.

use crate::pool::Constant;
use crate::{op, ClassFile, Error};

/// A branch target in one method, made by [`Code::label`] and placed by [`Code::bind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// A branch whose 16-bit offset is written at the end: the opcode's offset and its target.
#[derive(Debug)]
struct Fixup {
    at: u32,
    label: Label,
}

/// A method being assembled into its class. Emitters chain (`code.op(..).iconst(..)`); a
/// `Code` dropped without [`Code::finish`] adds nothing to the class.
#[derive(Debug)]
#[must_use = "a method joins its class only when finished"]
pub struct Code<'a> {
    class: &'a mut ClassFile,
    header: [u16; 3],
    method: String,
    bytes: Vec<u8>,
    labels: Vec<Option<u32>>,
    fixups: Vec<Fixup>,
    /// The first mistake, reported by `finish`.
    error: Option<Error>,
}

impl<'a> Code<'a> {
    /// An empty method of `class`.
    pub(crate) fn new(class: &'a mut ClassFile, access: u16, name: &str, desc: &str) -> Self {
        let header = [access, class.pool.utf8(name), class.pool.utf8(desc)];
        let method = format!("{}.{name}{desc}", class.name);
        Code {
            class,
            header,
            method,
            bytes: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
            error: None,
        }
    }

    /// The bytecode's length so far, i.e. the offset of the next instruction.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was emitted yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// An instruction without operands (`iadd`, `ireturn`, `lcmp`, `dup`...), or raw bytes'
    /// first byte: operands may follow with [`Code::raw`].
    pub fn op(&mut self, opcode: u8) -> &mut Self {
        self.bytes.push(opcode);
        self
    }

    /// Raw bytes, for an instruction this assembler has no emitter for.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Pushes an int with the shortest instruction: `iconst_<n>`, `bipush`, `sipush` or `ldc`.
    pub fn iconst(&mut self, v: i32) -> &mut Self {
        match v {
            -1..=5 => self.op((i32::from(op::ICONST_0) + v) as u8),
            -128..=127 => self.raw(&[op::BIPUSH, v as u8]),
            -32768..=32767 => self.op(op::SIPUSH).u16(v as u16),
            _ => self.ldc(Constant::Int(v)),
        }
    }

    /// Pushes a constant from the pool: `ldc`, `ldc_w`, or `ldc2_w` for a long or a double.
    pub fn ldc(&mut self, c: Constant<'_>) -> &mut Self {
        let i = self.class.pool.constant(c);
        match (c.is_wide(), i) {
            (true, _) => self.op(op::LDC2_W).u16(i),
            (false, 0..=255) => self.raw(&[op::LDC, i as u8]),
            (false, _) => self.op(op::LDC_W).u16(i),
        }
    }

    /// A local variable load or store (`iload`, `lstore`, `aload`...: give the opcode that
    /// takes an index) in its shortest form: `iload_0` to `iload_3`, the plain one, or `wide`.
    pub fn local(&mut self, opcode: u8, index: u16) -> &mut Self {
        let short = match opcode {
            op::ILOAD..=op::ALOAD => 0x1a + (opcode - op::ILOAD) * 4,
            op::ISTORE..=op::ASTORE => 0x3b + (opcode - op::ISTORE) * 4,
            _ => return self.wrong(opcode, "a local variable load or store"),
        };
        match index {
            0..=3 => self.op(short + index as u8),
            4..=255 => self.raw(&[opcode, index as u8]),
            _ => self.raw(&[op::WIDE, opcode]).u16(index),
        }
    }

    /// `iinc index delta`, `wide` when either does not fit a byte.
    pub fn iinc(&mut self, index: u16, delta: i16) -> &mut Self {
        match (u8::try_from(index), i8::try_from(delta)) {
            (Ok(i), Ok(d)) => self.raw(&[op::IINC, i, d as u8]),
            _ => self.raw(&[op::WIDE, op::IINC]).u16(index).u16(delta as u16),
        }
    }

    /// A new label, not yet placed.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `label` at the next instruction.
    pub fn bind(&mut self, label: Label) -> &mut Self {
        let here = self.bytes.len() as u32;
        match self.labels[label.0] {
            Some(first) => self.fail(|method| Error::LabelBoundTwice {
                method,
                label: label.0,
                first,
                second: here,
            }),
            None => self.labels[label.0] = Some(here),
        }
        self
    }

    /// A 16-bit branch (`goto`, `ifeq`..`ifle`, `if_icmpeq`..`if_acmpne`, `ifnull`,
    /// `ifnonnull`) to `label`, before or after it is bound.
    pub fn branch(&mut self, opcode: u8, label: Label) -> &mut Self {
        let at = self.bytes.len() as u32;
        if !matches!(opcode, op::IFEQ..=op::GOTO | op::IFNULL | op::IFNONNULL) {
            return self.wrong(opcode, "a 16-bit branch");
        }
        self.fixups.push(Fixup { at, label });
        self.op(opcode).u16(0)
    }

    /// `invokestatic owner.name descriptor`.
    pub fn invokestatic(&mut self, owner: &str, name: &str, desc: &str) -> &mut Self {
        let i = self.class.pool.method_ref(owner, name, desc);
        self.op(op::INVOKESTATIC).u16(i)
    }

    /// `invokevirtual owner.name descriptor`.
    pub fn invokevirtual(&mut self, owner: &str, name: &str, desc: &str) -> &mut Self {
        let i = self.class.pool.method_ref(owner, name, desc);
        self.op(op::INVOKEVIRTUAL).u16(i)
    }

    /// `invokespecial owner.name descriptor` (constructors, `super` calls).
    pub fn invokespecial(&mut self, owner: &str, name: &str, desc: &str) -> &mut Self {
        let i = self.class.pool.method_ref(owner, name, desc);
        self.op(op::INVOKESPECIAL).u16(i)
    }

    /// `getstatic owner.name descriptor`.
    pub fn getstatic(&mut self, owner: &str, name: &str, desc: &str) -> &mut Self {
        self.field_insn(op::GETSTATIC, owner, name, desc)
    }

    /// `putstatic owner.name descriptor`.
    pub fn putstatic(&mut self, owner: &str, name: &str, desc: &str) -> &mut Self {
        self.field_insn(op::PUTSTATIC, owner, name, desc)
    }

    /// A field instruction (`getstatic`, `putstatic`, `getfield`, `putfield`).
    pub fn field_insn(&mut self, opcode: u8, owner: &str, name: &str, desc: &str) -> &mut Self {
        let i = self.class.pool.field_ref(owner, name, desc);
        self.op(opcode).u16(i)
    }

    /// An instruction on a class (`new`, `anewarray`, `checkcast`, `instanceof`).
    pub fn type_insn(&mut self, opcode: u8, class: &str) -> &mut Self {
        let i = self.class.pool.class(class);
        self.op(opcode).u16(i)
    }

    /// Patches the branches and adds the method to its class with the caller's figures.
    pub fn finish(self, max_stack: u16, max_locals: u16) -> Result<(), Error> {
        let Code {
            class,
            header,
            method,
            mut bytes,
            labels,
            fixups,
            error,
        } = self;
        if let Some(e) = error {
            return Err(e);
        }
        if bytes.is_empty() || bytes.len() > 65535 {
            let len = bytes.len();
            return Err(Error::CodeLength { method, len });
        }
        for f in &fixups {
            let target = labels[f.label.0].ok_or_else(|| Error::UnboundLabel {
                method: method.clone(),
                label: f.label.0,
            })?;
            let offset = i16::try_from(i64::from(target) - i64::from(f.at)).map_err(|_| {
                Error::BranchTooFar {
                    method: method.clone(),
                    at: f.at,
                    target,
                }
            })?;
            let at = f.at as usize + 1;
            bytes[at..at + 2].copy_from_slice(&offset.to_be_bytes());
        }
        class.add_method(header, [max_stack, max_locals], &bytes);
        Ok(())
    }

    /// Appends a u16 operand.
    fn u16(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// Notes an opcode given to the wrong emitter (and emits nothing).
    fn wrong(&mut self, opcode: u8, expected: &'static str) -> &mut Self {
        let at = self.bytes.len() as u32;
        self.fail(|method| Error::WrongOpcode {
            method,
            opcode,
            at,
            expected,
        });
        self
    }

    /// Keeps the first mistake for `finish`.
    fn fail(&mut self, make: impl FnOnce(String) -> Error) {
        if self.error.is_none() {
            self.error = Some(make(self.method.clone()));
        }
    }
}
