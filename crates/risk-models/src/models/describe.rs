//! The cardiovascular models in the general contract's terms ([`ModelDescription`]), derived
//! from their specifications ([`ModelSpec`]) and the field definitions ([`Field`]).

use crate::category::{CategoryThresholds, RiskCategory};
use crate::description::{
    Categories, Category, ExplanationInfo, Feature, FeatureKind, ModelDescription, NumberFeature,
    Output, OutputKind, CATEGORY_CONFIDENCE,
};
use crate::field::{Field, FieldKind, Unit, MG_DL_PER_MMOL_L};
use crate::models::Model;
use crate::spec::{ModelSpec, Range, Requirement};
use crate::value::UnitConversion;

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
                factors: self.factors().iter().map(|factor| factor.name()).collect(),
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
        fhir: field.fhir_source(),
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
    use crate::description::FeatureKind;

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
