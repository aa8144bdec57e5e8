"""causalml's NearestNeighborMatch on the benchmark data (same task as tiltak's benchmark).

Usage: python causalml_bench.py FILE.parquet   -> last line: {"seconds": ...}
Propensity score: scikit-learn's logistic regression (no penalty) on one-hot covariates;
1:1 matching without replacement with a 0.2 SD caliper; balance with create_table_one;
ATT as the difference in means (causalml reports no matching standard error).
"""

import json
import sys
import time

import pandas as pd
from causalml.match import NearestNeighborMatch, create_table_one
from sklearn.linear_model import LogisticRegression

COVS = ["age", "sex", "household", "nationality", "dublin", "identity_documented",
        "months_since_decision", "health_issue"]

start = time.perf_counter()
data = pd.read_parquet(sys.argv[1])
X = pd.get_dummies(data[COVS], drop_first=True).astype(float)
model = LogisticRegression(C=1e12, max_iter=1000).fit(X, data["treat"])
data["ps"] = model.predict_proba(X)[:, 1]
matcher = NearestNeighborMatch(caliper=0.2, replace=False, ratio=1, random_state=1)
matched = matcher.match(data=data, treatment_col="treat", score_cols=["ps"])
table = create_table_one(matched, "treat", ["age", "months_since_decision"])
att = matched.loc[matched.treat == 1, "y"].mean() - matched.loc[matched.treat == 0, "y"].mean()
print(json.dumps({"seconds": time.perf_counter() - start, "att": float(att)}))
