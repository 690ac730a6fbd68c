//! The build step: `model.toml` and the `model.onnx` it names, checked against each other, and
//! written out as the Rust source of a model component (static data only: the plan, the
//! description, the column of each feature).

use std::fmt::Write as _;
use std::path::Path;

use crate::description::{self, Description, DescriptionError, FeatureKind, OutputKind};
use crate::eval::evaluate;
use crate::import::{import, ImportError, OwnedOperand, OwnedPlan, OwnedStep};
use crate::plan::{Aggregate, BinaryOp, NodeMode, PostTransform, TreesKind, UnaryOp};

/// Why a model cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Description(#[from] DescriptionError),
    #[error("{file}: {source}")]
    Onnx {
        file: String,
        #[source]
        source: ImportError,
    },
    #[error("{file}: {message}")]
    Io { file: String, message: String },
}

/// A description and the plan of the graph it describes, consistent with each other.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedModel {
    pub description: Description,
    pub plan: OwnedPlan,
}

fn read_file(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|error| BuildError::Io {
        file: path.display().to_string(),
        message: error.to_string(),
    })
}

/// Reads `model.toml` at `path` and the ONNX file it names (relative to it), and checks them.
pub fn read_model(path: &Path) -> Result<CheckedModel, BuildError> {
    let text = String::from_utf8(read_file(path)?).map_err(|_| BuildError::Io {
        file: path.display().to_string(),
        message: "not UTF-8 text".into(),
    })?;
    let file = path.display().to_string();
    let description = description::parse(&file, &text)?;
    let onnx_path = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&description.onnx);
    let bytes = read_file(&onnx_path)?;
    check(&file, &onnx_path.display().to_string(), description, &bytes)
}

/// Checks a parsed description against the ONNX model `bytes` (`onnx_file` names it).
pub fn check(
    file: &str,
    onnx_file: &str,
    description: Description,
    bytes: &[u8],
) -> Result<CheckedModel, BuildError> {
    let at = |line: usize, message: String| {
        BuildError::Description(DescriptionError {
            file: file.into(),
            line,
            message,
        })
    };
    let output = &description.output;
    let plan = import(bytes, &output.onnx_output).map_err(|source| match source {
        ImportError::NoOutput { name, known } => at(
            output.onnx_output_line,
            format!("onnx_output {name} is not an output of {onnx_file} (its outputs: {known})"),
        ),
        source => BuildError::Onnx {
            file: onnx_file.into(),
            source,
        },
    })?;
    if output.column >= plan.output_width {
        return Err(at(
            output.column_line,
            format!(
                "column {} is outside output {}, which has {} columns",
                output.column, output.onnx_output, plan.output_width
            ),
        ));
    }
    for feature in &description.features {
        if feature.input != plan.input_name {
            return Err(at(
                feature.line,
                format!(
                    "feature {}: input {} is not an input of {onnx_file} (its input: {})",
                    feature.name, feature.input, plan.input_name
                ),
            ));
        }
        if feature.column >= plan.input_width {
            return Err(at(
                feature.line,
                format!(
                    "feature {}: column {} is outside input {}, which has {} columns",
                    feature.name, feature.column, plan.input_name, plan.input_width
                ),
            ));
        }
    }
    let unfed: Vec<String> = (0..plan.input_width)
        .filter(|column| !description.features.iter().any(|f| f.column == *column))
        .map(|column| column.to_string())
        .collect();
    if !unfed.is_empty() {
        return Err(at(
            1,
            format!(
                "columns {} of input {} are fed by no [[feature]] (the graph takes {} columns)",
                unfed.join(", "),
                plan.input_name,
                plan.input_width
            ),
        ));
    }
    // The plan runs on a row of the features' midpoints: a plan that cannot run is refused
    // here, never by a request.
    let row = midpoint_row(&description, plan.input_width);
    plan.with_plan(|borrowed| evaluate(borrowed, &row))
        .map_err(|error| BuildError::Onnx {
            file: onnx_file.into(),
            source: ImportError::Decode(format!("the planned graph does not run: {error}")),
        })?;
    Ok(CheckedModel { description, plan })
}

fn midpoint_row(description: &Description, width: usize) -> Vec<f32> {
    let mut row = vec![0.0f32; width];
    for feature in &description.features {
        if let (FeatureKind::Number { range, .. }, Some(cell)) =
            (&feature.kind, row.get_mut(feature.column))
        {
            *cell = ((range.0 + range.1) / 2.0) as f32;
        }
    }
    row
}

/// `value` as a Rust `f32` expression that reads back as the same number.
fn f32_literal(value: f32) -> String {
    if value.is_nan() {
        "f32::NAN".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "f32::INFINITY"
        } else {
            "f32::NEG_INFINITY"
        }
        .into()
    } else {
        // `{:?}` is the shortest text that reads back as the same f32.
        format!("{value:?}_f32")
    }
}

fn f64_literal(value: f64) -> String {
    format!("{value:?}_f64")
}

fn floats(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|v| f32_literal(*v)).collect();
    format!("&[{}]", items.join(", "))
}

fn integers<T: std::fmt::Display>(values: &[T]) -> String {
    let items: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("&[{}]", items.join(", "))
}

fn text(s: &str) -> String {
    format!("{s:?}")
}

fn operand(operand: &OwnedOperand) -> String {
    match operand {
        OwnedOperand::Value(index) => format!("Operand::Value({index})"),
        OwnedOperand::Const(numbers) => format!("Operand::Const({})", floats(numbers)),
    }
}

fn post_transform(transform: PostTransform) -> &'static str {
    match transform {
        PostTransform::None => "PostTransform::None",
        PostTransform::Logistic => "PostTransform::Logistic",
        PostTransform::Softmax => "PostTransform::Softmax",
        PostTransform::SoftmaxZero => "PostTransform::SoftmaxZero",
        PostTransform::Probit => "PostTransform::Probit",
    }
}

fn step_source(rust: &mut String, index: usize, step: &OwnedStep) -> String {
    match step {
        OwnedStep::Binary { op, a, b, out } => {
            let op = match op {
                BinaryOp::Add => "Add",
                BinaryOp::Sub => "Sub",
                BinaryOp::Mul => "Mul",
                BinaryOp::Div => "Div",
            };
            format!(
                "Step::Binary {{ op: BinaryOp::{op}, a: {}, b: {}, out: {out} }}",
                operand(a),
                operand(b)
            )
        }
        OwnedStep::Unary { op, input, out } => {
            let op = match op {
                UnaryOp::Identity => "Identity",
                UnaryOp::Relu => "Relu",
                UnaryOp::Sigmoid => "Sigmoid",
                UnaryOp::Tanh => "Tanh",
            };
            format!("Step::Unary {{ op: UnaryOp::{op}, input: {input}, out: {out} }}")
        }
        OwnedStep::MatMul {
            input,
            weights,
            rows,
            cols,
            out,
        } => format!(
            "Step::MatMul {{ input: {input}, weights: {}, rows: {rows}, cols: {cols}, out: {out} }}",
            floats(weights)
        ),
        OwnedStep::Concat { inputs, out } => {
            format!("Step::Concat {{ inputs: {}, out: {out} }}", integers(inputs))
        }
        OwnedStep::Scaler {
            input,
            offset,
            scale,
            out,
        } => format!(
            "Step::Scaler {{ input: {input}, offset: {}, scale: {}, out: {out} }}",
            floats(offset),
            floats(scale)
        ),
        OwnedStep::Linear {
            coefficients,
            intercepts,
            targets,
            post_transform: transform,
            binary_one_row,
            input,
            out,
        } => format!(
            "Step::Linear {{ linear: Linear {{ coefficients: {}, intercepts: {}, targets: {targets}, post_transform: {}, binary_one_row: {binary_one_row} }}, input: {input}, out: {out} }}",
            floats(coefficients),
            floats(intercepts),
            post_transform(*transform)
        ),
        OwnedStep::Trees { trees, input, out } => {
            let modes: Vec<&str> = trees
                .mode
                .iter()
                .map(|mode| match mode {
                    NodeMode::Leq => "NodeMode::Leq",
                    NodeMode::Lt => "NodeMode::Lt",
                    NodeMode::Gte => "NodeMode::Gte",
                    NodeMode::Gt => "NodeMode::Gt",
                    NodeMode::Eq => "NodeMode::Eq",
                    NodeMode::Neq => "NodeMode::Neq",
                    NodeMode::Leaf => "NodeMode::Leaf",
                })
                .collect();
            let aggregate = match trees.aggregate {
                Aggregate::Sum => "Aggregate::Sum",
                Aggregate::Average => "Aggregate::Average",
                Aggregate::Min => "Aggregate::Min",
                Aggregate::Max => "Aggregate::Max",
            };
            let kind = match trees.kind {
                TreesKind::Classifier => "TreesKind::Classifier",
                TreesKind::Regressor => "TreesKind::Regressor",
            };
            let _ = writeln!(
                rust,
                "static TREES_{index}: Trees<'static> = Trees {{ roots: {}, feature: {}, threshold: {}, mode: &[{}], true_child: {}, false_child: {}, missing_true: {}, weights_start: {}, weight_target: {}, weight_value: {}, targets: {}, base_values: {}, aggregate: {aggregate}, post_transform: {}, kind: {kind}, binary_one_class: {}, weights_all_positive: {} }};\n",
                integers(&trees.roots),
                integers(&trees.feature),
                floats(&trees.threshold),
                modes.join(", "),
                integers(&trees.true_child),
                integers(&trees.false_child),
                integers(&trees.missing_true),
                integers(&trees.weights_start),
                integers(&trees.weight_target),
                floats(&trees.weight_value),
                trees.targets,
                floats(&trees.base_values),
                post_transform(trees.post_transform),
                trees.binary_one_class,
                trees.weights_all_positive,
            );
            format!("Step::Trees {{ trees: &TREES_{index}, input: {input}, out: {out} }}")
        }
    }
}

/// The Rust source of a model component's data: `PLAN`, `INPUTS`, `describe()` and `MODEL`,
/// to be `include!`d where `onnx_model::plan::*`, `onnx_model::served::*` and
/// `risk_models::description::*` are in scope.
pub fn rust_source(model: &CheckedModel) -> String {
    let d = &model.description;
    let plan = &model.plan;
    let mut rust = format!(
        "// Generated by the onnx-model build step from the description of {} and its ONNX file: do not edit.\n\n",
        d.name
    );
    let steps: Vec<String> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| step_source(&mut rust, index, step))
        .collect();
    let _ = writeln!(
        rust,
        "pub static PLAN: Plan<'static> = Plan {{ input_width: {}, values: {}, steps: &[{}], output: {}, output_width: {} }};\n",
        plan.input_width,
        plan.values,
        steps.join(", "),
        plan.output,
        plan.output_width
    );
    let inputs: Vec<String> = d
        .features
        .iter()
        .map(|f| {
            let encoding = match &f.kind {
                FeatureKind::Number { .. } => "Encoding::Number".to_owned(),
                FeatureKind::Boolean { when_absent } => {
                    format!("Encoding::Boolean {{ when_absent: {when_absent:?} }}")
                }
                FeatureKind::Choice {
                    values,
                    when_absent,
                } => {
                    let pairs: Vec<String> = values
                        .iter()
                        .map(|(v, n)| format!("({}, {})", text(v), f32_literal(*n)))
                        .collect();
                    format!(
                        "Encoding::Choice {{ values: &[{}], when_absent: {:?} }}",
                        pairs.join(", "),
                        when_absent
                    )
                }
            };
            format!("Input {{ column: {}, encoding: {encoding} }}", f.column)
        })
        .collect();
    let _ = writeln!(
        rust,
        "pub static INPUTS: &[Input] = &[{}];\n",
        inputs.join(", ")
    );
    let _ = writeln!(
        rust,
        "pub fn describe() -> ModelDescription {{\n    {}\n}}\n",
        description_source(&model_description(d))
    );
    let _ = writeln!(
        rust,
        "static DESCRIPTION: std::sync::OnceLock<ModelDescription> = std::sync::OnceLock::new();\n\
         pub static MODEL: OnnxModel = OnnxModel {{ describe, description: &DESCRIPTION, plan: &PLAN, inputs: INPUTS, output_column: {} }};",
        d.output.column
    );
    rust
}

/// What a boolean feature's absence means, in words.
fn boolean_absence(when_absent: Option<bool>) -> String {
    when_absent.map_or_else(
        || "refused: the feature is required".to_owned(),
        |flag| flag.to_string(),
    )
}

/// A string that lives as long as the build: the model contract's description borrows
/// `'static` text, and the build step (a build script) reads it from a file once.
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

/// The description in the model contract's terms (`risk_models::description`), what the model
/// component's `info()` answers and the API compiles in. For build scripts only: its text is
/// leaked, once per build.
pub fn model_description(d: &Description) -> risk_models::description::ModelDescription {
    use risk_models::description as contract;
    let features = d
        .features
        .iter()
        .map(|f| {
            let (kind, required) = match &f.kind {
                FeatureKind::Number { unit, range } => (
                    contract::FeatureKind::Number(contract::NumberFeature {
                        unit: leak(unit),
                        range: Some(risk_models::Range::new(range.0, range.1)),
                        alternative_units: Vec::new(),
                        unit_selector: None,
                    }),
                    true,
                ),
                FeatureKind::Boolean { when_absent } => (
                    contract::FeatureKind::Boolean {
                        when_absent: leak(&boolean_absence(*when_absent)),
                    },
                    when_absent.is_none(),
                ),
                FeatureKind::Choice {
                    values,
                    when_absent,
                } => {
                    let allowed: Vec<&'static str> = values.iter().map(|(v, _)| leak(v)).collect();
                    (
                        contract::FeatureKind::Choice {
                            allowed: Box::leak(allowed.into_boxed_slice()),
                            when_absent: when_absent.as_deref().map(leak),
                        },
                        when_absent.is_none(),
                    )
                }
            };
            contract::Feature {
                name: leak(&f.name),
                aliases: Vec::new(),
                description: leak(&f.description),
                kind,
                required,
                fhir: f.fhir.clone(),
            }
        })
        .collect();
    contract::ModelDescription {
        name: leak(&d.name),
        version: leak(&d.version),
        title: leak(&d.title),
        citation: leak(&d.citation),
        population: leak(&d.population),
        horizon_years: d.output.horizon_years,
        features,
        outputs: vec![contract::Output {
            name: leak(&d.output.name),
            description: leak(&d.output.description),
            kind: match d.output.kind {
                OutputKind::Probability => contract::OutputKind::Probability,
                OutputKind::Score => contract::OutputKind::Score,
            },
            horizon_years: d.output.horizon_years,
        }],
        categories: d.categories.as_ref().map(|c| contract::Categories {
            bands: c
                .bands
                .iter()
                .map(|b| contract::Category {
                    name: leak(&b.name),
                    label: leak(&b.label),
                    from: b.from,
                })
                .collect(),
            source: leak(&c.source),
        }),
        explanation: None,
        confidence: None,
    }
}

/// `d` as a Rust expression building the same `ModelDescription`.
fn description_source(d: &risk_models::description::ModelDescription) -> String {
    use risk_models::description as contract;
    let features: Vec<String> = d
        .features
        .iter()
        .map(|f| {
            let kind = match &f.kind {
                contract::FeatureKind::Number(n) => format!(
                    "FeatureKind::Number(NumberFeature {{ unit: {}, range: {}, alternative_units: Vec::new(), unit_selector: None }})",
                    text(n.unit),
                    n.range.map_or("None".to_owned(), |r| format!(
                        "Some(risk_models::Range::new({}, {}))",
                        f64_literal(r.min),
                        f64_literal(r.max)
                    ))
                ),
                contract::FeatureKind::Boolean { when_absent } => {
                    format!("FeatureKind::Boolean {{ when_absent: {} }}", text(when_absent))
                }
                contract::FeatureKind::Choice {
                    allowed,
                    when_absent,
                } => format!(
                    "FeatureKind::Choice {{ allowed: &[{}], when_absent: {} }}",
                    allowed.iter().map(|a| text(a)).collect::<Vec<_>>().join(", "),
                    when_absent.map_or("None".to_owned(), |w| format!("Some({})", text(w)))
                ),
            };
            format!(
                "Feature {{ name: {}, aliases: Vec::new(), description: {}, kind: {kind}, required: {}, fhir: {} }}",
                text(f.name),
                text(f.description),
                f.required,
                f.fhir.as_ref().map_or("None".to_owned(), |source| format!(
                    "Some({})",
                    fhir_record::rust_expression(source)
                ))
            )
        })
        .collect();
    let outputs: Vec<String> = d
        .outputs
        .iter()
        .map(|o| {
            let kind = match o.kind {
                contract::OutputKind::Probability => "OutputKind::Probability",
                contract::OutputKind::Score => "OutputKind::Score",
            };
            format!(
                "Output {{ name: {}, description: {}, kind: {kind}, horizon_years: {:?} }}",
                text(o.name),
                text(o.description),
                o.horizon_years
            )
        })
        .collect();
    let categories = d.categories.as_ref().map_or("None".to_owned(), |c| {
        let bands: Vec<String> = c
            .bands
            .iter()
            .map(|b| {
                format!(
                    "Category {{ name: {}, label: {}, from: {} }}",
                    text(b.name),
                    text(b.label),
                    f64_literal(b.from)
                )
            })
            .collect();
        format!(
            "Some(Categories {{ bands: vec![{}], source: {} }})",
            bands.join(", "),
            text(c.source)
        )
    });
    format!(
        "ModelDescription {{ name: {}, version: {}, title: {}, citation: {}, population: {}, horizon_years: {:?}, features: vec![{}], outputs: vec![{}], categories: {categories}, explanation: None, confidence: None }}",
        text(d.name),
        text(d.version),
        text(d.title),
        text(d.citation),
        text(d.population),
        d.horizon_years,
        features.join(", "),
        outputs.join(", "),
    )
}
