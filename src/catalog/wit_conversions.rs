//! Between the WIT types of `healthcare:model/model` and the catalog's plain types
//! ([`super::contract`]).
//!
//! wit-bindgen gives each set of bindings its own Rust types: the imports' in the WebAssembly
//! build, `model-component`'s natively. [`wit_conversions!`] writes the same conversions for
//! either, so the native tests exercise exactly the code the component runs.

/// Defines, in the calling module, the conversions for the WIT bindings module `$wit`.
macro_rules! wit_conversions {
    ($wit:path) => {
        use $wit as wit;

        use $crate::catalog::contract::{
            Categories, Category, ExplanationInfo, Feature, FeatureKind, List, ModelFieldError,
            ModelInfo, ModelPrediction, ModelWarning, NumberFeature, Output, OutputKind, Patient,
            PredictResult, Text, Value,
        };

        pub fn patient(patient: &Patient) -> wit::Patient {
            wit::Patient {
                values: patient
                    .values
                    .iter()
                    .map(|value| value.as_ref().map(to_wit))
                    .collect(),
                not_declared: patient.not_declared.clone(),
            }
        }

        /// Moves the patients into the call's arguments (a batch is read once and sent once).
        pub fn patients(patients: Vec<Patient>) -> Vec<wit::Patient> {
            patients
                .into_iter()
                .map(|patient| wit::Patient {
                    values: patient
                        .values
                        .into_iter()
                        .map(|value| value.map(into_wit))
                        .collect(),
                    not_declared: patient.not_declared,
                })
                .collect()
        }

        fn to_wit(value: &Value) -> wit::Value {
            match value {
                Value::Number(number) => wit::Value::Number(*number),
                Value::Boolean(flag) => wit::Value::Boolean(*flag),
                Value::Choice(text) => wit::Value::Choice(text.clone()),
            }
        }

        fn into_wit(value: Value) -> wit::Value {
            match value {
                Value::Number(number) => wit::Value::Number(number),
                Value::Boolean(flag) => wit::Value::Boolean(flag),
                Value::Choice(text) => wit::Value::Choice(text),
            }
        }

        fn value(value: wit::Value) -> Value {
            match value {
                wit::Value::Number(number) => Value::Number(number),
                wit::Value::Boolean(flag) => Value::Boolean(flag),
                wit::Value::Choice(text) => Value::Choice(text),
            }
        }

        /// Owned texts as the contract's list.
        #[allow(dead_code)] // as model_info
        fn texts(texts: Vec<String>) -> List<Text> {
            texts.into_iter().map(Text::from).collect::<Vec<_>>().into()
        }

        #[allow(dead_code)] // as model_info
        fn feature(feature: wit::Feature) -> Feature {
            Feature {
                name: feature.name.into(),
                aliases: texts(feature.aliases),
                description: feature.description.into(),
                kind: match feature.kind {
                    wit::FeatureKind::Number(number) => FeatureKind::Number(NumberFeature {
                        unit: number.unit.into(),
                        range: number.range.map(|range| (range.min, range.max)),
                        alternative_units: number
                            .alternative_units
                            .into_iter()
                            .map(|conversion| (conversion.unit.into(), conversion.factor))
                            .collect::<Vec<_>>()
                            .into(),
                        unit_selector: number.unit_selector.map(Into::into),
                    }),
                    wit::FeatureKind::Boolean(boolean) => FeatureKind::Boolean {
                        when_absent: boolean.when_absent.into(),
                    },
                    wit::FeatureKind::Choice(choice) => FeatureKind::Choice {
                        allowed: texts(choice.allowed),
                        when_absent: choice.when_absent.map(Into::into),
                    },
                },
                required: feature.required,
                fhir: feature.fhir.map(fhir_source),
            }
        }

        #[allow(dead_code)] // as model_info
        fn coding_match(coding: wit::CodingMatch) -> fhir_record::CodingMatch {
            fhir_record::CodingMatch {
                system: coding.system.into(),
                code: coding.code.into(),
                prefix: coding.prefix,
            }
        }

        #[allow(dead_code)] // as model_info
        fn coding_matches(
            codings: Vec<wit::CodingMatch>,
        ) -> fhir_record::List<fhir_record::CodingMatch> {
            codings
                .into_iter()
                .map(coding_match)
                .collect::<Vec<_>>()
                .into()
        }

        #[allow(dead_code)] // as model_info
        fn choice_map(map: wit::ChoiceMap) -> fhir_record::ChoiceMap {
            fhir_record::ChoiceMap {
                pairs: map
                    .pairs
                    .into_iter()
                    .map(|(code, choice)| (code.into(), choice.into()))
                    .collect::<Vec<_>>()
                    .into(),
                otherwise: map.otherwise.map(Into::into),
            }
        }

        #[allow(dead_code)] // as model_info
        fn answer(value: wit::Value) -> fhir_record::Answer {
            match value {
                wit::Value::Number(number) => fhir_record::Answer::Number(number),
                wit::Value::Boolean(flag) => fhir_record::Answer::Boolean(flag),
                wit::Value::Choice(text) => fhir_record::Answer::Choice(text.into()),
            }
        }

        /// A feature's FHIR binding, as the model declared it.
        #[allow(dead_code)] // as model_info
        fn fhir_source(source: wit::FhirSource) -> fhir_record::FhirSource {
            use fhir_record::FhirSource;
            match source {
                wit::FhirSource::Age => FhirSource::Age,
                wit::FhirSource::Gender(map) => FhirSource::Gender(choice_map(map)),
                wit::FhirSource::Race(map) => FhirSource::Race(choice_map(map)),
                wit::FhirSource::Observation(binding) => {
                    FhirSource::Observation(fhir_record::ObservationBinding {
                        codes: coding_matches(binding.codes),
                        panels: coding_matches(binding.panels),
                        units: binding
                            .units
                            .into_iter()
                            .map(|unit| fhir_record::UnitBinding {
                                ucum: unit.ucum.into(),
                                factor: unit.factor,
                            })
                            .collect::<Vec<_>>()
                            .into(),
                        max_age_days: binding.max_age_days,
                    })
                }
                wit::FhirSource::Condition(codes) => FhirSource::Condition(coding_matches(codes)),
                wit::FhirSource::Medication(codes) => FhirSource::Medication(coding_matches(codes)),
                wit::FhirSource::CodedObservation(binding) => {
                    FhirSource::CodedObservation(fhir_record::CodedBinding {
                        codes: coding_matches(binding.codes),
                        answers: binding
                            .answers
                            .into_iter()
                            .map(|(coding, value)| (coding_match(coding), answer(value)))
                            .collect::<Vec<_>>()
                            .into(),
                        otherwise: binding.otherwise.map(answer),
                        max_age_days: binding.max_age_days,
                    })
                }
            }
        }

        pub fn identity(identity: wit::ModelIdentity) -> $crate::catalog::Identity {
            $crate::catalog::Identity {
                name: identity.name.into(),
                version: identity.version.into(),
            }
        }

        // Reads a whole description, with the functions marked "as model_info": used only
        // for a model this build does not describe (only such an import has `info()` in the
        // world build.rs writes), so unused in a build of built-in models alone.
        #[allow(dead_code)]
        pub fn model_info(info: wit::ModelInfo) -> ModelInfo {
            ModelInfo {
                name: info.name.into(),
                version: info.version.into(),
                title: info.title.into(),
                citation: info.citation.into(),
                population: info.population.into(),
                horizon_years: info.horizon_years,
                features: info
                    .features
                    .into_iter()
                    .map(feature)
                    .collect::<Vec<_>>()
                    .into(),
                outputs: info
                    .outputs
                    .into_iter()
                    .map(|output| Output {
                        name: output.name.into(),
                        description: output.description.into(),
                        kind: match output.kind {
                            wit::OutputKind::Probability => OutputKind::Probability,
                            wit::OutputKind::Score => OutputKind::Score,
                            wit::OutputKind::Class => OutputKind::Class,
                        },
                        horizon_years: output.horizon_years,
                    })
                    .collect::<Vec<_>>()
                    .into(),
                categories: info.categories.map(|categories| Categories {
                    bands: categories
                        .bands
                        .into_iter()
                        .map(|band| Category {
                            name: band.name.into(),
                            label: band.label.into(),
                            lower_bound: band.lower_bound,
                        })
                        .collect::<Vec<_>>()
                        .into(),
                    source: categories.source.into(),
                }),
                explanation: info.explanation.map(|explanation| ExplanationInfo {
                    scale: explanation.scale.into(),
                    reference_patient: explanation.reference_patient.into(),
                    factors: texts(explanation.factors),
                }),
                confidence: info.confidence.map(Into::into),
            }
        }

        pub fn prediction(prediction: wit::Prediction) -> ModelPrediction {
            ModelPrediction {
                outputs: prediction.outputs.into_iter().map(value).collect(),
                category: prediction
                    .category
                    .and_then(|index| usize::try_from(index).ok()),
                confidence: prediction.confidence,
                contributions: prediction.contributions,
                linear_predictor: prediction.linear_predictor,
                reference_value: prediction.reference_value,
                warnings: prediction
                    .warnings
                    .into_iter()
                    .map(|warning| ModelWarning {
                        code: warning.code,
                        message: warning.message,
                    })
                    .collect(),
            }
        }

        pub fn field_errors(errors: Vec<wit::FieldError>) -> Vec<ModelFieldError> {
            errors
                .into_iter()
                .map(|error| ModelFieldError {
                    field: error.feature,
                    message: error.message,
                })
                .collect()
        }

        pub fn predict_result(
            result: Result<wit::Prediction, Vec<wit::FieldError>>,
        ) -> PredictResult {
            result.map(prediction).map_err(field_errors)
        }
    };
}

pub(crate) use wit_conversions;
