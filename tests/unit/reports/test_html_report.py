from __future__ import annotations

import pandas as pd

from pipeline.codes import REASONS
from pipeline.reports.html_report import _counts


def test_counts__a_plot_with_two_reasons_counts_in_both():
    result = pd.DataFrame(
        {
            "county": ["甲县", "甲县", "乙县"],
            "status": ["suspect", "consistent", "inconsistent"],
            "reasons": ["LOW_SURVIVAL;PARTIAL_PLANTING", "", "VEGETATION_LOSS"],
        }
    )
    by_status, by_reason = _counts(result)
    assert by_status.sum().sum() == 3
    assert by_reason.loc[REASONS["LOW_SURVIVAL"].label, "甲县"] == 1
    assert by_reason.loc[REASONS["PARTIAL_PLANTING"].label, "甲县"] == 1
    assert by_reason.loc[REASONS["VEGETATION_LOSS"].label, "乙县"] == 1
