"""Rebuild the matched samples of the R golden files as estimation.MatchedSample objects.

Used by the balance, effect and sensitivity tests; needs no R (make_golden.R wrote the CSVs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from estimation.matched import MatchedSample

HERE = Path(__file__).parent
LALONDE_COVARIATES = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
SYNTHETIC_COVARIATES = ["x1", "x2", "grp", "flag", "const", "small"]
SCENARIOS = {
    "lalonde_nn1": ("lalonde", LALONDE_COVARIATES, "re78"),
    "lalonde_nn2_replace": ("lalonde", LALONDE_COVARIATES, "re78"),
    "lalonde_nn1_caliper": ("lalonde", LALONDE_COVARIATES, "re78"),
    "lalonde_nn3_exact": ("lalonde", LALONDE_COVARIATES, "re78"),
    "synthetic_nn2": ("synthetic", SYNTHETIC_COVARIATES, "y"),
}


def data(name: str) -> pd.DataFrame:
    frame = pd.read_csv(HERE / f"{name}.csv")
    if name == "lalonde":
        frame["race"] = pd.Categorical(frame["race"], categories=["black", "hispan", "white"])
    return frame


def sample(scenario: str) -> tuple[MatchedSample, pd.DataFrame]:
    """The golden matched sample and its full data frame (covariates and outcome)."""
    data_name, covariates, _ = SCENARIOS[scenario]
    frame = data(data_name)
    units = pd.read_csv(HERE / f"{scenario}_units.csv").sort_values("row")
    mm = pd.read_csv(HERE / f"{scenario}_match_matrix.csv").sort_values("treated_row")
    matrix = mm.drop(columns="treated_row").to_numpy(dtype=np.int64)
    result = MatchedSample(
        treat=units["treat"].to_numpy() == 1,
        distance=units["distance"].to_numpy(dtype=float),
        weights=units["weights"].to_numpy(dtype=float),
        subclass=units["subclass"].to_numpy(dtype=np.int64),
        match_matrix=matrix,
        discarded=units["discarded"].to_numpy() == 1,
        covariates=frame[covariates],
        settings={"replace": "replace" in scenario},
    )
    return result, frame


def summary_part(scenario: str, part: str) -> pd.DataFrame:
    """R's summary() table ('sum_all' or 'sum_matched') indexed by term."""
    return pd.read_csv(HERE / f"{scenario}_{part}.csv").set_index("term")


def sample_sizes(scenario: str) -> pd.DataFrame:
    return pd.read_csv(HERE / f"{scenario}_nn.csv").set_index("row")


def effects(scenario: str) -> pd.DataFrame:
    return pd.read_csv(HERE / f"{scenario}_effects.csv").set_index("quantity")
