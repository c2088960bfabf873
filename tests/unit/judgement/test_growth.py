"""The growth-class table: complete for common afforestation species, documented, overridable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.growth import CLASSES, GROWTH_CLASSES, growth_class, read_growth_table


def test_read_growth_table__every_row_has_a_known_class_and_a_basis():
    table = read_growth_table()
    assert not table["species"].duplicated().any()
    assert set(table["growth_class"]) <= set(CLASSES)
    assert table["basis"].str.len().gt(3).all()


def test_growth_classes__common_afforestation_species_are_listed():
    common = {
        "八角": "economic", "云南松": "slow", "华山松": "slow", "花椒": "economic",
        "旱冬瓜": "medium", "刺槐": "medium", "柏木": "slow", "华北落叶松": "medium",
        "沙棘": "shrub", "柠条": "shrub", "梭梭": "shrub", "香樟": "slow", "楠木": "slow",
        "红锥": "slow", "栎类": "slow", "桉树": "fast", "杉木": "medium", "马尾松": "slow",
    }  # fmt: skip
    assert {k: GROWTH_CLASSES.get(k) for k in common} == common


def test_growth_class__config_entries_add_and_override():
    species = pd.Series(["滇楸", "桉树", "银杏"])
    assert list(growth_class(species, 3)) == ["", "fast", ""]
    extra = Evidence(growth_classes={"滇楸": "slow", "桉树": "medium"}).growth_classes
    assert list(growth_class(species, 3, extra)) == ["slow", "medium", ""]


def test_no_faster__timber_by_pace_orchards_and_shrubs_alone():
    from pipeline.judgement.growth import no_faster

    group = np.array(["fast", "medium", "slow", "economic", "shrub", ""], dtype=object)
    assert no_faster(group, "fast").tolist() == [True, True, True, False, False, False]
    assert no_faster(group, "medium").tolist() == [False, True, True, False, False, False]
    assert no_faster(group, "slow").tolist() == [False, False, True, False, False, False]
    assert no_faster(group, "economic").tolist() == [False, False, False, True, False, False]
    assert no_faster(group, "").all()  # unknown class: no order to keep


def test_only_own_class__agrees_with_no_faster():
    from pipeline.judgement.growth import no_faster, only_own_class

    group = np.array(["fast", "medium", "slow", "economic", "shrub", "bamboo"], dtype=object)
    for cls in (*CLASSES, "bamboo"):
        assert only_own_class(cls) == bool((no_faster(group, cls) == (group == cls)).all())
    assert not only_own_class("")  # unknown: every plot
