//! Where each field's value comes from in a FHIR R4 record (US Core profiles), declared by the
//! models so that the HTTP service holds no code list of its own (`wit/model.wit`,
//! `fhir-source`).
//!
//! Codes and units are those of the US Core profiles and LOINC, SNOMED CT, ICD-10-CM, ATC and
//! UCUM; the recency windows follow the published FHIR implementations of the pooled cohort
//! equations (AHRQ CDS Connect: laboratory values and blood pressure at most 6 years old,
//! smoking status 1 year; the Cerner SMART app: 12 months), chosen per field below.

use std::borrow::Cow;

use fhir_record::{
    Answer, ChoiceMap, CodedBinding, CodingMatch, FhirSource, ObservationBinding, UnitBinding,
};

use crate::field::{Field, MG_DL_PER_MMOL_L};

const LOINC: &str = "http://loinc.org";
const SNOMED_CT: &str = "http://snomed.info/sct";
const ICD_10_CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const ATC: &str = "http://www.whocc.no/atc";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";

/// How old a value may be, in days.
const ONE_YEAR: u32 = 365;
/// Lipids change slowly; AHRQ's service accepts 6 years, we take 5.
const FIVE_YEARS: u32 = 5 * 365 + 1;

const fn code(system: &'static str, code: &'static str) -> CodingMatch {
    CodingMatch::exact(system, code)
}

const fn prefix(system: &'static str, code: &'static str) -> CodingMatch {
    CodingMatch::prefix(system, code)
}

const fn unit(ucum: &'static str, factor: f64) -> UnitBinding {
    UnitBinding {
        ucum: Cow::Borrowed(ucum),
        factor,
    }
}

fn observation(
    codes: &'static [CodingMatch],
    panels: &'static [CodingMatch],
    units: &'static [UnitBinding],
    max_age_days: u32,
) -> FhirSource {
    FhirSource::Observation(ObservationBinding {
        codes: Cow::Borrowed(codes),
        panels: Cow::Borrowed(panels),
        units: Cow::Borrowed(units),
        max_age_days,
    })
}

/// Total cholesterol: mass (2093-3) and molar (14647-2) concentration in serum or plasma.
const TOTAL_CHOLESTEROL: &[CodingMatch] = &[code(LOINC, "2093-3"), code(LOINC, "14647-2")];
/// HDL cholesterol, mass and molar.
const HDL_CHOLESTEROL: &[CodingMatch] = &[code(LOINC, "2085-9"), code(LOINC, "14646-4")];
/// Cholesterol in mg/dL, or in mmol/L at the models' own factor (the same as `/predict`'s).
const CHOLESTEROL_UNITS: &[UnitBinding] = &[unit("mg/dL", 1.0), unit("mmol/L", MG_DL_PER_MMOL_L)];

/// Systolic blood pressure, standalone or in the US Core blood pressure panel (85354-9) or
/// the older one (55284-4).
const SYSTOLIC_BP: &[CodingMatch] = &[code(LOINC, "8480-6")];
const BP_PANELS: &[CodingMatch] = &[code(LOINC, "85354-9"), code(LOINC, "55284-4")];
const MM_HG: &[UnitBinding] = &[unit("mm[Hg]", 1.0)];

/// eGFR by race-free equations only (CKD-EPI 2021 by creatinine, and by creatinine and
/// cystatin C), then the older creatinine-based codes that carry no race coefficient. The
/// codes for results computed "among blacks" are left out: PREVENT is race-free by design.
const EGFR: &[CodingMatch] = &[
    code(LOINC, "98979-8"),
    code(LOINC, "98980-6"),
    code(LOINC, "62238-1"),
    code(LOINC, "88294-4"),
    code(LOINC, "33914-3"),
    code(LOINC, "48642-3"),
    code(LOINC, "69405-9"),
    code(LOINC, "77147-7"),
];
const EGFR_UNITS: &[UnitBinding] = &[unit("mL/min/{1.73_m2}", 1.0)];

/// Tobacco smoking status (US Core Smoking Status), its SNOMED CT answers: current smokers
/// true, former and never smokers false. "Smoker, current status unknown" (266927001) and
/// anything else is not mapped, so the value is refused rather than guessed.
const SMOKING_STATUS: &[CodingMatch] = &[code(LOINC, "72166-2")];
const SMOKING_ANSWERS: &[(CodingMatch, Answer)] = &[
    (code(SNOMED_CT, "449868002"), Answer::Boolean(true)),
    (code(SNOMED_CT, "428041000124106"), Answer::Boolean(true)),
    (code(SNOMED_CT, "428061000124105"), Answer::Boolean(true)),
    (code(SNOMED_CT, "428071000124103"), Answer::Boolean(true)),
    (code(SNOMED_CT, "77176002"), Answer::Boolean(true)),
    (code(SNOMED_CT, "8517006"), Answer::Boolean(false)),
    (code(SNOMED_CT, "266919005"), Answer::Boolean(false)),
];

/// Diabetes mellitus: SNOMED CT's concept and its type 1 and type 2 children (listed: nothing
/// here walks the hierarchy), and ICD-10-CM E08-E11 and E13 (E12 does not exist in ICD-10-CM).
const DIABETES: &[CodingMatch] = &[
    code(SNOMED_CT, "73211009"),
    code(SNOMED_CT, "44054006"),
    code(SNOMED_CT, "46635009"),
    prefix(ICD_10_CM, "E08"),
    prefix(ICD_10_CM, "E09"),
    prefix(ICD_10_CM, "E10"),
    prefix(ICD_10_CM, "E11"),
    prefix(ICD_10_CM, "E13"),
];

/// Antihypertensives by ATC class: antihypertensives, diuretics, beta blockers, calcium
/// channel blockers, agents acting on the renin-angiotensin system. US records code
/// medications in RxNorm, whose codes carry no class: they are listed one by one, and only
/// those checked against real records are here (Synthea's hydrochlorothiazide, in
/// crates/fhir-record's test data). The full list is the VSAC value set
/// 2.16.840.1.113883.3.600.1476, not yet included: a record coded otherwise reads as "not
/// treated", which the card states with the evidence it found.
const ANTIHYPERTENSIVES: &[CodingMatch] = &[
    prefix(ATC, "C02"),
    prefix(ATC, "C03"),
    prefix(ATC, "C07"),
    prefix(ATC, "C08"),
    prefix(ATC, "C09"),
    code(RXNORM, "316049"),
];

/// Statins (HMG CoA reductase inhibitors) alone, or combined with other lipid modifiers.
const STATINS: &[CodingMatch] = &[
    prefix(ATC, "C10AA"),
    prefix(ATC, "C10BA"),
    prefix(ATC, "C10BX"),
];

/// `Patient.gender` to the models' `sex`; `other` and `unknown` have no equation.
const SEX: &[(Cow<'static, str>, Cow<'static, str>)] = &[
    (Cow::Borrowed("female"), Cow::Borrowed("female")),
    (Cow::Borrowed("male"), Cow::Borrowed("male")),
];

/// The US Core race extension's OMB categories to pce-2013's `race`; any other category, or
/// none, is "other" (the equations' convention: the white equations).
const RACE: &[(Cow<'static, str>, Cow<'static, str>)] = &[
    (Cow::Borrowed("2106-3"), Cow::Borrowed("white")),
    (Cow::Borrowed("2054-5"), Cow::Borrowed("african_american")),
];

/// Urine albumin-to-creatinine ratio, mass ratio in random urine (9318-7 albumin, 14959-1
/// microalbumin), in mg/g or in mg/mmol (1 mg/mmol = 8.84 mg/g, as kfre-2016's own unit).
const URINE_ACR: &[CodingMatch] = &[code(LOINC, "9318-7"), code(LOINC, "14959-1")];

/// Where kfre-2016's urine ACR comes from, in mg/g or in mg/mmol at `mg_per_g_per_mg_per_mmol`
/// (the model's own factor, so that a record and `/predict` convert alike).
pub fn urine_acr(mg_per_g_per_mg_per_mmol: f64) -> FhirSource {
    FhirSource::Observation(ObservationBinding {
        codes: Cow::Borrowed(URINE_ACR),
        panels: Cow::Borrowed(&[]),
        units: Cow::Owned(vec![
            unit("mg/g", 1.0),
            unit("mg/mmol", mg_per_g_per_mg_per_mmol),
        ]),
        max_age_days: ONE_YEAR,
    })
}

/// eGFR by the race-free codes, in mL/min/1.73 m².
pub fn egfr() -> FhirSource {
    observation(EGFR, &[], EGFR_UNITS, ONE_YEAR)
}

/// `Patient.gender` to `sex`.
pub fn sex() -> FhirSource {
    FhirSource::Gender(ChoiceMap {
        pairs: Cow::Borrowed(SEX),
        otherwise: None,
    })
}

impl Field {
    /// Where this field's value comes from in a FHIR record; `None` for a field no record
    /// holds (the unit selector: a record's values carry their units).
    pub fn fhir_source(self) -> Option<FhirSource> {
        Some(match self {
            Field::Age => FhirSource::Age,
            Field::Sex => sex(),
            Field::Race => FhirSource::Race(ChoiceMap {
                pairs: Cow::Borrowed(RACE),
                otherwise: Some(Cow::Borrowed("other")),
            }),
            Field::TotalCholesterol => {
                observation(TOTAL_CHOLESTEROL, &[], CHOLESTEROL_UNITS, FIVE_YEARS)
            }
            Field::HdlCholesterol => {
                observation(HDL_CHOLESTEROL, &[], CHOLESTEROL_UNITS, FIVE_YEARS)
            }
            Field::CholesterolUnit => return None,
            Field::SystolicBp => observation(SYSTOLIC_BP, BP_PANELS, MM_HG, ONE_YEAR),
            Field::OnBpTreatment => FhirSource::Medication(Cow::Borrowed(ANTIHYPERTENSIVES)),
            Field::Smoker => FhirSource::CodedObservation(CodedBinding {
                codes: Cow::Borrowed(SMOKING_STATUS),
                answers: Cow::Borrowed(SMOKING_ANSWERS),
                otherwise: None,
                max_age_days: ONE_YEAR,
            }),
            Field::Diabetic => FhirSource::Condition(Cow::Borrowed(DIABETES)),
            Field::Egfr => egfr(),
            Field::OnStatin => FhirSource::Medication(Cow::Borrowed(STATINS)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{builtin, Model};

    fn source_of(model: &str, feature: &str) -> Option<FhirSource> {
        let description = builtin(model).expect("a built-in model").describe();
        description
            .features
            .into_iter()
            .find(|f| f.name == feature)
            .expect("a declared feature")
            .fhir
    }

    #[test]
    fn every_cardiovascular_feature_but_the_unit_selector_has_a_fhir_source() {
        for model in [Model::Pce2013, Model::Prevent2023] {
            for feature in model.describe().features {
                assert_eq!(
                    feature.fhir.is_none(),
                    feature.name == Field::CholesterolUnit.name(),
                    "{}: {}",
                    model.describe().name,
                    feature.name
                );
            }
        }
    }

    #[test]
    fn systolic_pressure_is_read_alone_or_from_either_blood_pressure_panel() {
        let Some(FhirSource::Observation(binding)) = source_of("pce-2013", "systolic_bp") else {
            panic!("an observation binding");
        };
        assert_eq!(binding.codes.as_ref(), [code(LOINC, "8480-6")]);
        assert_eq!(
            binding.panels.as_ref(),
            [code(LOINC, "85354-9"), code(LOINC, "55284-4")]
        );
        assert_eq!(binding.units.as_ref(), [unit("mm[Hg]", 1.0)]);
    }

    #[test]
    fn cholesterol_in_mmol_per_litre_converts_at_the_models_own_factor() {
        for feature in ["total_cholesterol", "hdl_cholesterol"] {
            let Some(FhirSource::Observation(binding)) = source_of("prevent-2023", feature) else {
                panic!("an observation binding");
            };
            let mmol = binding
                .units
                .iter()
                .find(|u| u.ucum == "mmol/L")
                .expect("mmol/L");
            assert_eq!(mmol.factor, MG_DL_PER_MMOL_L);
            assert_eq!(binding.max_age_days, FIVE_YEARS);
        }
    }

    #[test]
    fn the_race_free_models_declare_no_race_and_pce_maps_omb_codes() {
        for model in ["prevent-2023", "kfre-2016"] {
            let description = builtin(model).expect("built in").describe();
            assert!(!description
                .features
                .iter()
                .any(|f| matches!(f.fhir, Some(FhirSource::Race(_)))));
        }
        let Some(FhirSource::Race(map)) = source_of("pce-2013", "race") else {
            panic!("a race binding");
        };
        assert_eq!(map.otherwise.as_deref(), Some("other"));
        assert!(map
            .pairs
            .iter()
            .any(|(code, race)| code == "2054-5" && race == "african_american"));
    }

    #[test]
    fn an_unknown_smoking_status_is_refused_not_read_as_a_non_smoker() {
        let Some(FhirSource::CodedObservation(binding)) = source_of("pce-2013", "smoker") else {
            panic!("a coded binding");
        };
        assert_eq!(binding.otherwise, None);
        assert!(!binding.answers.iter().any(|(c, _)| c.code == "266927001"));
        assert_eq!(binding.max_age_days, ONE_YEAR);
    }

    #[test]
    fn kfre_reads_the_acr_in_either_unit_at_its_own_factor_and_region_from_no_record() {
        let Some(FhirSource::Observation(binding)) = source_of("kfre-2016", "urine_acr") else {
            panic!("an observation binding");
        };
        let units: Vec<(&str, f64)> = binding
            .units
            .iter()
            .map(|u| (u.ucum.as_ref(), u.factor))
            .collect();
        assert_eq!(units, [("mg/g", 1.0), ("mg/mmol", 8.84)]);
        assert_eq!(source_of("kfre-2016", "region"), None);
        assert_eq!(source_of("kfre-2016", "age"), Some(FhirSource::Age));
        assert_eq!(source_of("kfre-2016", "egfr"), Some(egfr()));
    }
}
