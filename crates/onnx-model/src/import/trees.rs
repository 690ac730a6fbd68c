//! `TreeEnsembleClassifier` and `TreeEnsembleRegressor`: ONNX-ML's per-node attribute arrays
//! checked (every child and weight pointing at a node of its tree, every compared column inside
//! the input) and laid out as flat arrays with each tree's root.

use std::collections::{BTreeSet, HashMap};

use super::node::NodeContext;
use super::owned::{OwnedStep, OwnedTrees};
use super::ImportError;
use crate::plan::{Aggregate, NodeMode, PostTransform, TreesKind};

impl<'g> NodeContext<'_, 'g> {
    pub(super) fn trees(
        &self,
        out: usize,
        classifier: bool,
    ) -> Result<(&'g str, usize, OwnedStep), ImportError> {
        let (input, width) = self.value(0)?;
        let written = self.used_output(classifier)?;
        for name in [
            "nodes_values_as_tensor",
            "class_weights_as_tensor",
            "target_weights_as_tensor",
            "base_values_as_tensor",
            "nodes_hitrates_as_tensor",
        ] {
            if self.attribute(name).is_some() {
                return Err(self.fail(format!("attribute {name} is not supported")));
            }
        }
        let tree_ids = self.ints("nodes_treeids");
        let node_ids = self.ints("nodes_nodeids");
        let features = self.ints("nodes_featureids");
        let thresholds = self.floats("nodes_values");
        let true_ids = self.ints("nodes_truenodeids");
        let false_ids = self.ints("nodes_falsenodeids");
        let missing = self.ints("nodes_missing_value_tracks_true");
        let modes = self
            .attribute("nodes_modes")
            .map(|a| a.strings.clone())
            .unwrap_or_default();
        let count = tree_ids.len();
        let same = [
            node_ids.len(),
            features.len(),
            thresholds.len(),
            true_ids.len(),
            false_ids.len(),
            modes.len(),
        ];
        if count == 0
            || same.iter().any(|&n| n != count)
            || (!missing.is_empty() && missing.len() != count)
        {
            return Err(self.fail("the nodes_* attributes must all have one entry per node"));
        }
        let prefix = if classifier { "class" } else { "target" };
        let weight_trees = self.ints(&format!("{prefix}_treeids"));
        let weight_nodes = self.ints(&format!("{prefix}_nodeids"));
        let weight_ids = self.ints(&format!("{prefix}_ids"));
        let weight_values = self.floats(&format!("{prefix}_weights"));
        let weights = weight_trees.len();
        if [weight_nodes.len(), weight_ids.len(), weight_values.len()]
            .iter()
            .any(|&n| n != weights)
        {
            return Err(self.fail(format!(
                "the {prefix}_* attributes must all have one entry per weight"
            )));
        }
        let targets = if classifier {
            self.labels()
        } else {
            self.attribute("n_targets").map_or(0, |a| a.i) as usize
        };
        if targets == 0 {
            return Err(self.fail("no class labels (or n_targets) declared"));
        }
        // (tree, node id) → index, and the trees in order of first appearance.
        let mut index_of = HashMap::new();
        let mut tree_order: Vec<i64> = Vec::new();
        for (i, (&tree, &node)) in tree_ids.iter().zip(&node_ids).enumerate() {
            if index_of.insert((tree, node), i as u32).is_some() {
                return Err(self.fail(format!("tree {tree} declares node {node} twice")));
            }
            if !tree_order.contains(&tree) {
                tree_order.push(tree);
            }
        }
        let mut mode = Vec::with_capacity(count);
        let mut true_child = Vec::with_capacity(count);
        let mut false_child = Vec::with_capacity(count);
        let mut feature = Vec::with_capacity(count);
        for i in 0..count {
            let m = match modes[i].as_slice() {
                b"BRANCH_LEQ" => NodeMode::Leq,
                b"BRANCH_LT" => NodeMode::Lt,
                b"BRANCH_GTE" => NodeMode::Gte,
                b"BRANCH_GT" => NodeMode::Gt,
                b"BRANCH_EQ" => NodeMode::Eq,
                b"BRANCH_NEQ" => NodeMode::Neq,
                b"LEAF" => NodeMode::Leaf,
                other => {
                    return Err(self.fail(format!(
                        "node mode {} is not an ONNX mode",
                        String::from_utf8_lossy(other)
                    )))
                }
            };
            mode.push(m);
            let child = |id: i64| -> Result<u32, ImportError> {
                if m == NodeMode::Leaf {
                    return Ok(0);
                }
                index_of.get(&(tree_ids[i], id)).copied().ok_or_else(|| {
                    self.fail(format!(
                        "tree {} refers to a node {id} it does not have",
                        tree_ids[i]
                    ))
                })
            };
            true_child.push(child(true_ids[i])?);
            false_child.push(child(false_ids[i])?);
            let f = features[i];
            if m != NodeMode::Leaf && (f < 0 || f as usize >= width) {
                return Err(self.fail(format!(
                    "a node compares column {f}, outside the input's {width} columns"
                )));
            }
            feature.push(f.max(0) as u32);
        }
        let mut roots = Vec::new();
        for tree in &tree_order {
            // A tree's root is its node no other node of the tree points to.
            let members: Vec<usize> = (0..count).filter(|&i| tree_ids[i] == *tree).collect();
            let pointed: Vec<u32> = members
                .iter()
                .filter(|&&i| mode[i] != NodeMode::Leaf)
                .flat_map(|&i| [true_child[i], false_child[i]])
                .collect();
            let root = members
                .iter()
                .find(|&&i| !pointed.contains(&(i as u32)))
                .ok_or_else(|| self.fail(format!("tree {tree} has no root")))?;
            roots.push(*root as u32);
        }
        // Leaf weights, grouped by node.
        let mut per_node: Vec<Vec<(u32, f32)>> = vec![Vec::new(); count];
        for w in 0..weights {
            let node = *index_of
                .get(&(weight_trees[w], weight_nodes[w]))
                .ok_or_else(|| {
                    self.fail(format!(
                        "a weight names node {} of tree {}, which does not exist",
                        weight_nodes[w], weight_trees[w]
                    ))
                })?;
            let target = weight_ids[w];
            if target < 0 || target as usize >= targets {
                return Err(self.fail(format!(
                    "a weight is for target {target}, outside 0..{targets}"
                )));
            }
            // Weights on inner nodes are ignored by onnxruntime.
            if mode[node as usize] == NodeMode::Leaf {
                per_node[node as usize].push((target as u32, weight_values[w]));
            }
        }
        let mut weights_start = vec![0u32];
        let mut weight_target = Vec::new();
        let mut weight_value = Vec::new();
        for node in &per_node {
            for &(t, v) in node {
                weight_target.push(t);
                weight_value.push(v);
            }
            weights_start.push(weight_target.len() as u32);
        }
        let aggregate = match self.text("aggregate_function", "SUM")?.as_str() {
            _ if classifier => Aggregate::Sum,
            "SUM" => Aggregate::Sum,
            "AVERAGE" => Aggregate::Average,
            "MIN" => Aggregate::Min,
            "MAX" => Aggregate::Max,
            other => {
                return Err(self.fail(format!(
                    "aggregate_function {other} is not an ONNX aggregate"
                )))
            }
        };
        let classes: BTreeSet<i64> = weight_ids.iter().copied().collect();
        let binary_one_class = classifier && targets == 2 && classes.len() == 1;
        let weights_all_positive = weight_values.iter().all(|w| *w >= 0.0);
        let post_transform = self.post_transform()?;
        if binary_one_class && post_transform == PostTransform::Probit {
            return Err(self.fail("PROBIT on a binary classifier is not supported"));
        }
        let output_width = targets;
        let trees = OwnedTrees {
            roots,
            feature,
            threshold: thresholds,
            mode,
            true_child,
            false_child,
            missing_true: if missing.is_empty() {
                vec![false; count]
            } else {
                missing.iter().map(|&m| m == 1).collect()
            },
            weights_start,
            weight_target,
            weight_value,
            targets,
            base_values: self.floats("base_values"),
            aggregate,
            post_transform,
            kind: if classifier {
                TreesKind::Classifier
            } else {
                TreesKind::Regressor
            },
            binary_one_class,
            weights_all_positive,
        };
        Ok((
            written,
            output_width,
            OwnedStep::Trees {
                trees: Box::new(trees),
                input,
                out,
            },
        ))
    }
}
