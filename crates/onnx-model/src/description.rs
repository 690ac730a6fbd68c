//! The model description a user writes next to `model.onnx` (`model.toml`): what the model
//! declares about itself in the model contract's terms, and where each feature enters the
//! graph. Read and checked at build time; every problem names its line.
//!
//! ```toml
//! [model]
//! name = "breast-cancer-lr"        # the name clients use: lowercase letters, digits, '-'
//! version = "1.0.0"
//! title = "Malignancy of a breast mass (logistic regression)"
//! citation = "Trained by ... on ..."
//! population = "Breast masses sampled by fine-needle aspiration"
//! onnx = "model.onnx"              # next to this file
//!
//! [output]
//! name = "malignant"
//! description = "Probability that the mass is malignant"
//! kind = "probability"             # or "score"
//! onnx_output = "probabilities"    # the graph output …
//! column = 1                       # … and its column
//!
//! [[feature]]                      # one per column of the graph's input
//! name = "mean_radius"
//! description = "Mean distance from the centre to the perimeter of the nuclei"
//! unit = "px"                      # kind = "number" (the default): unit and range required
//! range = [6.98, 28.11]            # validated range: values outside it are refused
//! input = "float_input"
//! column = 0
//! [feature.fhir]                   # optional: where it comes from in a FHIR record
//! source = "observation"           # description/fhir.rs: every source and its members
//! codes = ["http://loinc.org|2093-3"]
//! units = [["mg/dL", 1.0]]
//! max_age_days = 365
//!
//! [categories]                     # optional
//! source = "..."
//! [[categories.band]]              # in increasing order of `from`
//! name = "low"
//! label = "Low probability"
//! from = 0.0
//! ```
//!
//! A boolean feature (`kind = "boolean"`) enters as 1 or 0 and may say what its absence means
//! (`when_absent = false`); a choice (`kind = "choice"`) maps each allowed value to the number
//! the model was trained with (`values = { female = 0.0, male = 1.0 }`) and may name a value for
//! its absence. A number is always required: a model is never fed a made-up value.

mod fhir;

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// A problem with the description, at a line of the file (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct DescriptionError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// What a feature is.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Number {
        unit: String,
        range: (f64, f64),
    },
    Boolean {
        when_absent: Option<bool>,
    },
    Choice {
        /// Each allowed value and the number the model takes for it, in the order written.
        values: Vec<(String, f32)>,
        when_absent: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub description: String,
    pub kind: FeatureKind,
    /// The graph input it feeds, and the column.
    pub input: String,
    pub column: usize,
    /// Where its value comes from in a FHIR record (`[feature.fhir]`, `description/fhir.rs`).
    pub fhir: Option<fhir_record::FhirSource>,
    /// The line of its `[[feature]]` table, for later checks' messages.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Probability,
    Score,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub description: String,
    pub kind: OutputKind,
    pub horizon_years: Option<u32>,
    pub onnx_output: String,
    pub column: usize,
    pub onnx_output_line: usize,
    pub column_line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    pub label: String,
    pub from: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    pub source: String,
    pub bands: Vec<Band>,
}

/// A checked description.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub name: String,
    pub version: String,
    pub title: String,
    pub citation: String,
    pub population: String,
    pub onnx: String,
    pub output: Output,
    pub features: Vec<Feature>,
    pub categories: Option<Categories>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    model: ModelTable,
    output: Spanned<OutputTable>,
    #[serde(default)]
    feature: Vec<Spanned<FeatureTable>>,
    categories: Option<Spanned<CategoriesTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelTable {
    name: Spanned<String>,
    version: String,
    title: String,
    citation: String,
    population: String,
    onnx: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputTable {
    name: Spanned<String>,
    description: String,
    kind: Spanned<String>,
    horizon_years: Option<u32>,
    onnx_output: Spanned<String>,
    column: Spanned<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureTable {
    name: Spanned<String>,
    description: String,
    kind: Option<Spanned<String>>,
    unit: Option<Spanned<String>>,
    range: Option<Spanned<Vec<f64>>>,
    values: Option<Spanned<BTreeMap<String, f32>>>,
    when_absent: Option<Spanned<toml::Value>>,
    input: String,
    column: usize,
    fhir: Option<Spanned<fhir::FhirTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoriesTable {
    source: String,
    band: Vec<Spanned<BandTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandTable {
    name: String,
    label: String,
    from: f64,
}

/// Reads and checks `text`, the contents of `file` (named in messages).
pub fn parse(file: &str, text: &str) -> Result<Description, DescriptionError> {
    let at = |span: Range<usize>, message: String| DescriptionError {
        file: file.to_owned(),
        line: line_of(text, span.start),
        message,
    };
    let parsed: File = toml::from_str(text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        at(span, error.message().trim().to_owned())
    })?;
    let name = &parsed.model.name;
    if !is_model_name(name.get_ref()) {
        return Err(at(
            name.span(),
            format!(
                "model name {:?} must be lowercase letters, digits and '-', starting with a letter",
                name.get_ref()
            ),
        ));
    }
    let output = output(&parsed.output, &at)?;
    let mut features: Vec<Feature> = Vec::new();
    for table in &parsed.feature {
        let feature = feature(table, &at)?;
        if features.iter().any(|known| known.name == feature.name) {
            return Err(at(
                table.span(),
                format!("feature {} is declared twice", feature.name),
            ));
        }
        if let Some(other) = features
            .iter()
            .find(|known| known.input == feature.input && known.column == feature.column)
        {
            return Err(at(
                table.span(),
                format!(
                    "feature {} feeds column {} of input {}, which feature {} already feeds",
                    feature.name, feature.column, feature.input, other.name
                ),
            ));
        }
        features.push(feature);
    }
    if features.is_empty() {
        return Err(at(0..0, "no [[feature]] is declared".into()));
    }
    let categories = match &parsed.categories {
        Some(table) => Some(categories(table, &at)?),
        None => None,
    };
    Ok(Description {
        name: name.get_ref().clone(),
        version: parsed.model.version,
        title: parsed.model.title,
        citation: parsed.model.citation,
        population: parsed.model.population,
        onnx: parsed.model.onnx,
        output,
        features,
        categories,
    })
}

/// The 1-based line of byte `offset`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn is_model_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_feature_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

type At<'a> = dyn Fn(Range<usize>, String) -> DescriptionError + 'a;

fn output(table: &Spanned<OutputTable>, at: &At<'_>) -> Result<Output, DescriptionError> {
    let output = table.get_ref();
    if !is_feature_name(output.name.get_ref()) {
        return Err(at(
            output.name.span(),
            "the output's name must be lowercase letters, digits and '_'".into(),
        ));
    }
    let kind = match output.kind.get_ref().as_str() {
        "probability" => OutputKind::Probability,
        "score" => OutputKind::Score,
        other => {
            return Err(at(
                output.kind.span(),
                format!("output kind {other:?} must be \"probability\" or \"score\""),
            ))
        }
    };
    Ok(Output {
        name: output.name.get_ref().clone(),
        description: output.description.clone(),
        kind,
        horizon_years: output.horizon_years,
        onnx_output: output.onnx_output.get_ref().clone(),
        column: *output.column.get_ref(),
        onnx_output_line: 0,
        column_line: 0,
    })
    .map(|mut checked| {
        checked.onnx_output_line = at(output.onnx_output.span(), String::new()).line;
        checked.column_line = at(output.column.span(), String::new()).line;
        checked
    })
}

fn feature(table: &Spanned<FeatureTable>, at: &At<'_>) -> Result<Feature, DescriptionError> {
    let line = at(table.span(), String::new()).line;
    let f = table.get_ref();
    let name = f.name.get_ref();
    if !is_feature_name(name) {
        return Err(at(
            f.name.span(),
            format!("feature name {name:?} must be lowercase letters, digits and '_'"),
        ));
    }
    let kind_name = f.kind.as_ref().map_or("number", |k| k.get_ref().as_str());
    let kind_span = f.kind.as_ref().map_or(table.span(), Spanned::span);
    let not_for = |field: &str, span: Range<usize>| {
        at(
            span,
            format!("feature {name}: {field} is not used by a {kind_name} feature"),
        )
    };
    let kind = match kind_name {
        "number" => {
            if let Some(values) = &f.values {
                return Err(not_for("values", values.span()));
            }
            if let Some(absent) = &f.when_absent {
                return Err(at(
                    absent.span(),
                    format!("feature {name}: a number is always required (no when_absent): the model is never fed a made-up value"),
                ));
            }
            let unit = f.unit.as_ref().ok_or_else(|| {
                at(
                    table.span(),
                    format!("feature {name}: a number needs its unit"),
                )
            })?;
            let range = f.range.as_ref().ok_or_else(|| {
                at(
                    table.span(),
                    format!(
                        "feature {name}: a number needs its validated range, range = [min, max]"
                    ),
                )
            })?;
            let (min, max) = match range.get_ref().as_slice() {
                [min, max] if min.is_finite() && max.is_finite() && min < max => (*min, *max),
                _ => {
                    return Err(at(
                        range.span(),
                        format!("feature {name}: range must be [min, max] with min < max"),
                    ))
                }
            };
            FeatureKind::Number {
                unit: unit.get_ref().clone(),
                range: (min, max),
            }
        }
        "boolean" => {
            if let Some(unit) = &f.unit {
                return Err(not_for("unit", unit.span()));
            }
            if let Some(range) = &f.range {
                return Err(not_for("range", range.span()));
            }
            if let Some(values) = &f.values {
                return Err(not_for("values", values.span()));
            }
            let when_absent = match &f.when_absent {
                None => None,
                Some(value) => Some(value.get_ref().as_bool().ok_or_else(|| {
                    at(
                        value.span(),
                        format!("feature {name}: when_absent must be true or false"),
                    )
                })?),
            };
            FeatureKind::Boolean { when_absent }
        }
        "choice" => {
            if let Some(unit) = &f.unit {
                return Err(not_for("unit", unit.span()));
            }
            if let Some(range) = &f.range {
                return Err(not_for("range", range.span()));
            }
            let values = f.values.as_ref().ok_or_else(|| {
                at(table.span(), format!("feature {name}: a choice needs its values, values = {{ <value> = <number>, ... }}"))
            })?;
            if values.get_ref().is_empty() {
                return Err(at(
                    values.span(),
                    format!("feature {name}: values is empty"),
                ));
            }
            let allowed: Vec<(String, f32)> = values
                .get_ref()
                .iter()
                .map(|(value, number)| (value.clone(), *number))
                .collect();
            let when_absent = match &f.when_absent {
                None => None,
                Some(value) => {
                    let text = value
                        .get_ref()
                        .as_str()
                        .filter(|text| allowed.iter().any(|(allowed, _)| allowed == text));
                    Some(
                        text.ok_or_else(|| {
                            at(
                                value.span(),
                                format!("feature {name}: when_absent must be one of its values"),
                            )
                        })?
                        .to_owned(),
                    )
                }
            };
            FeatureKind::Choice {
                values: allowed,
                when_absent,
            }
        }
        other => {
            return Err(at(
                kind_span,
                format!(
                    "feature {name}: kind {other:?} must be \"number\", \"boolean\" or \"choice\""
                ),
            ))
        }
    };
    let fhir = match &f.fhir {
        Some(table) => Some(fhir::source(name, &kind, table, at)?),
        None => None,
    };
    Ok(Feature {
        name: name.clone(),
        description: f.description.clone(),
        kind,
        input: f.input.clone(),
        column: f.column,
        line,
        fhir,
    })
}

fn categories(
    table: &Spanned<CategoriesTable>,
    at: &At<'_>,
) -> Result<Categories, DescriptionError> {
    let categories = table.get_ref();
    if categories.band.is_empty() {
        return Err(at(
            table.span(),
            "[categories] needs at least one [[categories.band]]".into(),
        ));
    }
    let mut bands: Vec<Band> = Vec::new();
    for band in &categories.band {
        let b = band.get_ref();
        if !is_feature_name(&b.name) {
            return Err(at(
                band.span(),
                format!(
                    "category name {:?} must be lowercase letters, digits and '_'",
                    b.name
                ),
            ));
        }
        if let Some(previous) = bands.last() {
            if b.from.partial_cmp(&previous.from) != Some(std::cmp::Ordering::Greater) {
                return Err(at(
                    band.span(),
                    format!(
                        "category {} must start above {} (bands in increasing order of from)",
                        b.name, previous.name
                    ),
                ));
            }
        }
        bands.push(Band {
            name: b.name.clone(),
            label: b.label.clone(),
            from: b.from,
        });
    }
    Ok(Categories {
        source: categories.source.clone(),
        bands,
    })
}
