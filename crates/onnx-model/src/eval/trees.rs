//! The tree ensembles: each tree walked to its leaf, leaf weights aggregated per target in
//! `f32`, and onnxruntime's finalisation of the scores.

use super::transforms::{logistic, post_transform, probit};
use crate::plan::{Aggregate, NodeMode, PostTransform, Trees, TreesKind};

/// The leaf a tree sends `x` to.
fn leaf(trees: &Trees<'_>, root: u32, x: &[f32]) -> Option<usize> {
    let mut node = root as usize;
    // A well-formed tree reaches a leaf in fewer steps than it has nodes.
    for _ in 0..=trees.mode.len() {
        let mode = *trees.mode.get(node)?;
        if mode == NodeMode::Leaf {
            return Some(node);
        }
        let value = *x.get(*trees.feature.get(node)? as usize)?;
        let threshold = *trees.threshold.get(node)?;
        // Every comparison with NaN is false except `!=` (and a node tracking missing values
        // sends NaN to its true child), as in onnxruntime.
        let holds = (value.is_nan() && *trees.missing_true.get(node)?)
            || match mode {
                NodeMode::Leq => value <= threshold,
                NodeMode::Lt => value < threshold,
                NodeMode::Gte => value >= threshold,
                NodeMode::Gt => value > threshold,
                NodeMode::Eq => value == threshold,
                NodeMode::Neq => value != threshold,
                NodeMode::Leaf => true,
            };
        node = if holds {
            *trees.true_child.get(node)?
        } else {
            *trees.false_child.get(node)?
        } as usize;
    }
    None
}

pub(super) fn trees(trees: &Trees<'_>, x: &[f32]) -> Option<Vec<f32>> {
    // Per target: the aggregate in f32 (onnxruntime's accumulator for float input), trees in
    // their order, and whether any leaf weighed it (`ScoreValue::has_score`).
    let mut scores = vec![0.0f32; trees.targets];
    let mut weighed = vec![false; trees.targets];
    for &root in trees.roots {
        let leaf = leaf(trees, root, x)?;
        let start = *trees.weights_start.get(leaf)? as usize;
        let end = *trees.weights_start.get(leaf + 1)? as usize;
        for weight in start..end {
            let target = *trees.weight_target.get(weight)? as usize;
            let value = *trees.weight_value.get(weight)?;
            let score = scores.get_mut(target)?;
            *score = match trees.aggregate {
                Aggregate::Sum | Aggregate::Average => *score + value,
                Aggregate::Min if weighed[target] && value < *score => value,
                Aggregate::Max if weighed[target] && value > *score => value,
                Aggregate::Min | Aggregate::Max if weighed[target] => *score,
                Aggregate::Min | Aggregate::Max => value,
            };
            weighed[target] = true;
        }
    }
    match trees.kind {
        TreesKind::Regressor => Some(regressor_scores(trees, scores, &weighed)),
        TreesKind::Classifier => classifier_scores(trees, scores, weighed),
    }
}

/// `TreeAggregator{Sum,Average,Min,Max}::FinalizeScores` of onnxruntime's regressor.
fn regressor_scores(trees: &Trees<'_>, mut scores: Vec<f32>, weighed: &[bool]) -> Vec<f32> {
    let count = trees.roots.len() as f32;
    if trees.targets == 1 {
        let origin = if trees.base_values.len() == 1 {
            trees.base_values[0]
        } else {
            0.0
        };
        let score = match trees.aggregate {
            Aggregate::Sum => scores[0] + origin,
            Aggregate::Average => scores[0] / count + origin,
            Aggregate::Min | Aggregate::Max if weighed[0] => scores[0] + origin,
            Aggregate::Min | Aggregate::Max => origin,
        };
        return vec![if trees.post_transform == PostTransform::Probit {
            probit(score)
        } else {
            score
        }];
    }
    let base = |j: usize| {
        if trees.base_values.len() == trees.targets {
            trees.base_values[j]
        } else {
            0.0
        }
    };
    for (j, score) in scores.iter_mut().enumerate() {
        *score = match trees.aggregate {
            Aggregate::Sum => *score + base(j),
            Aggregate::Average => *score / count + base(j),
            Aggregate::Min | Aggregate::Max if weighed[j] => base(j) + *score,
            Aggregate::Min | Aggregate::Max => base(j),
        };
    }
    post_transform(trees.post_transform, &mut scores);
    scores
}

/// onnxruntime's `TreeAggregatorClassifier::FinalizeScores` and `write_scores`, including
/// its binary layouts: with two labels and every leaf weight on one class, the single score
/// `s` becomes `[1 − s, s]` when every weight is non-negative (whatever the post-transform),
/// otherwise `[σ(−s), σ(s)]` (logistic) or `[−s, s]`.
fn classifier_scores(
    trees: &Trees<'_>,
    mut scores: Vec<f32>,
    mut weighed: Vec<bool>,
) -> Option<Vec<f32>> {
    let base = trees.base_values;
    if trees.targets > 2 {
        for (j, score) in scores.iter_mut().enumerate() {
            if let Some(b) = base.get(j) {
                *score += b;
                weighed[j] = true;
            }
        }
        return Some(written(trees, &scores, &weighed));
    }
    if trees.targets != 2 {
        return None;
    }
    // How the single score is written (`add_second_class`): 3 when there are no base values.
    let mut second = if base.is_empty() { Some(3) } else { None };
    let mut kept = 2;
    match base.len() {
        2 if weighed[1] => {
            scores[1] = base[1] + scores[0];
            scores[0] = -scores[1];
        }
        2 => {
            scores[1] += base[1];
            scores[0] += base[0];
        }
        1 => {
            scores[0] += base[0];
            if !weighed[1] {
                kept = 1;
            }
        }
        _ => {
            if !weighed[1] {
                kept = 1;
            }
        }
    }
    let positive = if weighed[1] {
        scores[1]
    } else if weighed[0] {
        scores[0]
    } else {
        0.0
    };
    if trees.binary_one_class {
        second = Some(match trees.weights_all_positive {
            true if positive > 0.5 => 0,
            true => 1,
            false if positive > 0.0 => 2,
            false => 3,
        });
    }
    if kept == 2 {
        return Some(written(trees, &scores, &weighed));
    }
    let s = if weighed[0] { scores[0] } else { 0.0 };
    Some(match (trees.post_transform, second?) {
        (PostTransform::Probit, _) => vec![probit(s)],
        (_, 0 | 1) => vec![1.0 - s, s],
        (PostTransform::Logistic, _) => vec![logistic(-s), logistic(s)],
        _ => vec![-s, s],
    })
}

/// onnxruntime's `write_scores` for one score per class: a class no leaf weighed is written as
/// 0 (`ScoreValue`'s conversion), then the post-transform over the row.
fn written(trees: &Trees<'_>, scores: &[f32], weighed: &[bool]) -> Vec<f32> {
    let mut written: Vec<f32> = scores
        .iter()
        .zip(weighed)
        .map(|(score, weighed)| if *weighed { *score } else { 0.0 })
        .collect();
    post_transform(trees.post_transform, &mut written);
    written
}
