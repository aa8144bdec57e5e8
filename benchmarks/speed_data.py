"""The benchmark data of issue 14: n units, 19 covariates (12 continuous, 6 binary, one
factor with 10 levels), about 20 % treated, an outcome with a true ATT of 0.5.

Deterministic: the same n and seed give the same frame, byte for byte, so that the CSV
and Parquet files written from it are the same on every machine. Generated in blocks of
a million rows (each block from its own seed), so that 10 million rows need little memory
beyond the frame itself.

    python benchmarks/speed_data.py 1000000 --csv data.csv --parquet data.parquet
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

CONTINUOUS = [f"c{i:02d}" for i in range(1, 13)]
BINARY = [f"b{i}" for i in range(1, 7)]
FACTOR = "region"
COVARIATES = [*CONTINUOUS, *BINARY, FACTOR]
LEVELS = [f"r{i:02d}" for i in range(10)]
BLOCK = 1_000_000


def _block(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(CONTINUOUS):  # normal, gamma and uniform columns, 6 decimals
        if j % 3 == 0:
            x = rng.normal(0.0, 1.0 + j / 6, size=n)
        elif j % 3 == 1:
            x = rng.gamma(2.0 + j / 4, 1.5, size=n)
        else:
            x = rng.uniform(-2.0, 3.0, size=n)
        cols[name] = np.round(x, 6)
    for j, name in enumerate(BINARY):
        cols[name] = (rng.random(n) < 0.15 + 0.1 * j).astype(np.int8)
    region = rng.choice(len(LEVELS), size=n, p=np.linspace(2, 1, len(LEVELS)) / 15)
    lp = -1.9 + 0.25 * cols["c01"] - 0.1 * cols["c02"] + 0.2 * cols["c03"] + 0.15 * cols["c04"]
    lp += 0.3 * cols["b1"] - 0.25 * cols["b3"] + 0.2 * cols["b6"] + 0.05 * region
    treat = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(np.int8)
    y = 0.5 * treat + 0.3 * cols["c01"] - 0.2 * cols["b2"] + 0.1 * region + rng.normal(size=n)
    return {"treat": treat, **cols, FACTOR: region, "y": np.round(y, 6)}


def make_data(n: int, seed: int = 14) -> pd.DataFrame:
    """The frame: treat (0/1), c01..c12, b1..b6 (0/1), region (text), y."""
    blocks = [_block(min(BLOCK, n - start), seed * 1000 + k)
              for k, start in enumerate(range(0, n, BLOCK))]
    columns = {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}
    codes = columns.pop(FACTOR)
    frame = pd.DataFrame(columns)
    frame.insert(len(CONTINUOUS) + len(BINARY) + 1, FACTOR,
                 pd.Categorical.from_codes(codes, categories=LEVELS))
    return frame


def write_files(frame: pd.DataFrame, csv: Path | None, parquet: Path | None) -> None:
    """Write the frame as CSV (pyarrow's writer: full precision, the same bytes every time)
    and as Parquet."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(table.schema.get_field_index(FACTOR), FACTOR,
                             table.column(FACTOR).cast(pa.string()))
    if csv is not None:
        pacsv.write_csv(table, csv, pacsv.WriteOptions(quoting_style="none"))
    if parquet is not None:
        pq.write_table(table, parquet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=lambda s: int(float(s)))
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--parquet", type=Path)
    args = parser.parse_args()
    write_files(make_data(args.n, args.seed), args.csv, args.parquet)


if __name__ == "__main__":
    main()
