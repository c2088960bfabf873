from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.codes import STATUS_COLORS, STATUS_LABELS
from pipeline.reports.gpkg import STATUS_FIELD, style_qml


def test_style_qml__one_category_per_chinese_status_with_its_colour():
    root = ET.fromstring(style_qml().split(">", 1)[1])  # after the DOCTYPE
    renderer = root.find("renderer-v2")
    assert renderer.get("attr") == STATUS_FIELD
    cats = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
    assert set(cats) == set(STATUS_LABELS.values())
    colors = {s.get("name"): s.find(".//prop[@k='color']").get("v") for s in root.iter("symbol")}
    red = ",".join(str(int(STATUS_COLORS["inconsistent"][i : i + 2], 16)) for i in (1, 3, 5))
    assert colors[cats["不一致"]] == f"{red},255"
