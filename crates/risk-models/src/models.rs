//! The catalog of risk models this service serves.

mod describe;
pub mod kfre;
pub mod pce_2013;
pub mod prevent_2023;

use crate::confidence::category_confidence;
use crate::description::ModelDescription;
use crate::explanation::{Factor, LinearPredictor};
use crate::field::Field;
use crate::input::FieldValue;
use crate::input::PatientInput;
use crate::link::Link;
use crate::prediction::{OutcomeRisk, Prediction};
use crate::problem::{FieldError, FieldProblem, ValidationErrors};
use crate::spec::ModelSpec;
use crate::tabular::{not_used, TabularModel, TabularPrediction, TabularWarning};
use crate::validation::{validate, Patient};

/// A model the service serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// 2013 ACC/AHA Pooled Cohort Equations.
    Pce2013,
    /// 2023 AHA PREVENT, base model.
    Prevent2023,
}

impl Model {
    pub const ALL: [Model; 2] = [Model::Pce2013, Model::Prevent2023];

    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|model| model.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn spec(self) -> &'static ModelSpec {
        match self {
            Model::Pce2013 => &pce_2013::SPEC,
            Model::Prevent2023 => &prevent_2023::SPEC,
        }
    }

    /// The factors contributions are reported for, in order.
    pub fn factors(self) -> &'static [Factor] {
        match self {
            Model::Pce2013 => pce_2013::FACTORS,
            Model::Prevent2023 => prevent_2023::FACTORS,
        }
    }

    /// Validates the input and predicts, or returns every field problem.
    pub fn predict(self, input: &PatientInput) -> Result<Prediction, ValidationErrors> {
        let spec = self.spec();
        let (patient, warnings) = validate(spec, input)?;
        let equations = self.equations(&patient)?;

        let outcomes = spec
            .outcomes
            .iter()
            .zip(&equations)
            .map(|(outcome, (lp, link))| OutcomeRisk {
                outcome,
                risk: link.risk(lp.value()),
            })
            .collect::<Vec<_>>();
        let (primary, link) = &equations[0];
        let centre = primary.value();
        let risk = outcomes[0].risk;
        let category = spec.categories.categorise(risk);
        let confidence = category_confidence(
            &patient,
            centre,
            category,
            &spec.categories,
            *link,
            |field| spec.input(field).is_some(),
            |changed| self.primary_linear_predictor(changed),
        );
        Ok(Prediction {
            outcomes,
            category,
            confidence,
            contributions: primary.contributions(self.factors()),
            linear_predictor: centre,
            reference_value: primary.reference_value(),
            warnings,
        })
    }

    /// Each outcome's linear predictor and link, primary outcome first.
    fn equations(
        self,
        patient: &Patient,
    ) -> Result<Vec<(LinearPredictor, Link)>, ValidationErrors> {
        Ok(match self {
            Model::Pce2013 => vec![pce_2013::ascvd(patient)],
            Model::Prevent2023 => prevent_2023::equations(patient, required_egfr(patient)?).into(),
        })
    }

    /// The primary outcome's linear predictor alone (the confidence re-evaluates only this
    /// one, for each perturbed measurement).
    fn primary_linear_predictor(self, patient: &Patient) -> f64 {
        match self {
            Model::Pce2013 => pce_2013::ascvd_value(patient),
            Model::Prevent2023 => required_egfr(patient)
                .map(|egfr| prevent_2023::total_cvd_value(patient, egfr))
                .unwrap_or(f64::NAN),
        }
    }
}

/// PREVENT's eGFR. Its specification requires the field, so validation never yields a patient
/// without it for this model; the `Option` is turned into the value here, once, with the
/// validation error it would have been rather than a panic path.
fn required_egfr(patient: &Patient) -> Result<f64, ValidationErrors> {
    patient.egfr().ok_or_else(|| {
        ValidationErrors(vec![FieldError::new(
            Field::Egfr.name(),
            FieldProblem::Missing,
        )])
    })
}

/// The cardiovascular models read their shared patient fields ([`PatientInput`]), as they
/// always have: the general path is proven to answer identically (`features::tests`).
impl TabularModel for Model {
    fn name(&self) -> &'static str {
        Model::name(*self)
    }

    fn describe(&self) -> ModelDescription {
        Model::describe(*self)
    }

    fn predict_features(
        &self,
        given: &[(&str, FieldValue<'_>)],
    ) -> Result<TabularPrediction, ValidationErrors> {
        let mut input = PatientInput::default();
        let mut not_declared = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in given {
            let Some(field) = Field::from_name(name) else {
                not_declared.push(*name);
                continue;
            };
            if let Err(problem) = input.set(field, value.clone()) {
                errors.push(FieldError::new(field.name(), problem));
            }
        }
        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        let prediction = self.predict(&input)?;
        let mut warnings: Vec<TabularWarning> = prediction
            .warnings
            .iter()
            .map(|warning| TabularWarning {
                code: warning.code(),
                message: warning.to_string(),
            })
            .collect();
        warnings.extend(
            not_declared
                .iter()
                .map(|name| not_used(Model::name(*self), name)),
        );
        Ok(TabularPrediction {
            outputs: prediction
                .outcomes
                .iter()
                .map(|outcome| (outcome.outcome.name, outcome.risk))
                .collect(),
            category: Some(prediction.category.name()),
            confidence: Some(prediction.confidence),
            contributions: prediction
                .contributions
                .iter()
                .map(|contribution| (contribution.factor.name(), contribution.value))
                .collect(),
            explanation: Some((prediction.linear_predictor, prediction.reference_value)),
            warnings,
        })
    }

    fn predict_declared(
        &self,
        given: &[(&str, FieldValue<'_>)],
        not_declared: &[&str],
    ) -> Result<TabularPrediction, ValidationErrors> {
        let mut prediction = self.predict_features(given)?;
        // Given with a value, a shared cardiovascular field this model does not use is
        // reported by validation, first and in field order; any other name after the model's
        // own warnings, in the order given (`predict_features`).
        let is_field = |name: &&str| Field::from_name(name).is_some();
        let fields = Field::ALL
            .iter()
            .filter(|field| not_declared.contains(&field.name()))
            .map(|field| not_used(Model::name(*self), field.name()));
        let others = not_declared
            .iter()
            .filter(|name| !is_field(name))
            .map(|name| not_used(Model::name(*self), name));
        let own = std::mem::take(&mut prediction.warnings);
        prediction.warnings = fields.chain(own).chain(others).collect();
        Ok(prediction)
    }
}

/// Every model this crate implements.
pub static BUILTIN: &[&dyn TabularModel] = &[&Model::Pce2013, &Model::Prevent2023, &kfre::Kfre];

/// The built-in model named `name`.
pub fn builtin(name: &str) -> Option<&'static dyn TabularModel> {
    BUILTIN.iter().copied().find(|model| model.name() == name)
}
