//! What a model component evaluates: the steps from the model's one float input row to the
//! output it declares, checked and laid out at build time (`crate::import`). Every part is a
//! borrowed slice, so the build step can write a plan into the component as static data
//! (`crate::codegen`): nothing is parsed or allocated before the first request.
//!
//! A value is one row: a batch of one patient, so a tensor of shape `[1, width]` is `width`
//! numbers. Arithmetic is in `f32`, as onnxruntime computes these graphs.

/// Where a step reads numbers from: an earlier value, or a constant of the graph (one number
/// broadcast to any width, or exactly the width of the other operand).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operand<'a> {
    Value(usize),
    Const(&'a [f32]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `Identity`, and `Cast` from float to float.
    Identity,
    Relu,
    Sigmoid,
    Tanh,
}

/// What turns raw scores into the output (the ONNX-ML `post_transform` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostTransform {
    None,
    Logistic,
    Softmax,
    SoftmaxZero,
    Probit,
}

/// `LinearClassifier` / `LinearRegressor`: `scores = coefficients · x + intercepts`, one row of
/// coefficients per target, then the post-transform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear<'a> {
    /// `targets × width`, row-major.
    pub coefficients: &'a [f32],
    /// One per target, or empty.
    pub intercepts: &'a [f32],
    pub targets: usize,
    pub post_transform: PostTransform,
    /// A classifier with two labels and one row of coefficients: its output is `[1 − s, s]`
    /// with no post-transform (onnxruntime's binary layout).
    pub binary_one_row: bool,
}

/// How a tree's node compares the feature with its threshold (ONNX-ML `nodes_modes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeMode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Leaf,
}

/// How leaf weights of the trees combine into one score per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
}

/// `TreeEnsembleClassifier` / `TreeEnsembleRegressor`, every tree's nodes in one array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trees<'a> {
    /// The index of each tree's root in the node arrays.
    pub roots: &'a [u32],
    /// Per node: the feature compared, the threshold, the mode, and the children (node
    /// indices) when the comparison holds or not; a NaN feature goes to the true child when
    /// `missing_true`.
    pub feature: &'a [u32],
    pub threshold: &'a [f32],
    pub mode: &'a [NodeMode],
    pub true_child: &'a [u32],
    pub false_child: &'a [u32],
    pub missing_true: &'a [bool],
    /// Per node, the range `weights_start[n]..weights_start[n + 1]` of its leaf weights.
    pub weights_start: &'a [u32],
    pub weight_target: &'a [u32],
    pub weight_value: &'a [f32],
    /// Scores per row: classes (classifier) or targets (regressor).
    pub targets: usize,
    pub base_values: &'a [f32],
    pub aggregate: Aggregate,
    pub post_transform: PostTransform,
    pub kind: TreesKind,
    /// A classifier with two labels whose leaves all weigh one class (onnxruntime's
    /// `binary_case_`), and whether every leaf weight is non-negative: together they choose
    /// onnxruntime's binary layout (see `crate::eval`).
    pub binary_one_class: bool,
    pub weights_all_positive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreesKind {
    Classifier,
    Regressor,
}

/// One step: reads earlier values, writes the value `out`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'a> {
    Binary {
        op: BinaryOp,
        a: Operand<'a>,
        b: Operand<'a>,
        out: usize,
    },
    Unary {
        op: UnaryOp,
        input: usize,
        out: usize,
    },
    /// `[1, rows] × [rows, cols]`, weights row-major.
    MatMul {
        input: usize,
        weights: &'a [f32],
        rows: usize,
        cols: usize,
        out: usize,
    },
    /// Along the last axis.
    Concat { inputs: &'a [usize], out: usize },
    /// ONNX-ML `Scaler`: `(x − offset) × scale`, each one number or one per column.
    Scaler {
        input: usize,
        offset: &'a [f32],
        scale: &'a [f32],
        out: usize,
    },
    Linear {
        linear: Linear<'a>,
        input: usize,
        out: usize,
    },
    Trees {
        trees: &'a Trees<'a>,
        input: usize,
        out: usize,
    },
}

/// The whole evaluation: value 0 is the input row (`input_width` numbers); the steps run in
/// order; `output` is the value holding the declared output (`output_width` numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan<'a> {
    pub input_width: usize,
    /// How many values the steps write, the input included.
    pub values: usize,
    pub steps: &'a [Step<'a>],
    pub output: usize,
    pub output_width: usize,
}
