from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import TushuError
from pipeline.judgement.evaluate import evaluate_run


def _truth():
    return pd.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "reasons": ["", "OVERLAP", "OVERLAP", "PARTIAL_PLANTING"],
            "planted_share": [1.0, 1.0, 1.0, 0.5],
        }
    )


def _result(reasons, planted):
    return pd.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "reasons": reasons,
            "status": ["consistent", "suspect", "suspect", "suspect"],
            "geom_area_mu": 10.0,
            "planted_area_mu": planted,
        }
    )


def test_evaluate_run__perfect_result_scores_one():
    rep = evaluate_run(
        _result(["", "OVERLAP", "OVERLAP", "PARTIAL_PLANTING"], [10, 10, 10, 5]), _truth()
    )
    assert rep["reasons"]["OVERLAP"] == {
        "true": 2,
        "tp": 2,
        "fp": 0,
        "fn": 0,
        "precision": 1.0,
        "recall": 1.0,
    }
    assert rep["genuine"]["status_share"]["consistent"] == 1.0
    assert rep["planted_area"]["abs_error_mu"] == 0


def test_evaluate_run__misses_and_false_alarms_count():
    rep = evaluate_run(_result(["OVERLAP", "OVERLAP", "", ""], [10, 10, 10, np.nan]), _truth())
    r = rep["reasons"]["OVERLAP"]
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 1)
    assert rep["reasons"]["PARTIAL_PLANTING"]["recall"] == 0.0
    assert rep["planted_area"]["n_judged"] == 3


def test_evaluate_run__different_worlds_refused():
    with pytest.raises(TushuError, match="same world"):
        evaluate_run(_result([""] * 4, [1] * 4).iloc[:3], _truth())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", "is not a truth table"),
        ("图斑编号,县\nA,明溪县\n".encode(), "no column row, reasons, planted_share"),
        (b"", "is not a truth table"),
    ],
)
def test_read_truth__a_wrong_file_is_named_with_the_fix(tmp_path, content, message):
    from pipeline.judgement.evaluate import read_truth

    path = tmp_path / "truth.csv"
    path.write_bytes(content)
    with pytest.raises(TushuError, match=message) as err:
        read_truth(path)
    assert "--truth" in str(err.value)
