//! Guideline risk categories.

/// The four primary-prevention categories of the ACC/AHA guidelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskCategory {
    Low,
    Borderline,
    Intermediate,
    High,
}

impl RiskCategory {
    pub const ALL: [RiskCategory; 4] = [
        RiskCategory::Low,
        RiskCategory::Borderline,
        RiskCategory::Intermediate,
        RiskCategory::High,
    ];

    /// Machine name: `low`, `borderline`, `intermediate`, `high`.
    pub fn name(self) -> &'static str {
        match self {
            RiskCategory::Low => "low",
            RiskCategory::Borderline => "borderline",
            RiskCategory::Intermediate => "intermediate",
            RiskCategory::High => "high",
        }
    }

    /// Human label, kept in the original service's `prediction` style ("High Risk").
    pub fn label(self) -> &'static str {
        match self {
            RiskCategory::Low => "Low Risk",
            RiskCategory::Borderline => "Borderline Risk",
            RiskCategory::Intermediate => "Intermediate Risk",
            RiskCategory::High => "High Risk",
        }
    }
}

/// Lower bounds (as risk fractions) of the borderline, intermediate and high categories.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryThresholds {
    pub borderline: f64,
    pub intermediate: f64,
    pub high: f64,
}

/// 2013 ACC/AHA (and 2018/2019 ACC/AHA) thresholds on 10-year risk:
/// low < 5 %, borderline 5 to < 7.5 %, intermediate 7.5 to < 20 %, high ≥ 20 %.
pub const ACC_AHA_10_YEAR: CategoryThresholds = CategoryThresholds {
    borderline: 0.05,
    intermediate: 0.075,
    high: 0.20,
};

impl CategoryThresholds {
    pub fn categorise(&self, risk: f64) -> RiskCategory {
        if risk >= self.high {
            RiskCategory::High
        } else if risk >= self.intermediate {
            RiskCategory::Intermediate
        } else if risk >= self.borderline {
            RiskCategory::Borderline
        } else {
            RiskCategory::Low
        }
    }

    /// The half-open risk interval `[lower, upper)` of a category.
    pub fn bounds(&self, category: RiskCategory) -> (f64, f64) {
        match category {
            RiskCategory::Low => (0.0, self.borderline),
            RiskCategory::Borderline => (self.borderline, self.intermediate),
            RiskCategory::Intermediate => (self.intermediate, self.high),
            RiskCategory::High => (self.high, 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_at_the_lower_bound() {
        let t = ACC_AHA_10_YEAR;
        assert_eq!(t.categorise(0.0499), RiskCategory::Low);
        assert_eq!(t.categorise(0.05), RiskCategory::Borderline);
        assert_eq!(t.categorise(0.0749), RiskCategory::Borderline);
        assert_eq!(t.categorise(0.075), RiskCategory::Intermediate);
        assert_eq!(t.categorise(0.1999), RiskCategory::Intermediate);
        assert_eq!(t.categorise(0.20), RiskCategory::High);
    }

    #[test]
    fn each_category_contains_the_risks_it_is_given_for() {
        for risk in [0.01, 0.06, 0.1, 0.5] {
            let category = ACC_AHA_10_YEAR.categorise(risk);
            let (lower, upper) = ACC_AHA_10_YEAR.bounds(category);
            assert!(lower <= risk && risk < upper);
        }
    }
}
