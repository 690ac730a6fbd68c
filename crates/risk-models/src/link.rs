//! How a linear predictor becomes a risk.

/// The link between a model's linear predictor and the risk of its outcome. Risk rises strictly
/// with the linear predictor under both links, which the category confidence relies on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Link {
    /// Cox model: `risk = 1 − S0 ^ exp(lp − mean)`.
    Cox { baseline_survival: f64, mean: f64 },
    /// Logistic model: `risk = exp(lp) / (1 + exp(lp))`.
    Logistic,
}

impl Link {
    pub fn risk(self, linear_predictor: f64) -> f64 {
        match self {
            Link::Cox {
                baseline_survival,
                mean,
            } => {
                // 1 − S0^h computed as −expm1(h · ln S0): exact for small risks.
                let hazard_ratio = (linear_predictor - mean).exp();
                -(hazard_ratio * baseline_survival.ln()).exp_m1()
            }
            Link::Logistic => {
                if linear_predictor >= 0.0 {
                    1.0 / (1.0 + (-linear_predictor).exp())
                } else {
                    let e = linear_predictor.exp();
                    e / (1.0 + e)
                }
            }
        }
    }

    /// The linear predictor at which the risk equals `risk` (0 < risk < 1).
    pub fn linear_predictor_for(self, risk: f64) -> f64 {
        match self {
            Link::Cox {
                baseline_survival,
                mean,
            } => mean + ((-risk).ln_1p() / baseline_survival.ln()).ln(),
            Link::Logistic => (risk / (1.0 - risk)).ln(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_link_inverts_its_risk() {
        let links = [
            Link::Cox {
                baseline_survival: 0.9144,
                mean: 61.18,
            },
            Link::Logistic,
        ];
        for link in links {
            for risk in [0.001, 0.05, 0.075, 0.2, 0.9] {
                let lp = link.linear_predictor_for(risk);
                assert!((link.risk(lp) - risk).abs() < 1e-12, "{link:?} {risk}");
            }
        }
    }

    #[test]
    fn logistic_risk_stays_finite_at_extremes() {
        assert_eq!(Link::Logistic.risk(-1000.0), 0.0);
        assert_eq!(Link::Logistic.risk(1000.0), 1.0);
    }
}
