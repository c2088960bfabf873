from __future__ import annotations

from pipeline.codes import REASONS, join_reasons, label_reasons, split_reasons, status_of
from tests.paths import REPO_ROOT


def test_status_of__most_severe_wins():
    assert status_of([]) == "consistent"
    assert status_of(["INSUFFICIENT_DATA"]) == "insufficient_data"
    assert status_of(["INSUFFICIENT_DATA", "OVERLAP"]) == "suspect"
    assert status_of(["OVERLAP", "RESTRICTED_LAND"]) == "inconsistent"


def test_join_reasons__canonical_order_without_repeats():
    assert join_reasons(["VEGETATION_LOSS", "OVERLAP", "OVERLAP"]) == "OVERLAP;VEGETATION_LOSS"
    assert split_reasons("OVERLAP;VEGETATION_LOSS") == ["OVERLAP", "VEGETATION_LOSS"]
    assert split_reasons("") == [] and split_reasons(None) == []


def test_reason_table__every_code_has_a_chinese_label():
    assert label_reasons("OVERLAP;DUPLICATE_PRIOR") == "图斑重叠；重复上报"
    for r in REASONS.values():
        assert r.label and all("\u4e00" <= ch <= "\u9fff" for ch in r.label)


def test_readme__documents_every_reason_code():

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for r in REASONS.values():
        assert f"| `{r.code}` | {r.label} | {r.status} |" in readme


def test_reason_actions__every_code_asks_for_a_chinese_action():
    from pipeline.codes import ACTIONS, REASON_ACTIONS, label_actions

    assert set(REASON_ACTIONS) == set(REASONS) and set(REASON_ACTIONS.values()) <= set(ACTIONS)
    assert label_actions("OVERLAP;VEGETATION_LOSS") == "重新造林；核减面积"
    assert label_actions("") == ""
