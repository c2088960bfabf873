"""Every analyst notebook (notebooks/*.py, jupytext) runs on a tiny-world run and draws."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import run_tiny
from tests.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.py"))

jupytext = pytest.importorskip("jupytext", reason="needs the notebooks extra")
nbclient = pytest.importorskip("nbclient", reason="needs the notebooks extra")


@pytest.fixture(scope="module")
def spring_run(tiny_world, tmp_path_factory):
    """The earlier run of a look-back: the same plots with imagery up to May of the last year."""
    out = tmp_path_factory.mktemp("spring-run") / "results"
    return run_tiny(tiny_world, out, imagery={"end": date(2023, 5, 31)})


def test_notebooks__are_all_found():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_explore_run", "02_plot_evidence", "03_tuning", "04_compare_runs"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook__runs_and_draws(path, tiny_run, spring_run, tiny_world, monkeypatch, tmp_path):
    """Executed on the tiny world: no error, at least one image, no logic defined in it."""
    nb = jupytext.read(path)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code and not any("def " in c or "class " in c for c in code)
    monkeypatch.setenv("TUSHU_RUN", str(tiny_run))
    monkeypatch.setenv("TUSHU_RUN_BEFORE", str(spring_run))
    monkeypatch.setenv("TUSHU_TRUTH", str(tiny_world / "truth.csv"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"
