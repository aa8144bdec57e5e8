"""DoWhy's propensity score matching on the benchmark data.

Usage: python dowhy_bench.py FILE.parquet   -> last line: {"seconds": ...}
backdoor.propensity_score_matching (scikit-learn logistic score, nearest neighbour with
replacement; DoWhy has no caliper or no-replacement option), target unit ATT.
"""

import json
import sys
import time

import pandas as pd
from dowhy import CausalModel

COVS = ["age", "sex", "household", "nationality", "dublin", "identity_documented",
        "months_since_decision", "health_issue"]

start = time.perf_counter()
data = pd.read_parquet(sys.argv[1])
data = pd.get_dummies(data, columns=["sex", "household", "nationality"], drop_first=True)
data["treat"] = data["treat"].astype(bool)
covs = [c for c in data.columns if c not in ("treat", "y")]
model = CausalModel(data=data, treatment="treat", outcome="y", common_causes=covs)
estimand = model.identify_effect(proceed_when_unidentifiable=True)
estimate = model.estimate_effect(estimand, method_name="backdoor.propensity_score_matching",
                                 target_units="att")
print(json.dumps({"seconds": time.perf_counter() - start, "att": float(estimate.value)}))
