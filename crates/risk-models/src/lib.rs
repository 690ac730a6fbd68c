//! Validated clinical risk equations, as pure functions: the cardiovascular Pooled Cohort
//! Equations and PREVENT, and the Kidney Failure Risk Equation ([`Kfre`]). Every model is also
//! a [`TabularModel`]: it describes itself in the general model contract's terms and predicts
//! from named values, which is all the model components use.
//!
//! Data flows one way: a client's [`PatientInput`] (typed, unchecked) is validated against a
//! [`Model`]'s declared inputs ([`ModelSpec`]) into a [`Patient`] in canonical units, which the
//! model's equations turn into a [`Prediction`]: risks, guideline category, a category
//! confidence, and per-factor contributions.
//!
//! ```
//! use risk_models::{Field, FieldValue, Model, PatientInput};
//!
//! let mut input = PatientInput::default();
//! input.set(Field::Age, FieldValue::Number(55.0)).unwrap();
//! input.set(Field::Sex, FieldValue::Text("male")).unwrap();
//! input.set(Field::Race, FieldValue::Text("white")).unwrap();
//! input.set(Field::TotalCholesterol, FieldValue::Number(213.0)).unwrap();
//! input.set(Field::HdlCholesterol, FieldValue::Number(50.0)).unwrap();
//! input.set(Field::SystolicBp, FieldValue::Number(120.0)).unwrap();
//!
//! let prediction = Model::Pce2013.predict(&input).unwrap();
//! assert!((prediction.risk() - 0.05384).abs() < 1e-3);
//! assert_eq!(prediction.category.name(), "borderline");
//! ```
//!
//! No function here does I/O, and nothing depends on HTTP, Spin or WebAssembly.

pub mod category;
pub mod confidence;
pub mod description;
pub mod explanation;
pub mod features;
pub mod fhir_sources;
pub mod field;
pub mod input;
pub mod link;
pub mod models;
pub mod prediction;
pub mod problem;
pub mod spec;
pub mod tabular;
pub mod validation;
pub mod value;
pub mod warning;

pub use category::RiskCategory;
pub use description::ModelDescription;
pub use explanation::{Contribution, Factor};
pub use field::{CholesterolUnit, Field, FieldKind, Unit};
pub use input::{FieldValue, PatientInput, Race, Sex};
pub use models::kfre::Kfre;
pub use models::Model;
pub use prediction::{OutcomeRisk, Prediction};
pub use problem::{FieldError, FieldProblem, ValidationErrors};
pub use spec::{InputSpec, ModelSpec, OutcomeSpec, Range, Requirement};
pub use tabular::{TabularModel, TabularPrediction, TabularWarning};
pub use validation::Patient;
pub use value::{UnitConversion, ValueKind};
pub use warning::Warning;
