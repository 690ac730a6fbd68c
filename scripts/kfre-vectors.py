#!/usr/bin/env python3
"""Writes vectors.json: reference cases for the 4-variable Kidney Failure Risk Equation (KFRE).

The equation (Tangri N et al., JAMA 2011;305(15):1553-1559, development; Tangri N et al.,
JAMA 2016;315(2):164-174, North American and non-North American baseline survivals):

    x    = -0.2201 * (age/10 - 7.036) + 0.2467 * (male - 0.5642)
           - 0.5567 * (eGFR/5 - 7.222) + 0.4510 * (ln(ACR in mg/g) - 5.137)
    risk = 1 - S0 ** exp(x)

    S0        2 years   5 years
    North America   0.9750    0.9240
    elsewhere       0.9832    0.9365

Each case is computed twice, independently:

* ``risk_2y`` / ``risk_5y``: by the PyPI package ``kfre`` (Leonid Shpaner), which exposes the
  4-variable equation as ``kfre.kfre_person``. The version must be the one pinned below.
* ``formula_risk_2y`` / ``formula_risk_5y``: straight from the formula above, evaluated in
  50-digit decimal arithmetic from the exact inputs, then rounded once to the nearest double.
  This is the correctly rounded value of the published formula.

The script fails if the two disagree by more than ``AGREEMENT`` (absolute), or if ``kfre``
warns about any input (its out-of-range warning). It uses no randomness, no clock and no
network: running it again writes the same bytes.

ACR given in mg/mmol is converted to mg/g with the factor the model contract fixes
(``docs/design/model-contract.md``: ``mg/mmol x 8.84``); ``acr_mg_per_g`` is the value, as a
double, that both computations used.

Run it with a Python that has the pinned ``kfre`` (not the project's venv):

    python3 -m venv /tmp/kfre-venv && /tmp/kfre-venv/bin/pip install kfre==0.1.18
    /tmp/kfre-venv/bin/python scripts/kfre-vectors.py
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from decimal import Decimal, getcontext
from pathlib import Path

import numpy

import kfre
from kfre import kfre_person

KFRE_VERSION = "0.1.18"
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "kfre" / "vectors.json"
AGREEMENT = 1e-13  # absolute, between the package and the correctly rounded formula

ACR_MG_G_PER_MG_MMOL = 8.84

COEFFICIENTS = {"age_per_10y": -0.2201, "male": 0.2467, "egfr_per_5": -0.5567, "ln_acr": 0.4510}
CENTRES = {"age_over_10": 7.036, "male": 0.5642, "egfr_over_5": 7.222, "ln_acr": 5.137}
BASELINE_SURVIVAL = {
    "north_american": {"2": 0.9750, "5": 0.9240},
    "non_north_american": {"2": 0.9832, "5": 0.9365},
}

NA, NNA = "north_american", "non_north_american"
CENTRE_ACR = math.exp(5.137)  # the ACR whose natural log is the centring value

# (id, description, age, sex, egfr, acr, acr_unit, region)
CASES = [
    # The centring values: x = 0.2467 * (male - 0.5642) exactly (up to rounding of the inputs).
    ("centre-male-na", "centring values, male", 70.36, "male", 36.11, CENTRE_ACR, "mg/g", NA),
    ("centre-female-na", "centring values, female", 70.36, "female", 36.11, CENTRE_ACR, "mg/g", NA),
    ("centre-male-nna", "centring values, male", 70.36, "male", 36.11, CENTRE_ACR, "mg/g", NNA),
    ("centre-female-nna", "centring values, female", 70.36, "female", 36.11, CENTRE_ACR, "mg/g", NNA),
    # kfre's own published example (README: 44.66% and 89.89%).
    ("kfre-readme", "the kfre README example", 57.28, "female", 15.0, 1762.00184, "mg/g", NNA),
    # Typical patients across CKD G3a-G5 and albuminuria A1-A3.
    ("g3a-a1-f-na", "G3a, A1", 63, "female", 45, 30, "mg/g", NA),
    ("g3b-a2-m-na", "G3b, A2", 55, "male", 38, 150, "mg/g", NA),
    ("g3a-a1-m-nna", "G3a, A1", 72, "male", 52, 12, "mg/g", NNA),
    ("g3a-a2-f-nna", "G3a, A2", 66, "female", 48, 80, "mg/g", NNA),
    ("g3b-a3-m-na", "G3b, A3", 58, "male", 33, 600, "mg/g", NA),
    ("g3b-a1-f-nna", "G3b, A1", 81, "female", 40, 8, "mg/g", NNA),
    ("g4-a2-f-na", "G4, A2", 74, "female", 25, 250, "mg/g", NA),
    ("g4-a3-m-nna", "G4, A3", 61, "male", 22, 1200, "mg/g", NNA),
    ("g4-a3-f-na", "G4, A3", 45, "female", 18, 2500, "mg/g", NA),
    ("g4-a1-m-nna", "G4, A1", 85, "male", 28, 20, "mg/g", NNA),
    ("g5-a3-m-na", "G5, A3", 52, "male", 12, 3000, "mg/g", NA),
    ("g5-a2-f-nna", "G5, A2", 77, "female", 13, 200, "mg/g", NNA),
    ("young-g3b-a3-m-na", "young adult, G3b, A3", 29, "male", 35, 900, "mg/g", NA),
    ("young-g4-a3-f-nna", "young adult, G4, A3", 34, "female", 20, 1500, "mg/g", NNA),
    ("old-g3a-a1-f-na", "old age, G3a, A1", 92, "female", 55, 5, "mg/g", NA),
    ("non-integer-inputs-m-nna", "non-integer inputs", 67.5, "male", 29.4, 345.6, "mg/g", NNA),
    # Boundaries of the recommended validated ranges (age 18-100, eGFR 10-59, ACR 1-25000 mg/g).
    ("age-18-m-na", "lowest age", 18, "male", 40, 100, "mg/g", NA),
    ("age-18-f-nna", "lowest age", 18, "female", 25, 1000, "mg/g", NNA),
    ("age-100-f-na", "highest age", 100, "female", 30, 50, "mg/g", NA),
    ("age-100-m-nna", "highest age", 100, "male", 15, 500, "mg/g", NNA),
    ("egfr-10-f-na", "lowest eGFR", 60, "female", 10, 300, "mg/g", NA),
    ("egfr-10-m-nna", "lowest eGFR", 75, "male", 10, 50, "mg/g", NNA),
    ("egfr-59-m-na", "highest eGFR", 50, "male", 59, 300, "mg/g", NA),
    ("egfr-59-f-nna", "highest eGFR", 68, "female", 59, 10, "mg/g", NNA),
    ("acr-1-f-na", "lowest ACR", 70, "female", 45, 1, "mg/g", NA),
    ("acr-25000-m-nna", "highest ACR", 50, "male", 30, 25000, "mg/g", NNA),
    ("min-risk-f-nna", "every input at its lowest-risk bound", 100, "female", 59, 1, "mg/g", NNA),
    ("max-risk-m-na", "every input at its highest-risk bound: the 5-year risk rounds to 1.0",
     18, "male", 10, 25000, "mg/g", NA),
    # ACR in mg/mmol (UK and much of Europe), converted with the contract's factor 8.84.
    ("mmol-3-f-nna", "ACR 3 mg/mmol (the A1/A2 boundary)", 70, "female", 42, 3, "mg/mmol", NNA),
    ("mmol-30-m-nna", "ACR 30 mg/mmol (the A2/A3 boundary)", 64, "male", 31, 30, "mg/mmol", NNA),
    ("mmol-70-m-nna", "ACR 70 mg/mmol", 59, "male", 24, 70, "mg/mmol", NNA),
    ("mmol-0.5-f-nna", "ACR 0.5 mg/mmol", 79, "female", 50, 0.5, "mg/mmol", NNA),
    ("mmol-250-f-na", "ACR 250 mg/mmol", 47, "female", 16, 250, "mg/mmol", NA),
    ("mmol-12.7-m-na", "ACR 12.7 mg/mmol", 71, "male", 36, 12.7, "mg/mmol", NA),
]


def to_mg_per_g(acr: float, unit: str) -> float:
    if unit == "mg/g":
        return float(acr)
    if unit == "mg/mmol":
        return acr * ACR_MG_G_PER_MG_MMOL
    raise ValueError(unit)


def formula(age: float, male: int, egfr: float, acr_mg_g: float, s0: float) -> tuple[Decimal, Decimal]:
    """The published formula in 50-digit decimal arithmetic, from the exact double inputs."""
    D = Decimal
    c, m = COEFFICIENTS, CENTRES
    x = (
        D(repr(c["age_per_10y"])) * (D(age) / 10 - D(repr(m["age_over_10"])))
        + D(repr(c["male"])) * (D(male) - D(repr(m["male"])))
        + D(repr(c["egfr_per_5"])) * (D(egfr) / 5 - D(repr(m["egfr_over_5"])))
        + D(repr(c["ln_acr"])) * (D(acr_mg_g).ln() - D(repr(m["ln_acr"])))
    )
    risk = 1 - (x.exp() * D(repr(s0)).ln()).exp()
    return x, risk


def package(age: float, male: int, egfr: float, acr_mg_g: float, region: str, years: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an out-of-range warning from kfre is a failure here
        value = kfre_person(
            age=age,
            is_male=bool(male),
            eGFR=egfr,
            uACR=acr_mg_g,
            is_north_american=(region == NA),
            years=years,
        )
    return float(value)


def main() -> int:
    if kfre.__version__ != KFRE_VERSION:
        print(f"kfre {kfre.__version__} is installed; these vectors pin {KFRE_VERSION}", file=sys.stderr)
        return 1
    getcontext().prec = 50

    cases, worst = [], 0.0
    ids = set()
    for case_id, description, age, sex, egfr, acr, unit, region in CASES:
        assert case_id not in ids, case_id
        ids.add(case_id)
        male = 1 if sex == "male" else 0
        acr_mg_g = to_mg_per_g(acr, unit)
        entry = {
            "id": case_id,
            "description": description,
            "inputs": {
                "age": float(age),
                "sex": sex,
                "egfr": float(egfr),
                "acr": float(acr),
                "acr_unit": unit,
                "region": region,
            },
            "acr_mg_per_g": acr_mg_g,
        }
        for years in (2, 5):
            s0 = BASELINE_SURVIVAL[region][str(years)]
            x, exact = formula(float(age), male, float(egfr), acr_mg_g, s0)
            reference = float(exact)  # correctly rounded (via its decimal string)
            from_package = package(float(age), male, float(egfr), acr_mg_g, region, years)
            gap = abs(from_package - reference)
            worst = max(worst, gap)
            if gap > AGREEMENT:
                print(f"{case_id} {years}y: kfre {from_package!r} vs formula {reference!r}", file=sys.stderr)
                return 1
            entry["linear_predictor"] = float(x)
            entry[f"risk_{years}y"] = from_package
            entry[f"formula_risk_{years}y"] = reference
        cases.append(entry)

    document = {
        "model": "Kidney Failure Risk Equation, 4 variables",
        "sources": [
            "Tangri N, Stevens LA, Griffith J, et al. A predictive model for progression of chronic "
            "kidney disease to kidney failure. JAMA. 2011;305(15):1553-1559. doi:10.1001/jama.2011.451",
            "Tangri N, Grams ME, Levey AS, et al. Multinational assessment of accuracy of equations "
            "for predicting risk of kidney failure: a meta-analysis. JAMA. 2016;315(2):164-174. "
            "doi:10.1001/jama.2015.18202",
        ],
        "equation": "risk = 1 - S0^exp(x); x = -0.2201*(age/10 - 7.036) + 0.2467*(male - 0.5642) "
        "- 0.5567*(egfr/5 - 7.222) + 0.4510*(ln(acr_mg_per_g) - 5.137)",
        "coefficients": COEFFICIENTS,
        "centring_values": CENTRES,
        "baseline_survival": BASELINE_SURVIVAL,
        "acr_mg_per_g_per_mg_per_mmol": ACR_MG_G_PER_MG_MMOL,
        "generator": "scripts/kfre-vectors.py",
        "kfre_package_version": kfre.__version__,
        "numpy_version": numpy.__version__,
        "python_version": sys.version.split()[0],
        "fields": {
            "inputs": "what a client sends: age in years, sex, egfr in mL/min/1.73 m2, acr in acr_unit, region",
            "acr_mg_per_g": "the ACR in mg/g that both computations used (acr x 8.84 when acr_unit is mg/mmol)",
            "linear_predictor": "x, from the 50-digit computation, rounded to a double",
            "risk_2y, risk_5y": "probability (a fraction) from kfre.kfre_person, the package pinned above",
            "formula_risk_2y, formula_risk_5y": "the published formula in 50-digit arithmetic, correctly rounded",
        },
        "max_abs_difference_package_vs_formula": worst,
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}; largest package/formula gap {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
