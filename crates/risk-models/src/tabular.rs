//! Any model in the terms of the general model contract (`wit/model.wit`): it describes itself
//! ([`ModelDescription`]) and predicts from named values. The model components are built on
//! this trait alone, so a model that shares no field with the cardiovascular equations (the
//! Kidney Failure Risk Equation) is served exactly as they are.

use crate::description::ModelDescription;
use crate::input::FieldValue;
use crate::problem::ValidationErrors;

/// A model's answer for one patient, in the contract's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularPrediction {
    /// `(output, value)` for every declared output, in declared order (primary first).
    pub outputs: Vec<(&'static str, f64)>,
    /// The primary output's category, when the model declares categories.
    pub category: Option<&'static str>,
    /// As the description's `confidence` defines it, when it does.
    pub confidence: Option<f64>,
    /// `(factor, contribution)` on the explanation's scale, in the model's factor order.
    pub contributions: Vec<(&'static str, f64)>,
    /// `(linear predictor, reference value)`, when the model explains its predictions.
    pub explanation: Option<(f64, f64)>,
    pub warnings: Vec<TabularWarning>,
}

impl TabularPrediction {
    /// The value of the output named `name`.
    pub fn output(&self, name: &str) -> Option<f64> {
        self.outputs
            .iter()
            .find(|(output, _)| *output == name)
            .map(|(_, value)| *value)
    }
}

/// A fact about how the input was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabularWarning {
    /// Stable machine code.
    pub code: &'static str,
    pub message: String,
}

/// The warning for a value the model does not declare, which it ignores (the name cut to 64
/// characters: a caller's name is echoed, never a value).
pub fn not_used(model: &str, name: &str) -> TabularWarning {
    let name: String = name.chars().take(64).collect();
    TabularWarning {
        code: "field_not_used",
        message: format!("{name} is not used by {model} and was ignored"),
    }
}

/// A model in the general contract's terms.
pub trait TabularModel: Sync {
    /// The model's name, as [`TabularModel::describe`] declares it.
    fn name(&self) -> &'static str;

    /// Everything the model declares about itself.
    fn describe(&self) -> ModelDescription;

    /// Validates `given` (feature names with their values, as a client sent them) and
    /// predicts, or returns every refused feature. Names the model does not declare are
    /// ignored with a `field_not_used` warning, after the model's own warnings.
    fn predict_features(
        &self,
        given: &[(&str, FieldValue<'_>)],
    ) -> Result<TabularPrediction, ValidationErrors>;

    /// The model contract's form of [`TabularModel::predict_features`]: `given` holds the
    /// features the model declares, `not_declared` the names of other models' features the
    /// client sent too, whose values stay with the caller. Answers exactly what
    /// `predict_features` answers for all of them with their values: each name in
    /// `not_declared` is ignored with a `field_not_used` warning, in the same place.
    ///
    /// The default puts those warnings after the model's own, in the order given, which is
    /// where a model reading its features with [`crate::features::validate_features`] puts
    /// them; a model that warns elsewhere overrides it.
    fn predict_declared(
        &self,
        given: &[(&str, FieldValue<'_>)],
        not_declared: &[&str],
    ) -> Result<TabularPrediction, ValidationErrors> {
        let mut prediction = self.predict_features(given)?;
        let name = self.name();
        prediction
            .warnings
            .extend(not_declared.iter().map(|field| not_used(name, field)));
        Ok(prediction)
    }
}
