"""Print how long the diagram renderers take (left to right; top to bottom at 460 and 920 px) and how many crossings the ordering removes.

Run from the repository root:  python benchmarks/bench_diagram.py
(Not a test: timings are printed, never asserted.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "diagram"))
sys.path.insert(0, str(ROOT))

from diagram_samples import random_layered, return_model  # noqa: E402

from logicmodel.diagram import to_dot, to_mermaid, to_svg  # noqa: E402
from logicmodel.diagram.layering import layer  # noqa: E402
from logicmodel.diagram.ordering import _initial_order, count_crossings, neighbours, order  # noqa: E402
from logicmodel.diagram.reading import read_graph  # noqa: E402


def best_of(function, graph, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(graph)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    graphs = [("return model", return_model(True, True))]
    graphs += [(f"random {n}", random_layered(n, 1)) for n in (40, 200, 500, 1000)]
    print(f"{'graph':<14}{'nodes':>6}{'edges':>6}{'svg ms':>9}{'tb460 ms':>9}{'tb920 ms':>9}{'dot ms':>8}{'mmd ms':>8}"
          f"{'cross0':>8}{'cross':>7}")
    narrow = lambda g: to_svg(g, direction="tb", width=460)  # noqa: E731
    wide = lambda g: to_svg(g, direction="tb", width=920)  # noqa: E731
    for name, graph in graphs:
        layering = layer(read_graph(graph))
        _, right = neighbours(layering)
        before = count_crossings(_initial_order(layering), right)
        after = count_crossings(order(layering), right)
        print(
            f"{name:<14}{graph.number_of_nodes():>6}{graph.number_of_edges():>6}"
            f"{best_of(to_svg, graph) * 1000:>9.1f}{best_of(narrow, graph) * 1000:>9.1f}{best_of(wide, graph) * 1000:>9.1f}"
            f"{best_of(to_dot, graph) * 1000:>8.1f}"
            f"{best_of(to_mermaid, graph) * 1000:>8.1f}{before:>8}{after:>7}"
        )


if __name__ == "__main__":
    main()
