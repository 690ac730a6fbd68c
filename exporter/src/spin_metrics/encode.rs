//! A re-exported series in the exposition: a counter or gauge of its total, or a histogram of
//! its count and sum alone. Spin's histograms use the SDK's default bounds (0 to 10 000), which
//! say nothing about bytes or seconds, so only the `+Inf` bucket is written.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

use super::cumulative::{CumulativeSeries, Kind};

impl Kind {
    /// The Prometheus metric type of a family of this kind.
    pub fn metric_type(self) -> MetricType {
        match self {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
            Kind::Histogram => MetricType::Histogram,
        }
    }

    /// The sample names a family of this kind exposes, to refuse families that would clash.
    pub fn sample_names(self, name: &str) -> Vec<String> {
        match self {
            Kind::Counter => vec![format!("{name}_total"), format!("{name}_created")],
            Kind::Gauge => vec![name.to_owned()],
            Kind::Histogram => vec![
                format!("{name}_bucket"),
                format!("{name}_sum"),
                format!("{name}_count"),
                format!("{name}_created"),
            ],
        }
    }
}

impl EncodeMetric for CumulativeSeries {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let totals = self.totals();
        match self.kind() {
            Kind::Counter => encoder.encode_counter::<NoLabelSet, _, f64>(&totals.primary, None),
            Kind::Gauge => encoder.encode_gauge(&totals.primary),
            Kind::Histogram => {
                let count = totals.primary as u64;
                encoder.encode_histogram::<NoLabelSet>(
                    totals.sum,
                    count,
                    &[(f64::INFINITY, count)],
                    None,
                )
            }
        }
    }

    fn metric_type(&self) -> MetricType {
        self.kind().metric_type()
    }
}
