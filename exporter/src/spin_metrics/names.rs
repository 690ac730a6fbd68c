//! Spin's metric and attribute names in Prometheus spelling, by the OpenTelemetry-to-Prometheus
//! compatibility rules: `spin.request_count` → `spin_request_count_total`, unit `By` → suffix
//! `_bytes`, attribute `k8s.pod.name` → label `k8s_pod_name`.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prometheus_client::registry::Unit;

/// Longest label value kept; longer ones are cut (at a character boundary).
const MAX_LABEL_VALUE: usize = 128;

/// The label of an overflow series (OpenTelemetry's overflow attribute, in Prometheus form); an
/// attribute that would spell it is dropped, so no real series can look like the overflow one.
pub const OVERFLOW_LABEL: (&str, &str) = ("otel_metric_overflow", "true");

/// OpenTelemetry instrument name syntax (which also makes the name safe to quote in help text).
pub fn is_instrument_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 255
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
}

/// OpenTelemetry name to Prometheus name: invalid characters become `_`, runs of `_` collapse.
pub fn prometheus_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == ':' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// The names a family is known by: `base` as registered (prometheus-client adds the unit and,
/// for counters, `_total`), and `exposed`, the base with its unit, which must be unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyNames {
    /// The name given to the encoder.
    pub base: String,
    /// The base with its unit suffix: the key that tells families apart.
    pub exposed: String,
}

/// The Prometheus names of an OpenTelemetry metric: suffixes the sender already wrote (`_total`
/// on a counter, the unit) are not doubled.
pub fn family_names(otel_name: &str, is_counter: bool, unit: Option<&Unit>) -> FamilyNames {
    let mut base = prometheus_name(otel_name);
    if is_counter {
        if let Some(stripped) = base.strip_suffix("_total") {
            base = stripped.to_owned();
        }
    }
    if let Some(unit) = unit {
        if let Some(stripped) = base.strip_suffix(&format!("_{}", unit.as_str())) {
            base = stripped.to_owned();
        }
    }
    let exposed = match unit {
        Some(unit) => format!("{base}_{}", unit.as_str()),
        None => base.clone(),
    };
    FamilyNames { base, exposed }
}

/// OpenTelemetry attribute key to Prometheus label name.
pub fn label_name(key: &str) -> Option<String> {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out == OVERFLOW_LABEL.0 {
        return None;
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out == "le" || out == "quantile" {
        out.insert_str(0, "key_");
    } else if out.starts_with("__") {
        out.insert_str(0, "key");
    }
    Some(out)
}

/// An attribute value as label text; arrays, maps and bytes have no faithful short form.
pub fn label_value(value: &Value) -> Option<String> {
    let mut text = match value {
        Value::StringValue(s) => s.clone(),
        Value::BoolValue(b) => b.to_string(),
        Value::IntValue(i) => i.to_string(),
        Value::DoubleValue(d) => d.to_string(),
        _ => return None,
    };
    if text.len() > MAX_LABEL_VALUE {
        let mut end = MAX_LABEL_VALUE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Some(text)
}

/// The Prometheus unit of an OpenTelemetry (UCUM) unit; dimensionless and annotations have none.
pub fn unit_of(unit: &str) -> Option<Unit> {
    match unit {
        "" | "1" => None,
        "By" => Some(Unit::Bytes),
        "s" => Some(Unit::Seconds),
        "ms" => Some(Unit::Other("milliseconds".to_owned())),
        "us" => Some(Unit::Other("microseconds".to_owned())),
        "ns" => Some(Unit::Other("nanoseconds".to_owned())),
        "%" => Some(Unit::Other("percent".to_owned())),
        u if u.starts_with('{') => None,
        u if u.len() <= 32 && u.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(Unit::Other(u.to_ascii_lowercase()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and label keys follow the OpenTelemetry-to-Prometheus rules.
    #[test]
    fn names_are_sanitised() {
        assert_eq!(prometheus_name("spin.request_count"), "spin_request_count");
        assert_eq!(prometheus_name("spin..odd-name/x"), "spin_odd_name_x");
        assert_eq!(label_name("component_id").as_deref(), Some("component_id"));
        assert_eq!(label_name("k8s.pod.name").as_deref(), Some("k8s_pod_name"));
        assert_eq!(label_name("1st").as_deref(), Some("key_1st"));
        assert_eq!(label_name("__x").as_deref(), Some("key__x"));
        assert_eq!(label_name("le").as_deref(), Some("key_le"));
        assert_eq!(label_name("otel.metric.overflow"), None);
        assert_eq!(label_name(""), None);
        assert!(is_instrument_name("spin.component_memory_used"));
        assert!(!is_instrument_name("spin.bad\nname"));
        assert!(!is_instrument_name(".spin"));
    }

    /// Units become suffixes; annotations and dimensionless units do not.
    #[test]
    fn units_map_to_suffixes() {
        assert_eq!(unit_of("By"), Some(Unit::Bytes));
        assert_eq!(unit_of("s"), Some(Unit::Seconds));
        assert_eq!(unit_of("1"), None);
        assert_eq!(unit_of("{request}"), None);
        assert_eq!(unit_of("a b"), None);
    }

    /// Suffixes the sender wrote are not doubled.
    #[test]
    fn family_names_do_not_double_suffixes() {
        let bytes = Some(Unit::Bytes);
        let names = family_names("spin.component_memory_used_bytes", false, bytes.as_ref());
        assert_eq!(names.base, "spin_component_memory_used");
        assert_eq!(names.exposed, "spin_component_memory_used_bytes");
        let names = family_names("spin.requests_total", true, None);
        assert_eq!(names.base, "spin_requests");
        assert_eq!(names.exposed, "spin_requests");
    }
}
