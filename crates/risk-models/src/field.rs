//! The patient fields of the public contract, defined once.
//!
//! Every place that needs a field's name, type, unit or description (JSON decoding, the
//! inference-protocol tensors, validation messages, the OpenAPI document) reads it from here,
//! so the contract cannot drift between them.

use crate::value::ValueKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CholesterolUnit {
    #[default]
    MgPerDl,
    MmolPerL,
}

/// mg/dL per mmol/L of cholesterol, as both model specifications use (PREVENT's 0.02586 is its
/// reciprocal).
pub const MG_DL_PER_MMOL_L: f64 = 38.67;

impl CholesterolUnit {
    pub fn symbol(self) -> &'static str {
        match self {
            CholesterolUnit::MgPerDl => "mg/dL",
            CholesterolUnit::MmolPerL => "mmol/L",
        }
    }

    /// Converts a value in this unit to mg/dL.
    pub fn to_mg_dl(self, value: f64) -> f64 {
        match self {
            CholesterolUnit::MgPerDl => value,
            CholesterolUnit::MmolPerL => value * MG_DL_PER_MMOL_L,
        }
    }

    /// Converts a value in mg/dL to this unit.
    pub fn from_mg_dl(self, value: f64) -> f64 {
        match self {
            CholesterolUnit::MgPerDl => value,
            CholesterolUnit::MmolPerL => value / MG_DL_PER_MMOL_L,
        }
    }
}

impl FieldKind {
    /// The type of value a client sends for a field of this kind.
    pub fn value_kind(self) -> ValueKind {
        match self {
            FieldKind::Number { .. } => ValueKind::Number,
            FieldKind::Flag => ValueKind::Boolean,
            FieldKind::Choice { .. } => ValueKind::Choice,
        }
    }
}

/// A field a client may send about a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Age,
    Sex,
    Race,
    TotalCholesterol,
    HdlCholesterol,
    CholesterolUnit,
    SystolicBp,
    OnBpTreatment,
    Smoker,
    Diabetic,
    Egfr,
    OnStatin,
}

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A real number in the given unit.
    Number { unit: Unit },
    /// A yes/no flag; absent means `false`.
    Flag,
    /// One of a fixed set of strings.
    Choice { allowed: &'static [&'static str] },
}

/// The unit a numeric field is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Years,
    /// Cholesterol: mg/dL unless the request's `cholesterol_unit` says mmol/L.
    Cholesterol,
    MillimetresOfMercury,
    /// eGFR: mL/min/1.73 m².
    FiltrationRate,
}

impl Unit {
    /// The unit's symbol as written in messages and documentation (cholesterol in mg/dL).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Years => "years",
            Unit::Cholesterol => "mg/dL",
            Unit::MillimetresOfMercury => "mmHg",
            Unit::FiltrationRate => "mL/min/1.73 m²",
        }
    }
}

pub const SEX_VALUES: &[&str] = &["female", "male"];
pub const RACE_VALUES: &[&str] = &["white", "african_american", "other"];
pub const CHOLESTEROL_UNIT_VALUES: &[&str] = &["mg/dL", "mmol/L"];

impl Field {
    /// Every field, in the order the documentation lists them.
    pub const ALL: [Field; 12] = [
        Field::Age,
        Field::Sex,
        Field::Race,
        Field::TotalCholesterol,
        Field::HdlCholesterol,
        Field::CholesterolUnit,
        Field::SystolicBp,
        Field::OnBpTreatment,
        Field::Smoker,
        Field::Diabetic,
        Field::Egfr,
        Field::OnStatin,
    ];

    /// The field's name in `patient_data` and in inference-protocol inputs.
    pub fn name(self) -> &'static str {
        match self {
            Field::Age => "age",
            Field::Sex => "sex",
            Field::Race => "race",
            Field::TotalCholesterol => "total_cholesterol",
            Field::HdlCholesterol => "hdl_cholesterol",
            Field::CholesterolUnit => "cholesterol_unit",
            Field::SystolicBp => "systolic_bp",
            Field::OnBpTreatment => "on_bp_treatment",
            Field::Smoker => "smoker",
            Field::Diabetic => "diabetic",
            Field::Egfr => "egfr",
            Field::OnStatin => "on_statin",
        }
    }

    /// Another accepted name: the original Python service called total cholesterol `cholesterol`.
    pub fn alias(self) -> Option<&'static str> {
        match self {
            Field::TotalCholesterol => Some("cholesterol"),
            _ => None,
        }
    }

    /// Finds a field by its name or alias.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|field| field.name() == name || field.alias() == Some(name))
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Age => FieldKind::Number { unit: Unit::Years },
            Field::TotalCholesterol | Field::HdlCholesterol => FieldKind::Number {
                unit: Unit::Cholesterol,
            },
            Field::SystolicBp => FieldKind::Number {
                unit: Unit::MillimetresOfMercury,
            },
            Field::Egfr => FieldKind::Number {
                unit: Unit::FiltrationRate,
            },
            Field::Sex => FieldKind::Choice {
                allowed: SEX_VALUES,
            },
            Field::Race => FieldKind::Choice {
                allowed: RACE_VALUES,
            },
            Field::CholesterolUnit => FieldKind::Choice {
                allowed: CHOLESTEROL_UNIT_VALUES,
            },
            Field::OnBpTreatment | Field::Smoker | Field::Diabetic | Field::OnStatin => {
                FieldKind::Flag
            }
        }
    }

    /// One sentence for documentation.
    pub fn description(self) -> &'static str {
        match self {
            Field::Age => "Age in years.",
            Field::Sex => "Sex: \"female\" or \"male\" (the equations are sex-specific).",
            Field::Race => {
                "Race, used only by pce-2013: \"white\", \"african_american\" or \"other\". \
                 Absent or \"other\" uses the white equations, as the guideline advises, with a warning."
            }
            Field::TotalCholesterol => {
                "Total cholesterol, in mg/dL unless cholesterol_unit is \"mmol/L\". \
                 The original service's name `cholesterol` is accepted as an alias."
            }
            Field::HdlCholesterol => {
                "HDL cholesterol, in mg/dL unless cholesterol_unit is \"mmol/L\"."
            }
            Field::CholesterolUnit => {
                "Unit of both cholesterol values: \"mg/dL\" (default) or \"mmol/L\" \
                 (converted with 1 mmol/L = 38.67 mg/dL)."
            }
            Field::SystolicBp => "Systolic blood pressure in mmHg.",
            Field::OnBpTreatment => "Takes blood-pressure medication. Absent means false.",
            Field::Smoker => "Current smoker. Absent means false.",
            Field::Diabetic => "Has diabetes. Absent means false.",
            Field::Egfr => {
                "Estimated glomerular filtration rate in mL/min/1.73 m². Used only by prevent-2023."
            }
            Field::OnStatin => "Takes a statin. Used only by prevent-2023. Absent means false.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_found_by_its_own_name() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
    }

    #[test]
    fn the_original_services_cholesterol_name_means_total_cholesterol() {
        assert_eq!(
            Field::from_name("cholesterol"),
            Some(Field::TotalCholesterol)
        );
    }

    #[test]
    fn unknown_names_are_not_fields() {
        assert_eq!(Field::from_name("smoking"), None);
        assert_eq!(Field::from_name(""), None);
    }
}
