//! onnxruntime's float transforms, as its CPU kernels compute them (ml_common.h, MLAS).

use crate::plan::PostTransform;

/// onnxruntime's float `Sigmoid` (`MlasComputeLogistic`, mlas/lib/logistic.cpp): Eigen's
/// rational approximation on [−18, 18], clamped to [0, 1]. The constants are MLAS's, digit for
/// digit (rounded to `f32` as its `float` literals are).
#[allow(clippy::excessive_precision)]
pub(super) fn mlas_logistic(x: f32) -> f32 {
    const A9: f32 = 4.37031012579801e-11;
    const A7: f32 = 1.15627324459942e-07;
    const A5: f32 = 6.08574864600143e-05;
    const A3: f32 = 8.51377133304701e-03;
    const A1: f32 = 2.48287947061529e-01;
    const B10: f32 = 6.10247389755681e-13;
    const B8: f32 = 5.76102136993427e-09;
    const B6: f32 = 6.29106785017040e-06;
    const B4: f32 = 1.70198817374094e-03;
    const B2: f32 = 1.16817656904453e-01;
    const B0: f32 = 9.93151921023180e-01;
    let x = x.clamp(-18.0, 18.0);
    let x2 = x * x;
    let p = x * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * A9))));
    let q = B0 + x2 * (B2 + x2 * (B4 + x2 * (B6 + x2 * (B8 + x2 * B10))));
    (p / q + 0.5).clamp(0.0, 1.0)
}

/// onnxruntime's `ComputeLogistic` (ml_common.h): computed on |x| and mirrored, so that large
/// negative scores keep their precision.
pub(super) fn logistic(x: f32) -> f32 {
    let v = 1.0 / (1.0 + (-x.abs()).exp());
    if x < 0.0 {
        1.0 - v
    } else {
        v
    }
}

/// onnxruntime's `ComputeProbit`: √2 · erfinv(2x − 1).
pub(super) fn probit(x: f32) -> f32 {
    std::f32::consts::SQRT_2 * erf_inv(2.0 * x - 1.0)
}

/// onnxruntime's `ErfInv` approximation (ml_common.h).
fn erf_inv(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = (1.0 - x) * (1.0 + x);
    let log = x.ln();
    let v = 2.0 / (std::f32::consts::PI * 0.147) + 0.5 * log;
    let v2 = 1.0 / 0.147 * log;
    let v3 = -v + (v * v - v2).sqrt();
    sign * v3.sqrt()
}

/// onnxruntime's `ComputeSoftmax` / `ComputeSoftmaxZero`: the zero variant leaves scores of
/// magnitude at most 1e-7 out of the sum and scales them by `exp(−max)`.
fn softmax(scores: &mut [f32], zero: bool) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for score in scores.iter_mut() {
        if zero && score.abs() <= 1e-7 {
            *score *= (-max).exp();
            continue;
        }
        *score = (*score - max).exp();
        sum += *score;
    }
    let small = |score: &f32| zero && score.abs() <= 1e-7;
    for score in scores.iter_mut() {
        if !small(score) {
            *score /= sum;
        }
    }
}

pub(super) fn post_transform(transform: PostTransform, scores: &mut [f32]) {
    match transform {
        PostTransform::None => {}
        PostTransform::Logistic => scores.iter_mut().for_each(|s| *s = logistic(*s)),
        PostTransform::Softmax => softmax(scores, false),
        PostTransform::SoftmaxZero => softmax(scores, true),
        PostTransform::Probit => scores.iter_mut().for_each(|s| *s = probit(*s)),
    }
}
