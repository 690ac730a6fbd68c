//! An ONNX model as a [`TabularModel`]: its description as the user wrote it (compiled in by
//! the build step), the patient's values checked against it like every other model's
//! (`risk_models::features::validate_features`: kinds, required features, validated ranges,
//! every refused feature at once), the row fed to the plan in the columns the description
//! maps, and the declared output read from the plan's result.

use std::sync::OnceLock;

use risk_models::description::ModelDescription;
use risk_models::features::{validate_features, Canonical, ValidatedFeatures};
use risk_models::problem::{FieldError, FieldProblem};
use risk_models::tabular::{not_used, TabularModel, TabularPrediction, TabularWarning};
use risk_models::{FieldValue, ValidationErrors};

use crate::eval::evaluate;
use crate::plan::Plan;

/// How a feature's value becomes the number in its column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Encoding {
    /// The number, in the description's unit.
    Number,
    /// 1 or 0; absent: `when_absent` when the description gives one (otherwise required).
    Boolean { when_absent: Option<bool> },
    /// The number each allowed value stands for; absent: the value named, if any.
    Choice {
        values: &'static [(&'static str, f32)],
        when_absent: Option<&'static str>,
    },
}

/// One feature, in the description's order: where it goes and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    pub column: usize,
    pub encoding: Encoding,
}

/// A served ONNX model: everything is static data the build step wrote. Names, the output and
/// the categories are the description's; the rest says how the graph is fed and read.
#[derive(Debug, Clone, Copy)]
pub struct OnnxModel {
    pub describe: fn() -> ModelDescription,
    /// The description, built once per instance (a batch validates every patient against it).
    pub description: &'static OnceLock<ModelDescription>,
    pub plan: &'static Plan<'static>,
    /// One per declared feature, in the description's order.
    pub inputs: &'static [Input],
    /// The column of the plan's output that is the declared output.
    pub output_column: usize,
}

impl OnnxModel {
    fn description(&self) -> &'static ModelDescription {
        self.description.get_or_init(self.describe)
    }

    /// The input row, from validated values.
    fn row(
        &self,
        description: &ModelDescription,
        features: &ValidatedFeatures,
    ) -> Result<Vec<f32>, ValidationErrors> {
        let mut row = vec![0.0f32; self.plan.input_width];
        // `inputs` are in the description's order, as the validated values are.
        for (index, input) in self.inputs.iter().enumerate() {
            let value = features.at(index);
            let number = match input.encoding {
                Encoding::Number => match value {
                    Some(Canonical::Number(number)) => Some(number as f32),
                    _ => None,
                },
                Encoding::Boolean { when_absent } => match value {
                    Some(Canonical::Boolean(flag)) => Some(flag),
                    _ => when_absent,
                }
                .map(|flag| if flag { 1.0 } else { 0.0 }),
                Encoding::Choice {
                    values,
                    when_absent,
                } => match value {
                    Some(Canonical::Choice(chosen)) => Some(chosen),
                    _ => when_absent,
                }
                .and_then(|chosen| values.iter().find(|(v, _)| *v == chosen))
                .map(|(_, number)| *number),
            };
            // Validation refuses a patient without a required feature; a feature that is
            // absent here had no value and no meaning for its absence: refused as missing.
            let missing = || {
                let name = description.features.get(index).map_or("", |f| f.name);
                ValidationErrors(vec![FieldError::new(name, FieldProblem::Missing)])
            };
            *row.get_mut(input.column).ok_or_else(missing)? = number.ok_or_else(missing)?;
        }
        Ok(row)
    }
}

impl TabularModel for OnnxModel {
    fn name(&self) -> &'static str {
        self.description().name
    }

    fn describe(&self) -> ModelDescription {
        self.description().clone()
    }

    fn predict_features(
        &self,
        given: &[(&str, FieldValue<'_>)],
    ) -> Result<TabularPrediction, ValidationErrors> {
        let description = self.description();
        let features = validate_features(description, given)?;
        let row = self.row(description, &features)?;
        let output_name = description.outputs.first().map_or("", |o| o.name);
        // The build step evaluated this plan on a row of its own before writing it: a failure
        // here is a broken build, refused like a missing output rather than a panic.
        let output = evaluate(self.plan, &row)
            .ok()
            .and_then(|scores| scores.get(self.output_column).copied())
            .ok_or_else(|| {
                ValidationErrors(vec![FieldError::new(output_name, FieldProblem::Missing)])
            })?;
        let value = f64::from(output);
        let bands = description
            .categories
            .as_ref()
            .map_or(&[][..], |c| &c.bands);
        let category = bands
            .iter()
            .rev()
            .find(|band| value >= band.from)
            .or(bands.first())
            .map(|band| band.name);
        let warnings: Vec<TabularWarning> = features
            .not_declared
            .iter()
            .map(|name| not_used(description.name, name))
            .collect();
        Ok(TabularPrediction {
            outputs: vec![(output_name, value)],
            category,
            confidence: None,
            contributions: Vec::new(),
            explanation: None,
            warnings,
        })
    }
}
