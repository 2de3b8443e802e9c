//! Small kernels of the networks the core runs itself (Silero VAD, the voice encoder):
//! matrix products and branch-free activations.

/// `c (m × n) = a (m × k, strides ra, ca) · b (k × n, strides rb, cb)`, all f32.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    (ra, ca): (usize, usize),
    b: &[f32],
    (rb, cb): (usize, usize),
    c: &mut [f32],
) {
    if m == 0 || n == 0 {
        return;
    }
    // The furthest element each operand is read or written at must be inside its slice.
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(k > 0 && last(m, k, ra, ca) < a.len() && last(k, n, rb, cb) < b.len());
    assert!(c.len() >= m * n);
    // SAFETY: the asserts above keep every index the product touches inside the three
    // slices, and `c` is borrowed mutably, so it aliases neither operand.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            ra as isize,
            ca as isize,
            b.as_ptr(),
            rb as isize,
            cb as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `e^x` for f32 without a branch, so that loops over it vectorise: `x = n·ln 2 + r` with
/// |r| ≤ ln 2 / 2, a degree-6 polynomial for `e^r` (Cephes' coefficients), `2^n` built in
/// the exponent bits. Relative error about 2e-7; inputs are clamped to ±87.
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 87.0);
    // Round to nearest by adding and taking away 1.5 · 2^23 (no rounding instruction needed).
    let n = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e = p * (r * r) + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The logistic function.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The hyperbolic tangent, from the logistic function.
pub(crate) fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}
