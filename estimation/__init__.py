"""The ``estimation`` package.

The public API is re-exported lazily (PEP 562): importing ``estimation`` or
``estimation.errors`` does not import pandas, DuckDB or scikit-learn; the first use of a
name imports the module that defines it. Add a public name by adding it to ``_LAZY``.
"""

from __future__ import annotations

from tiltak_base.lazy import lazy_exports

# public name -> module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "EstimationError": "errors",
    "MatchedSample": "matched",
    "PropensityScore": "propensity",
    "NearestNeighborMatching": "matching",
    "DesignMatrix": "design",
    "design_matrix": "design",
    "MissingValuesError": "design",
    "InvalidParameterError": "parameters",
    "InvalidInputError": "parameters",
    "NotFittedError": "parameters",
    "Parameters": "parameters",
    "clone": "parameters",
    "SummaryMethods": "summary",
    "NearestSettings": "nearest_settings",
    "NoMatchesError": "matching",
    "MatchingWarning": "matching",
    "PropensityWarning": "glm",
    "matching_weights": "matching",
    "RiskSetMatching": "riskset",
    "balance_table": "balance",
    "BalanceTable": "balance",
    "Summary": "summary",
    "estimate_att": "effects",
    "estimate_effect": "effects",
    "EffectEstimate": "effects",
    "SensitivityResult": "sensitivity",
    "rosenbaum_binary": "sensitivity",
    "rosenbaum_binary_counts": "sensitivity",
    "rosenbaum_wilcoxon": "sensitivity",
    "rosenbaum_wilcoxon_differences": "sensitivity",
    "rosenbaum_bounds": "sensitivity",
    "rosenbaum_mstatistic": "mstatistic",
    "rosenbaum_mstatistic_sets": "mstatistic",
    "att_interactions": "gcomputation",
    "estimate_att_interactions": "gcomputation",
    "EValue": "sensitivity",
    "e_value": "sensitivity",
    "MinimumDetectableEffect": "power",
    "minimum_detectable_effect": "power",
    "aalen_johansen": "incidence",
    "CumulativeIncidence": "incidence",
    "incidence_effect": "incidence_effects",
    "cif_difference": "incidence_effects",
    "IncidenceEffect": "incidence_effects",
    "calibrate_weights": "calibration",
    "CalibratedWeights": "calibration",
    "censoring_weights": "censoring",
    "CensoringWeights": "censoring",
    "love_plot_svg": "plots",
    "overlap_plot_svg": "plots",
    "OptimalMatching": "optimal",
    "FullMatching": "optimal",
    "SetMatchingWarning": "setmatch",
    "InfeasibleMatchingError": "flow",
    "ProblemTooLargeError": "flow",
    "Subclassification": "subclassification",
    "SubclassificationWarning": "subclassification",
    "CoarsenedExactMatching": "cem",
    "PropensityWeighting": "weighting",
    "EntropyBalancing": "ebal",
    "BalanceInfeasibleError": "ebal",
    "subclass_weights": "strata",
    "estimate_weighted": "mestimation",
    "describe_estimand": "estimands",
    "describe_method": "estimands",
    "example_data": "datasets",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
