"""The README's configuration table states the schema's defaults (a drifted default misleads
users: `evidence.survival_gap` once read 0.2 there while the schema said 0.15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config import DeskChecks, Evidence, Imagery, Reports, RunOptions

REPO_ROOT = Path(__file__).resolve().parents[3]
SECTIONS = {
    "evidence": Evidence,
    "desk": DeskChecks,
    "run": RunOptions,
    "imagery": Imagery,
    "reports": Reports,
}


def _numeric_rows() -> list[tuple[str, str, str]]:
    """(section, key, default text) of every numeric default in the README's table (rows
    whose keys and comma-separated defaults pair up)."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    out = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        keys = re.findall(r"`([a-z_]+)\.([a-z_]+)`", cells[0])
        defaults = [d.strip().strip("`") for d in cells[1].split(",")]
        if len(keys) != len(defaults):  # e.g. a tuple default written with commas
            continue
        for (section, key), default in zip(keys, defaults, strict=True):
            if _number(default) is not None and section in SECTIONS:
                out.append((section, key, default))
    return out


def _number(text: str) -> float | None:
    try:
        return float(text.replace(" ", ""))
    except ValueError:
        return None


ROWS = _numeric_rows()


def test_readme_config_table__is_read():
    assert len(ROWS) >= 30
    assert ("evidence", "survival_gap") in {(s, k) for s, k, _ in ROWS}


@pytest.mark.parametrize(("section", "key", "text"), ROWS, ids=[f"{s}.{k}" for s, k, _ in ROWS])
def test_readme_config_table__numeric_defaults_match_the_schema(section, key, text):
    field = SECTIONS[section].model_fields.get(key)
    assert field is not None, f"README documents {section}.{key}, which the schema lacks"
    assert isinstance(field.default, int | float), f"{section}.{key}: README gives a number"
    assert _number(text) == pytest.approx(float(field.default)), (
        f"README says {section}.{key} defaults to {text}, the schema to {field.default}: "
        "fix the table"
    )
