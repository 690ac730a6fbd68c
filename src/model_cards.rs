//! `GET /models` and `GET /models/{name}`: what each model declares about itself (its
//! `info()`), as JSON: its source and population, each feature's unit, validated range and
//! allowed values, and where it comes from in a FHIR record; its outputs and categories.
//!
//! A client builds its requests from this rather than from a copy of the model's rules, and
//! the FHIR endpoints (docs/design/fhir-cds-hooks.md) read each feature's FHIR source from here:
//! the bindings live in the models, and nothing outside them holds a code list.

use serde::Serialize;

use crate::catalog::{Catalog, ModelInfo, ServedModel};
use crate::http::Response;

#[derive(Serialize)]
struct Cards<'c> {
    /// The default model first.
    models: Vec<&'c ModelInfo>,
}

/// Every model's card, the default first.
pub fn model_cards(catalog: &Catalog) -> Response {
    let cards = Cards {
        models: catalog.models().iter().map(ServedModel::info).collect(),
    };
    json(&cards)
}

/// One model's card.
pub fn model_card(model: ServedModel<'_>) -> Response {
    json(model.info())
}

/// Our cards hold only strings, finite numbers, booleans and lists, which serde_json always
/// serialises; the fallback is unreachable.
fn json(body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    Response::new(200, "application/json", bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body(response: &Response) -> Value {
        assert_eq!(response.status, 200);
        serde_json::from_slice(&response.body).expect("JSON")
    }

    #[test]
    fn every_model_has_a_card_with_its_features_and_their_fhir_sources() {
        let catalog = Catalog::linked();
        let cards = body(&model_cards(&catalog));
        let models = cards["models"].as_array().expect("a list");
        assert_eq!(models.len(), catalog.models().len());
        for (card, model) in models.iter().zip(catalog.models()) {
            let info = model.info();
            assert_eq!(card["name"], info.name.as_ref());
            assert_eq!(card["version"], info.version.as_ref());
            let features = card["features"].as_array().expect("features");
            assert_eq!(features.len(), info.features.len());
            for (json, feature) in features.iter().zip(info.features.iter()) {
                assert_eq!(json["name"], feature.name.as_ref());
                assert_eq!(json["required"], feature.required);
                // The FHIR source reads back as the model declared it.
                let read: Option<fhir_record::FhirSource> =
                    serde_json::from_value(json["fhir"].clone()).expect("a FHIR source or null");
                assert_eq!(read, feature.fhir);
            }
        }
    }

    #[test]
    fn a_number_shows_its_unit_and_range_and_a_source_its_binding() {
        let catalog = Catalog::linked();
        let model = catalog.default_model();
        let card = body(&model_card(model));
        let numbers: Vec<&Value> = card["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter(|f| f["kind"]["type"] == "number")
            .collect();
        assert!(!numbers.is_empty());
        for number in numbers {
            assert!(number["kind"]["unit"].is_string(), "{number}");
            let range = number["kind"]["range"].as_array().expect("a range");
            assert!(range[0].as_f64() < range[1].as_f64());
        }
        let sources: Vec<&str> = card["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter_map(|f| f["fhir"]["source"].as_str())
            .collect();
        assert!(sources.contains(&"observation"), "{sources:?}");
        assert_eq!(card["outputs"][0]["kind"], "probability");
    }
}
