"""The benchmarks' tie rule (issue 16): a difference no larger than the runs' spread is a tie."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
from _common import quality_vs, verdict  # noqa: E402


@pytest.mark.parametrize("ours,theirs,expected", [
    ([0.50, 0.52], [0.49, 0.50], "tie"),          # means 0.510 vs 0.495: within the spread 0.02
    ([0.56, 0.57], [0.50, 0.51], "ahead"),        # 0.06 apart, spreads 0.01
    ([0.40, 0.41, 0.40], [0.45, 0.46], "behind"),
    ([0.45, 0.60], [0.40, 0.41], "tie"),          # our own spread (0.15) covers the 0.12
    ([0.50], [0.40, 0.41], "1 run"),              # no spread on one side: no judgement
    ([None, 0.5, 0.6], [0.5, 0.6], "tie"),        # missing scores are left out
    ([None], [0.5, 0.6], None),
])
def test_verdict(ours, theirs, expected):
    assert verdict(ours, theirs) == expected


def test_quality_vs_labels_each_measure():
    def run(analogy, ws):
        return {"analogy": analogy, "sim": {"EN-WS-353-ALL": [ws, 353, 353]}}

    text = quality_vs([run(0.380, 0.57), run(0.386, 0.58)], [run(0.379, 0.60), run(0.381, 0.61)])
    assert text == "analogy +0.3 points (tie), rho WS-353-ALL -0.030 (behind)"
