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

        /// Scores `patients` with one `predict-batch` call (`call`), one result per patient.
        pub fn predict_batch(
            patients: Vec<Patient>,
            call: impl FnOnce(&wit::PatientBatch) -> wit::BatchPredictions,
        ) -> Vec<PredictResult> {
            let total = patients.len();
            match batch(patients) {
                Some(batch) => batch_results(batch.count, call(&batch)),
                // More patients than a call can number, which no request body can hold.
                None => (0..total)
                    .map(|_| {
                        Err(vec![ModelFieldError {
                            field: String::new(),
                            message: "a batch holds at most 4,294,967,295 patients".into(),
                        }])
                    })
                    .collect(),
            }
        }

        /// Moves the patients into the call's table, one row each (a batch is read once and
        /// sent once). `None` beyond `u32::MAX` patients.
        fn batch(patients: Vec<Patient>) -> Option<wit::PatientBatch> {
            let count = u32::try_from(patients.len()).ok()?;
            let width = patients.first().map_or(0, |patient| patient.values.len());
            let mut batch = wit::PatientBatch {
                count,
                values: Vec::with_capacity(patients.len() * width),
                not_declared: Vec::new(),
            };
            for (row, patient) in (0..count).zip(patients) {
                batch
                    .values
                    .extend(patient.values.into_iter().map(|value| value.map(into_wit)));
                batch
                    .not_declared
                    .extend(patient.not_declared.into_iter().map(|name| (row, name)));
            }
            Some(batch)
        }

        /// The batch's table as one result per patient, in order: the refused with their
        /// errors, every other patient with the next row. Empty when the table is not what the
        /// contract says (rows for another number of patients, rows of unequal length,
        /// refusals or warnings out of order or for no patient), which the callers answer as a
        /// broken build: no number is shown under a name it does not belong to.
        fn batch_results(count: u32, batch: wit::BatchPredictions) -> Vec<PredictResult> {
            let total = count as usize;
            let scored = total.checked_sub(batch.refused.len()).unwrap_or(usize::MAX);
            // The same number of outputs, and of contributions, for every scored patient.
            let per_row = |len: usize| match len.checked_div(scored) {
                Some(width) if width * scored == len => Some(width),
                None if len == 0 => Some(0),
                _ => None,
            };
            let (Some(outputs_per_row), Some(factors)) = (
                per_row(batch.outputs.len()),
                per_row(batch.contributions.len()),
            ) else {
                return Vec::new();
            };
            if batch.scored.len() != scored {
                return Vec::new();
            }
            let mut refused = batch.refused.into_iter().peekable();
            let mut rows = batch.scored.into_iter();
            let mut outputs = batch.outputs.into_iter();
            let mut contributions = batch.contributions.into_iter();
            let mut warnings = batch.warnings.into_iter().peekable();
            let mut results = Vec::with_capacity(total);
            for patient in 0..count {
                if let Some(refusal) = refused.next_if(|refusal| refusal.patient == patient) {
                    results.push(Err(field_errors(refusal.errors)));
                    continue;
                }
                let Some(row) = rows.next() else {
                    return Vec::new();
                };
                results.push(Ok(ModelPrediction {
                    outputs: outputs.by_ref().take(outputs_per_row).map(value).collect(),
                    category: row.category.and_then(|index| usize::try_from(index).ok()),
                    confidence: row.confidence,
                    contributions: contributions.by_ref().take(factors).collect(),
                    linear_predictor: row.linear_predictor,
                    reference_value: row.reference_value,
                    warnings: std::iter::from_fn(|| {
                        warnings.next_if(|(sent_for, _)| *sent_for == patient)
                    })
                    .map(|(_, warning)| ModelWarning {
                        code: warning.code,
                        message: warning.message,
                    })
                    .collect(),
                }));
            }
            if refused.peek().is_some() || warnings.peek().is_some() {
                return Vec::new();
            }
            results
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

        fn field_errors(errors: Vec<wit::FieldError>) -> Vec<ModelFieldError> {
            errors
                .into_iter()
                .map(|error| ModelFieldError {
                    field: error.feature,
                    message: error.message,
                })
                .collect()
        }
    };
}

pub(crate) use wit_conversions;
