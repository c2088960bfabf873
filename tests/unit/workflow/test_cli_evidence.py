from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from pipeline.workflow.cli import app
from tests.unit.judgement.test_breaks import DATES, FELL, _plantation


def test_series__prints_the_loss_date_as_json(tmp_path):
    ndvi = _plantation(2, fell=True)
    pd.DataFrame({"day": DATES, "v": ndvi}).to_csv(tmp_path / "s.csv", index=False)
    out = CliRunner().invoke(
        app, ["series", str(tmp_path / "s.csv"), "--date", "day", "--value", "v"]
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    clear = DATES[np.isfinite(ndvi)]
    first = clear[np.searchsorted(clear, FELL)]
    assert abs((pd.Timestamp(got["loss"]["date"]) - first).days) <= 16
    assert set(got) >= {"dry_season_levels", "establishment", "loss"}


def test_series__a_missing_column_is_named(tmp_path):
    pd.DataFrame({"date": DATES, "x": 0.5}).to_csv(tmp_path / "s.csv", index=False)
    out = CliRunner().invoke(app, ["series", str(tmp_path / "s.csv")])
    assert out.exit_code == 2 and "ndvi" in out.output
