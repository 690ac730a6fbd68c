//! A model described in the general terms of the model contract (`docs/design/model-contract.md`):
//! features with their kinds, units and ranges, outputs, categories and the explanation's
//! scale. Everything an API or a client needs to know about a model, with no field list shared
//! between models: each model declares its own.
//!
//! The two cardiovascular models are described from their specifications ([`ModelSpec`]) and
//! the field definitions ([`Field`]), so the description cannot drift from what validation and
//! the equations do.

use crate::category::{CategoryThresholds, RiskCategory};
use crate::field::{Field, FieldKind, Unit, MG_DL_PER_MMOL_L};
use crate::models::Model;
use crate::spec::{ModelSpec, Range, Requirement};
use crate::value::UnitConversion;

/// Everything a model declares about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDescription {
    pub name: &'static str,
    pub version: &'static str,
    pub title: &'static str,
    pub citation: &'static str,
    pub population: &'static str,
    /// The horizon of every output, when they share one.
    pub horizon_years: Option<u32>,
    /// In documentation order.
    pub features: Vec<Feature>,
    /// The primary output first.
    pub outputs: Vec<Output>,
    pub categories: Option<Categories>,
    pub explanation: Option<ExplanationInfo>,
    /// What the prediction's confidence means, when the model gives one.
    pub confidence: Option<&'static str>,
}

/// What the cardiovascular models' confidence is (`crate::confidence`).
pub const CATEGORY_CONFIDENCE: &str = "The probability (0 to 1) that the category would stay \
    the same if the measured inputs were measured again, given their usual within-person \
    variability: about 0.5 next to a threshold, near 1 far from every threshold. Not a claim \
    about the model's accuracy.";

/// One input a model accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: Vec<&'static str>,
    pub description: &'static str,
    pub kind: FeatureKind,
    /// Whether a patient without it is refused.
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Number(NumberFeature),
    Boolean {
        /// What absence means.
        when_absent: &'static str,
    },
    Choice {
        allowed: &'static [&'static str],
        /// What absence means; `None` for a required choice.
        when_absent: Option<&'static str>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberFeature {
    /// Canonical unit symbol.
    pub unit: &'static str,
    /// Validated range in the canonical unit.
    pub range: Option<Range>,
    /// Other accepted units: canonical = value × factor.
    pub alternative_units: Vec<UnitConversion>,
    /// The choice feature whose value names this number's unit.
    pub unit_selector: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A probability over `horizon_years`, in [0, 1].
    Probability,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: OutputKind,
    pub horizon_years: Option<u32>,
}

/// One category of the primary output, from its inclusive lower bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: &'static str,
    pub label: &'static str,
    pub from: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// In increasing order of `from`.
    pub bands: Vec<Category>,
    /// Where the thresholds come from.
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExplanationInfo {
    pub scale: &'static str,
    pub reference_patient: &'static str,
}

impl Model {
    /// The model in the contract's general terms.
    pub fn describe(self) -> ModelDescription {
        let spec = self.spec();
        ModelDescription {
            name: spec.name,
            version: spec.version,
            title: spec.title,
            citation: spec.citation,
            population: spec.population,
            horizon_years: Some(spec.horizon_years),
            features: features(spec),
            outputs: spec
                .outcomes
                .iter()
                .map(|outcome| Output {
                    name: outcome.name,
                    description: outcome.description,
                    kind: OutputKind::Probability,
                    horizon_years: Some(spec.horizon_years),
                })
                .collect(),
            categories: Some(categories(&spec.categories, spec.category_basis)),
            explanation: Some(ExplanationInfo {
                scale: spec.linear_predictor_scale,
                reference_patient: spec.reference_patient,
            }),
            confidence: Some(CATEGORY_CONFIDENCE),
        }
    }
}

/// The spec's inputs as features, with `cholesterol_unit` declared right after the last
/// cholesterol value it selects the unit of (every model with cholesterol accepts it).
fn features(spec: &ModelSpec) -> Vec<Feature> {
    let mut features = Vec::new();
    for input in spec.inputs {
        features.push(feature(
            input.field,
            input.requirement == Requirement::Required,
            input.range,
            match input.requirement {
                Requirement::Optional { when_absent } => Some(when_absent),
                Requirement::Required => None,
            },
        ));
        if input.field == Field::HdlCholesterol {
            features.push(feature(Field::CholesterolUnit, false, None, Some("mg/dL")));
        }
    }
    features
}

fn feature(
    field: Field,
    required: bool,
    range: Option<Range>,
    when_absent: Option<&'static str>,
) -> Feature {
    let kind = match field.kind() {
        FieldKind::Number { unit } => FeatureKind::Number(NumberFeature {
            unit: unit.symbol(),
            range,
            alternative_units: if unit == Unit::Cholesterol {
                vec![UnitConversion {
                    unit: "mmol/L",
                    factor: MG_DL_PER_MMOL_L,
                }]
            } else {
                Vec::new()
            },
            unit_selector: (unit == Unit::Cholesterol).then(|| Field::CholesterolUnit.name()),
        }),
        FieldKind::Flag => FeatureKind::Boolean {
            when_absent: when_absent.unwrap_or("false"),
        },
        FieldKind::Choice { allowed } => FeatureKind::Choice {
            allowed,
            when_absent,
        },
    };
    Feature {
        name: field.name(),
        aliases: field.alias().into_iter().collect(),
        description: field.description(),
        kind,
        required,
    }
}

fn categories(thresholds: &CategoryThresholds, source: &'static str) -> Categories {
    let bands = [
        RiskCategory::Low,
        RiskCategory::Borderline,
        RiskCategory::Intermediate,
        RiskCategory::High,
    ]
    .into_iter()
    .map(|category| Category {
        name: category.name(),
        label: category.label(),
        from: thresholds.bounds(category).0,
    })
    .collect();
    Categories { bands, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The union of every model's features, in declaration order, is today's field list in its
    /// documented order: an API that knows only the descriptions lists the same fields, in the
    /// same order, in its messages.
    #[test]
    fn the_union_of_features_is_the_field_list() {
        let mut union: Vec<&str> = Vec::new();
        for model in Model::ALL {
            for feature in model.describe().features {
                if !union.contains(&feature.name) {
                    union.push(feature.name);
                }
            }
        }
        let fields: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(union, fields);
    }

    /// Every input of the specification is a feature with the same requirement and range.
    #[test]
    fn features_follow_the_specification() {
        for model in Model::ALL {
            let description = model.describe();
            for input in model.spec().inputs {
                let feature = description
                    .features
                    .iter()
                    .find(|f| f.name == input.field.name());
                let feature = feature.unwrap_or_else(|| panic!("{:?}", input.field));
                assert_eq!(feature.required, input.requirement == Requirement::Required);
                if let FeatureKind::Number(number) = &feature.kind {
                    assert_eq!(number.range, input.range, "{}", feature.name);
                }
            }
        }
    }

    /// Cholesterol accepts mmol/L through `cholesterol_unit`, with the specified factor.
    #[test]
    fn cholesterol_declares_its_alternative_unit() {
        let description = Model::Pce2013.describe();
        let total = description
            .features
            .iter()
            .find(|f| f.name == "total_cholesterol");
        let Some(FeatureKind::Number(number)) = total.map(|f| &f.kind) else {
            panic!("total_cholesterol is a number feature");
        };
        assert_eq!(number.unit, "mg/dL");
        assert_eq!(number.unit_selector, Some("cholesterol_unit"));
        assert_eq!(
            number.alternative_units,
            vec![UnitConversion {
                unit: "mmol/L",
                factor: 38.67
            }]
        );
        assert_eq!(total.map(|f| f.aliases.clone()), Some(vec!["cholesterol"]));
    }

    /// Categories are the thresholds, from the lowest band up.
    #[test]
    fn categories_start_at_their_thresholds() {
        let categories = Model::Prevent2023.describe().categories;
        let bands: Vec<(&str, f64)> = categories
            .iter()
            .flat_map(|c| c.bands.iter().map(|b| (b.name, b.from)))
            .collect();
        assert_eq!(
            bands,
            vec![
                ("low", 0.0),
                ("borderline", 0.05),
                ("intermediate", 0.075),
                ("high", 0.20)
            ]
        );
    }
}
