//! The prediction API in process (its own router and models), and small hand-built records.

#![allow(dead_code)] // each test file uses its own part of these helpers

use std::cell::RefCell;
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clinical::auth::{ReplayStore, ReplayStoreError, TrustedIssuers};
use clinical::http::{Request, Response};
use clinical::{ApiAnswer, Context, FhirServer, PredictionApi, Unreachable};
use fhir_record::Date;
use serde_json::{json, Value};

pub const LOINC: &str = "http://loinc.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const ATC: &str = "http://www.whocc.no/atc";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const OMB: &str = "urn:oid:2.16.840.1.113883.6.238";
pub const US_CORE_RACE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";

/// The prediction API as the component reaches it under Spin, answered here by the API's own
/// router in process.
pub struct InProcessApi;

impl PredictionApi for InProcessApi {
    async fn get(&self, path: &str) -> Result<ApiAnswer, Unreachable> {
        Ok(answer(model_api::router::route(
            &model_api::http::Request::new("GET", path),
        )))
    }

    async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<ApiAnswer, Unreachable> {
        let request = model_api::http::Request::new("POST", path)
            .with_header("content-type", "application/json")
            .with_body(body);
        Ok(answer(model_api::router::route(&request)))
    }
}

impl InProcessApi {
    /// The name of the API's default model (`GET /models` lists it first).
    pub fn card_of_default() -> String {
        let response = model_api::router::route(&model_api::http::Request::new("GET", "/models"));
        let cards: Value = serde_json::from_slice(&response.body).expect("JSON");
        cards["models"][0]["name"]
            .as_str()
            .expect("a name")
            .to_owned()
    }
}

fn answer(response: model_api::http::Response) -> ApiAnswer {
    ApiAnswer {
        status: response.status,
        body: response.body,
    }
}

pub fn day(text: &str) -> Date {
    Date::parse(text).expect("a date")
}

/// `POST /fhir/RiskAssessment/$predict?<query>` with `body`, answered with "today" 2025-06-01.
pub fn post(query: &str, body: &[u8]) -> (u16, Value) {
    let request = Request::new("POST", &format!("/fhir/RiskAssessment/$predict?{query}"))
        .with_header("content-type", "application/fhir+json")
        .with_body(body);
    let response = call(&request);
    (
        response.status,
        serde_json::from_slice(&response.body).expect("JSON"),
    )
}

/// "Now" in every test: 2025-06-01T12:00:00Z.
pub const NOW: i64 = 1_748_779_200;

/// The issuer the tests trust, and the URL the service is called at.
pub const ISSUER: &str = "https://ehr.example.org";
pub const PUBLIC_URL: &str = "https://cds.example.org";

/// Answers `request` at [`NOW`], trusting [`ISSUER`]'s test keys, with a fresh replay store.
pub fn call(request: &Request) -> Response {
    call_with(request, &MemoryReplays::default())
}

pub fn call_with(request: &Request, replays: &MemoryReplays) -> Response {
    call_with_fhir(request, replays, None, &MemoryFhirServer::default())
}

/// The EHR FHIR server origin the fhirServer tests allow.
pub const FHIR_ORIGIN: &str = "https://ehr.example.org";

pub fn call_with_fhir(
    request: &Request,
    replays: &MemoryReplays,
    allowed: Option<&str>,
    fhir: &MemoryFhirServer,
) -> Response {
    let context = Context {
        now: NOW,
        trusted: &trusted_issuers,
        public_url: Some(PUBLIC_URL),
        replays,
        fhir_server: allowed,
        fhir,
    };
    futures::executor::block_on(clinical::handle(request, &InProcessApi, &context))
}

/// An EHR FHIR server in memory: the answer to each URL, and every read it was asked for.
#[derive(Default)]
pub struct MemoryFhirServer {
    pub answers: HashMap<String, Value>,
    pub reads: RefCell<Vec<(String, String)>>,
}

impl FhirServer for MemoryFhirServer {
    async fn read(&self, url: &str, access_token: &str) -> Result<ApiAnswer, Unreachable> {
        self.reads
            .borrow_mut()
            .push((url.to_owned(), access_token.to_owned()));
        Ok(match self.answers.get(url) {
            Some(resource) => ApiAnswer {
                status: 200,
                body: resource.to_string().into_bytes(),
            },
            None => ApiAnswer {
                status: 404,
                body: Vec::new(),
            },
        })
    }
}

/// A replay store in memory.
#[derive(Default)]
pub struct MemoryReplays(RefCell<HashMap<String, i64>>);

impl ReplayStore for MemoryReplays {
    fn first_use(&self, key: &str, expires: i64, now: i64) -> Result<bool, ReplayStoreError> {
        let mut seen = self.0.borrow_mut();
        if seen.get(key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        seen.insert(key.to_owned(), expires);
        Ok(true)
    }
}

/// The tests' signing keys (tests/data/test-signing-keys.json, made for these tests only).
pub fn signing_keys() -> Value {
    serde_json::from_str(include_str!("../data/test-signing-keys.json")).expect("JSON")
}

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// [`ISSUER`] with the public halves of the test keys.
pub fn trusted_issuers() -> TrustedIssuers {
    TrustedIssuers::from_json(&trusted_issuers_json()).expect("valid")
}

pub fn trusted_issuers_json() -> String {
    let keys = signing_keys();
    let (ec, rsa) = (&keys["es384"], &keys["rs384"]);
    json!({ISSUER: {"keys": [
        {"kty": "EC", "crv": "P-384", "kid": ec["kid"], "x": ec["x"], "y": ec["y"]},
        {"kty": "RSA", "kid": rsa["kid"], "n": rsa["n"], "e": rsa["e"]},
    ]}})
    .to_string()
}

/// A compact JWS of `header` and `claims`, signed as `header.alg` says with the test key of
/// that type (`none` and HMAC get an empty or a made-up signature).
pub fn token(header: &Value, claims: &Value) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let signing_input = format!("{}.{}", encode(header), encode(claims));
    let keys = signing_keys();
    let signature: Vec<u8> = match header["alg"].as_str() {
        Some("ES384") => {
            use p384::ecdsa::signature::Signer;
            let key =
                p384::ecdsa::SigningKey::from_slice(&b64(keys["es384"]["d"].as_str().unwrap()))
                    .unwrap();
            let signature: p384::ecdsa::Signature = key.sign(signing_input.as_bytes());
            signature.to_bytes().to_vec()
        }
        Some("RS384") => {
            use rsa::signature::{SignatureEncoding, Signer};
            let part = |name: &str| {
                rsa::BigUint::from_bytes_be(&b64(keys["rs384"][name].as_str().unwrap()))
            };
            let key = rsa::RsaPrivateKey::from_components(
                part("n"),
                part("e"),
                part("d"),
                vec![part("p"), part("q")],
            )
            .unwrap();
            let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha384>::new(key);
            signer.sign(signing_input.as_bytes()).to_vec()
        }
        Some("none") => Vec::new(),
        _ => vec![7; 48],
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Valid claims for a call to `path`, with `jti`.
pub fn claims(path: &str, jti: &str) -> Value {
    json!({"iss": ISSUER, "aud": format!("{PUBLIC_URL}{path}"), "exp": NOW + 300, "iat": NOW, "jti": jti})
}

pub fn es384_header() -> Value {
    json!({"alg": "ES384", "typ": "JWT", "kid": signing_keys()["es384"]["kid"]})
}

pub fn rs384_header() -> Value {
    json!({"alg": "RS384", "typ": "JWT", "kid": signing_keys()["rs384"]["kid"]})
}

/// `method path` with a valid ES384 token (a fresh jti each call) and `body` as JSON.
pub fn cds(method: &str, path: &str, body: Option<&Value>) -> Response {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let jti = format!(
        "jti-{}",
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut request = Request::new(method, path).with_header(
        "authorization",
        &format!("Bearer {}", token(&es384_header(), &claims(path, &jti))),
    );
    if let Some(body) = body {
        request = request
            .with_header("content-type", "application/json")
            .with_body(body.to_string());
    }
    call(&request)
}

/// `/predict`'s answer for `patient_data`, straight from the API.
pub fn predict(model: &str, patient_data: Value) -> Value {
    let body = json!({"model": model, "patient_data": patient_data});
    let request = model_api::http::Request::new("POST", "/predict")
        .with_header("content-type", "application/json")
        .with_body(body.to_string());
    let response = model_api::router::route(&request);
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    serde_json::from_slice(&response.body).expect("JSON")
}

pub fn patient(gender: &str, birth_date: &str, race: Option<&str>) -> Value {
    let mut patient =
        json!({"resourceType": "Patient", "id": "p1", "gender": gender, "birthDate": birth_date});
    if let Some(code) = race {
        patient["extension"] = json!([{
            "url": US_CORE_RACE,
            "extension": [{"url": "ombCategory", "valueCoding": {"system": OMB, "code": code}}]
        }]);
    }
    patient
}

/// A collection Bundle of `resources`.
pub fn bundle(resources: Vec<Value>) -> Vec<u8> {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
        .to_string()
        .into_bytes()
}

/// A final laboratory result or vital sign with a quantity.
pub fn result(id: &str, loinc: &str, effective: &str, value: f64, ucum: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "unit": ucum, "system": UCUM, "code": ucum}
    })
}

/// A blood-pressure panel (85354-9) with its systolic component.
pub fn bp_panel(id: &str, effective: &str, systolic: f64) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": effective,
        "component": [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                       "valueQuantity": {"value": systolic, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}]
    })
}

/// Smoking status (72166-2) as a SNOMED CT answer: 8517006 former, 77176002 current.
pub fn smoking(id: &str, effective: &str, snomed: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": effective,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": snomed}]}
    })
}

pub fn condition(id: &str, snomed: &str) -> Value {
    json!({
        "resourceType": "Condition", "id": id,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        "code": {"coding": [{"system": SNOMED, "code": snomed}]},
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2019-03-04"
    })
}

/// An active order of a medicine coded only by its ATC class.
pub fn medication_request(id: &str, atc: &str) -> Value {
    json!({
        "resourceType": "MedicationRequest", "id": id, "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": ATC, "code": atc}]},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2025-01-10"
    })
}

/// A complete record for the cardiovascular models: a 58-year-old woman.
pub fn cardiovascular_record() -> Vec<Value> {
    vec![
        patient("female", "1967-03-15", Some("2054-5")),
        result(
            "chol",
            "2093-3",
            "2025-05-02T09:30:00+02:00",
            231.0,
            "mg/dL",
        ),
        result("hdl", "2085-9", "2025-05-02T09:30:00+02:00", 48.0, "mg/dL"),
        result(
            "egfr",
            "98979-8",
            "2025-05-02T09:30:00+02:00",
            78.0,
            "mL/min/{1.73_m2}",
        ),
        bp_panel("bp", "2025-05-20T10:00:00+02:00", 142.0),
        smoking("smoke", "2025-05-20", "8517006"),
        condition("dm", "44054006"),
        medication_request("ace", "C09AA05"),
    ]
}
