//! Warnings a prediction carries: facts about how the input was interpreted that a clinician
//! must see next to the number.

use std::fmt;

use crate::field::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// pce-2013 got no race: the white equations were used, as the guideline advises.
    RaceAbsentWhiteEquationsUsed,
    /// pce-2013 got race "other": the white equations were used, as the guideline advises.
    RaceOtherWhiteEquationsUsed,
    /// A field the model does not use was given and ignored.
    FieldNotUsed { field: Field, model: &'static str },
}

impl Warning {
    /// Stable machine code for the warning.
    pub fn code(self) -> &'static str {
        match self {
            Warning::RaceAbsentWhiteEquationsUsed => "race_absent_white_equations_used",
            Warning::RaceOtherWhiteEquationsUsed => "race_other_white_equations_used",
            Warning::FieldNotUsed { .. } => "field_not_used",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::RaceAbsentWhiteEquationsUsed => f.write_str(
                "race was not given: the equations for white patients were used, as the 2013 \
                 ACC/AHA guideline advises; risk may be misestimated for other groups",
            ),
            Warning::RaceOtherWhiteEquationsUsed => f.write_str(
                "the Pooled Cohort Equations exist only for white and African-American patients: \
                 the equations for white patients were used, as the 2013 ACC/AHA guideline \
                 advises; risk may be misestimated",
            ),
            Warning::FieldNotUsed { field, model } => {
                write!(f, "{} is not used by {model} and was ignored", field.name())
            }
        }
    }
}
