//! Reads a FHIR R4 patient record and picks the values of a model's features from it, following
//! the bindings the model declares (contract 4.0.0, docs/design/fhir-cds-hooks.md, "Reading a
//! record").
//!
//! - [`FhirSource`] and its parts: what a model declares per feature (codes, units, windows);
//! - [`Date`]: calendar days and the FHIR date forms;
//! - [`Record`]: one patient's record, from a Bundle, a Parameters or prefetched resources;
//! - [`pick`]: one feature's value by the rules, with the resources it came from;
//! - [`search_query`]: the FHIR search (CDS Hooks prefetch template) a binding needs;
//! - [`rust_expression`]: a binding as Rust source, for build scripts that compile it in;
//! - [`risk_assessment`] and [`operation_outcome`]: the FHIR resources the service writes.
//!
//! No WebAssembly, HTTP, Spin or async dependency, and no code list of its own: every code
//! comes from a binding, so a model gets FHIR support by declaring bindings, and nothing here
//! changes. The resources are read through lenient structs holding only the members read, so
//! that the crate stays small inside a WebAssembly component.
//!
//! Choices the issue leaves open, made on the side of refusing rather than guessing:
//!
//! - a `dateTime` is on the calendar day written in it, not its UTC day; values are ordered by
//!   the instant, offsets applied ([`Date`]);
//! - a partial date (`1980`, `1980-07`) is no birth date and no effective date: age is refused,
//!   and such a result counts as undated;
//! - equal effective times are ordered by `issued`, then by reference, never by the record;
//! - a quantity with a `comparator` (`< 20`) is refused as no value;
//! - a race extension without any OMB category (asked but unknown) is refused, while a record
//!   without the extension takes the binding's `otherwise`;
//! - a medication referenced but absent from the record makes a "no" a refusal, not a false;
//! - a resource read with a member of the wrong JSON type refuses the whole record.

mod binding;
mod date;
mod pick;
mod query;
mod record;
mod resources;
mod resources_out;
mod rust_source;

pub use binding::{
    Answer, ChoiceMap, CodedBinding, CodingMatch, FhirSource, List, ObservationBinding, Text,
    UnitBinding,
};
pub use date::{Date, Precision};
pub use pick::{pick, Basis, PickProblem, Picked};
pub use query::search_query;
pub use record::{Record, RecordError};
pub use resources_out::{
    operation_outcome, risk_assessment, Assessment, Category, Method, Outcome, Refusal,
    CATEGORY_SYSTEM, MODEL_SYSTEM, OUTPUT_SYSTEM,
};
pub use rust_source::rust_expression;
