//! What a client's value is, independent of any field or model: its kind, and the units a number
//! may be given in.

/// The type of a value, as a client sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Number,
    Boolean,
    /// One of a set of strings.
    Choice,
}

/// A unit a number may be given in other than its canonical one: canonical = value × factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitConversion {
    /// The unit's symbol as clients write it, e.g. `mmol/L`.
    pub unit: &'static str,
    pub factor: f64,
}
