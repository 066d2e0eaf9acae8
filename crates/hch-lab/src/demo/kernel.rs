//! The hot methods: `static int mK(int x)`, straight-line integer kernels made from a seeded
//! generator, each with its own constants and its own length.

use super::DemoError;
use hch_classfile::{op, ClassFile, Code, ACC_PUBLIC, ACC_STATIC};

/// SplitMix64: a tiny seeded generator, enough for constants and choices.
#[derive(Debug)]
pub(super) struct SplitMix(pub(super) u64);

impl SplitMix {
    /// The next 64 bits.
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One operation on a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `v += k` or `v += w` (another chain).
    Add,
    /// `v ^= k` or `v ^= w`.
    Xor,
    /// `v = (v << r) | (v >>> (32 - r))`.
    Rotate,
    /// `v ^= v << s` or `v ^= v >>> s`.
    Shift,
}

const STEPS: [Step; 4] = [Step::Add, Step::Xor, Step::Rotate, Step::Shift];

/// Locals: the argument `x`, then the four chains.
const X: u16 = 0;
const CHAINS: [u16; 4] = [1, 2, 3, 4];

/// `Gen`: the hot methods `m0..m{methods-1}`, each of `ops/2 ..= 3*ops/2` operations.
pub(super) fn hot_class(
    name: &str,
    ops: usize,
    methods: usize,
    seed: u64,
) -> Result<Vec<u8>, DemoError> {
    let mut class = ClassFile::new(ACC_PUBLIC, name, "java/lang/Object");
    let mut rng = SplitMix(seed);
    for k in 0..methods {
        let n = ops / 2 + rng.below(ops as u64 + 1) as usize;
        let mut code = class.method(ACC_PUBLIC | ACC_STATIC, &format!("m{k}"), "(I)I");
        kernel(&mut code, &mut rng, n);
        code.finish(3, 5)?;
    }
    Ok(class.to_bytes()?)
}

/// The body: four chains seeded from `x`, `n` steps spread over them in turn, then
/// `(a + b) ^ (c + d)`. A chain never takes the same step twice in a row, so that C2 cannot
/// fold two constants into one.
fn kernel(code: &mut Code<'_>, rng: &mut SplitMix, n: usize) {
    let [a, b, c, d] = CHAINS;
    code.local(op::ILOAD, X).local(op::ISTORE, a);
    with_constant(code, rng, X, b, op::IXOR);
    with_constant(code, rng, X, c, op::IADD);
    rotate(code, X, d, 1 + rng.below(31) as i32);
    let mut last = [Step::Shift, Step::Xor, Step::Add, Step::Rotate];
    for i in 0..n {
        let chain = i % 4;
        let step = next_step(rng, last[chain]);
        last[chain] = step;
        self::step(code, rng, step, CHAINS[chain]);
    }
    code.local(op::ILOAD, a).local(op::ILOAD, b).op(op::IADD);
    code.local(op::ILOAD, c).local(op::ILOAD, d).op(op::IADD);
    code.op(op::IXOR).op(op::IRETURN);
}

/// A step other than `last`, uniformly among the three others.
fn next_step(rng: &mut SplitMix, last: Step) -> Step {
    let others: Vec<Step> = STEPS.into_iter().filter(|&s| s != last).collect();
    others[rng.below(3) as usize]
}

/// Emits one step on local `v`; an add or xor takes another chain one time in four.
fn step(code: &mut Code<'_>, rng: &mut SplitMix, step: Step, v: u16) {
    let arith = if step == Step::Add {
        op::IADD
    } else {
        op::IXOR
    };
    match step {
        Step::Add | Step::Xor if rng.below(4) == 0 => {
            let other = CHAINS[(usize::from(v) + rng.below(3) as usize) % 4];
            code.local(op::ILOAD, v).local(op::ILOAD, other).op(arith);
            code.local(op::ISTORE, v);
        }
        Step::Add | Step::Xor => with_constant(code, rng, v, v, arith),
        Step::Rotate => rotate(code, v, v, 1 + rng.below(31) as i32),
        Step::Shift => {
            let shift = if rng.below(2) == 0 {
                op::ISHL
            } else {
                op::IUSHR
            };
            code.local(op::ILOAD, v)
                .local(op::ILOAD, v)
                .iconst(1 + rng.below(31) as i32);
            code.op(shift).op(op::IXOR).local(op::ISTORE, v);
        }
    }
}

/// `dst = src <arith> k` with a constant of 128..32767 in magnitude: a `sipush` and an
/// immediate of 32 bits in compiled code, whatever the value.
fn with_constant(code: &mut Code<'_>, rng: &mut SplitMix, src: u16, dst: u16, arith: u8) {
    let magnitude = 128 + rng.below(32640) as i32;
    let k = if rng.below(2) == 0 {
        magnitude
    } else {
        -magnitude
    };
    code.local(op::ILOAD, src)
        .iconst(k)
        .op(arith)
        .local(op::ISTORE, dst);
}

/// `dst = (src << r) | (src >>> (32 - r))`, which C2 makes one rotate instruction.
fn rotate(code: &mut Code<'_>, src: u16, dst: u16, r: i32) {
    code.local(op::ILOAD, src).iconst(r).op(op::ISHL);
    code.local(op::ILOAD, src).iconst(32 - r).op(op::IUSHR);
    code.op(op::IOR).local(op::ISTORE, dst);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytecode lengths of `count` kernels of `ops` mean steps.
    fn lengths(ops: usize, count: usize) -> Vec<usize> {
        let mut class = ClassFile::new(ACC_PUBLIC, "T", "java/lang/Object");
        let mut rng = SplitMix(7);
        (0..count)
            .map(|_| {
                let n = ops / 2 + rng.below(ops as u64 + 1) as usize;
                let mut code = class.method(ACC_STATIC, "m", "(I)I");
                kernel(&mut code, &mut rng, n);
                code.len()
            })
            .collect()
    }

    #[test]
    fn kernel_sizes_vary_and_stay_small() {
        for ops in [8, 24] {
            let v = lengths(ops, 2000);
            let (min, max) = (v.iter().min().unwrap(), v.iter().max().unwrap());
            let mut distinct = v.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert!(*max < 400, "ops {ops}: {max} bytes of bytecode");
            assert!(max - min > ops * 5, "ops {ops}: {min}..{max}");
            assert!(
                distinct.len() > ops * 3,
                "ops {ops}: {} sizes",
                distinct.len()
            );
        }
    }

    #[test]
    fn splitmix_reference_values() {
        // The first outputs for seed 0 of the reference implementation (Vigna's splitmix64.c).
        let mut r = SplitMix(0);
        assert_eq!(r.next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next(), 0x6e78_9e6a_a1b9_65f4);
    }
}
