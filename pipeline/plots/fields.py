"""Field conventions of county plot layers: the alias table and the value normalisers.

Counties export from different systems, so the same claim sits under Chinese names (图斑编号,
上报面积), pinyin abbreviations (XIAN, MIAN_JI, ZLND) or codes. :func:`resolve_columns` finds the
source column of each standard field (configured name first, then config aliases, then the
table below); the ``parse_*`` functions turn one raw value into its normal form and never raise.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from pipeline.config import ColumnMap
from pipeline.errors import PlotDataError

MU_PER_HA = 15.0
MU_PER_M2 = 1.0 / 666.6666667

#: Standard field -> source names tried in order (compared ignoring case, spaces, "_", "-").
ALIASES: dict[str, tuple[str, ...]] = {
    "plot_id": (
        "图斑编号", "图斑号", "图斑ID", "TBBH", "TB_BH", "小班号", "小班编号", "XBH", "PLOT_ID",
    ),
    "county": (
        "县", "县名", "县名称", "县（市、区）", "县(市、区)", "区县", "XIAN", "XIAN_MC", "XMC",
        "县代码", "县级代码", "XIAN_DM", "XDM", "COUNTY",
    ),
    "township": ("乡镇", "乡", "乡镇名", "乡镇名称", "XIANG", "XIANG_MC", "乡镇代码", "XIANG_DM"),
    "village": ("村", "行政村", "村名", "CUN", "CUN_MC", "村代码", "CUN_DM", "VILLAGE"),
    "compartment": ("林班", "林班号", "LIN_BAN", "LB", "LBH"),
    "subcompartment": ("小班", "XIAO_BAN", "XB"),
    "stage": ("阶段", "造林阶段", "上图阶段", "状态", "JIE_DUAN", "JD", "STAGE"),
    "planting_year": (
        "造林年度", "年度", "造林年份", "造林年", "ZLND", "ZAO_LIN_ND", "NIAN_DU", "ND",
    ),
    "claimed_area": (
        "上报面积", "面积", "小班面积", "图斑面积", "造林面积", "面积亩", "面积_亩", "面积公顷",
        "MIAN_JI", "MJ", "SBMJ", "ZLMJ", "AREA",
    ),
    "planting_type": ("造林类型", "造林方式", "造林类别", "ZAO_LIN_LB", "ZLLB", "ZLLX", "ZLFS"),
    "species": (
        "树种", "优势树种", "造林树种", "主要树种", "YOU_SHI_SZ", "YSSZ", "SZ", "SHU_ZHONG",
    ),
}  # fmt: skip

#: Area fields whose unit is hectares unless config says otherwise (pinyin exports use ha).
HECTARE_FIELDS = frozenset({"MIANJI", "面积公顷"})

#: Stage spellings (Chinese, English) -> the canonical Chinese stage name.
STAGE_NAMES: dict[str, str] = {
    "设计施工": "设计施工", "设计": "设计施工", "施工": "设计施工", "design": "设计施工",
    "designed": "设计施工", "under construction": "设计施工", "construction": "设计施工",
    "造林验收": "造林验收", "验收": "造林验收", "已验收": "造林验收", "accepted": "造林验收",
    "planting accepted": "造林验收", "acceptance": "造林验收", "planted": "造林验收",
    "纳入造林": "纳入造林", "纳入": "纳入造林", "included": "纳入造林", "counted": "纳入造林",
}  # fmt: skip

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_YEAR = re.compile(r"(?<!\d)(19[4-9]\d|20\d\d|2100)(?!\d)")
_HA = re.compile(r"公顷|hm2|hm²|\bha\b", re.IGNORECASE)
_M2 = re.compile(r"平方米|㎡|m2|m²", re.IGNORECASE)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is np.nan


def parse_number(value: object) -> float | None:
    """A number from ``12.5``, ``"12.5亩"``, ``"１２.５"``, ``"1,234"``; ``None`` if none."""
    if _missing(value):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").replace("，", "")
    match = _NUMBER.search(text)
    return float(match.group()) if match else None


def parse_year(value: object) -> int | None:
    """A year from ``2021``, ``2021.0``, ``"2021年"``, ``"2021-03"``; ``None`` if implausible."""
    if _missing(value):
        return None
    if isinstance(value, str):
        match = _YEAR.search(unicodedata.normalize("NFKC", value))
        if match:
            return int(match.group())
    number = parse_number(value)
    if number is None or not 1949 <= number <= 2100 or number != int(number):
        return None
    return int(number)


def parse_text(value: object) -> str | None:
    """Stripped text (full-width spaces too), ``None`` for empty or missing values."""
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().strip("\u3000").strip()
    return text or None


def parse_id(value: object) -> str | None:
    """A plot id as text: ``12.0`` → ``"12"``; ``None`` when empty."""
    return parse_text(value)


def parse_area(value: object, unit: str = "mu") -> float | None:
    """An area in 亩 from a number in ``unit`` (mu / ha) or a text carrying its own unit
    (``"12.5亩"``, ``"0.8公顷"``, ``"3000平方米"``); ``None`` when there is no number."""
    number = parse_number(value)
    if number is None:
        return None
    if isinstance(value, str):
        if "亩" in value:
            return number
        if _HA.search(value):
            return number * MU_PER_HA
        if _M2.search(value):
            return number * MU_PER_M2
    return number * MU_PER_HA if unit == "ha" else number


def parse_county(value: object) -> str | None:
    """A county name (``"明溪县"``) or its 6-digit code (``350421.0`` → ``"350421"``)."""
    text = parse_text(value)
    if text is None:
        return None
    if re.fullmatch(r"\d{6}(\.0+)?", text):
        return text[:6]
    return text


def parse_stage(value: object, codes: dict[str, str] | None = None) -> str | None:
    """The canonical stage (设计施工 / 造林验收 / 纳入造林) from Chinese, English or a code;
    unknown spellings are returned stripped, as given."""
    text = parse_text(value)
    if text is None:
        return None
    codes = codes or {}
    key = text[:-2] if re.fullmatch(r"\d+\.0", text) else text
    if key in codes:
        return codes[key]
    return STAGE_NAMES.get(text.lower(), STAGE_NAMES.get(text, text))


def is_known_stage(stage: str | None, codes: dict[str, str] | None = None) -> bool:
    """Whether a parsed stage is one of the canonical names (or a configured code's name)."""
    return stage is None or stage in STAGE_NAMES.values() or stage in (codes or {}).values()


def _norm_name(name: str) -> str:
    return re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", str(name))).upper()


@dataclass(frozen=True)
class ColumnChoice:
    """Where one standard field comes from: the column and how it was found."""

    field: str
    column: str | None
    how: str  # config | alias | absent | composite
    unit: str | None = None  # claimed_area only: mu | ha

    def as_dict(self) -> dict:
        d = {"column": self.column, "found_by": self.how}
        if self.unit:
            d["unit"] = self.unit
        return d


def resolve_columns(
    columns: list[str],
    mapping: ColumnMap,
    aliases: dict[str, tuple[str, ...]] | None = None,
    area_unit: str = "mu",
    area_units: dict[str, str] | None = None,
    where: str = "plot layer",
) -> dict[str, ColumnChoice]:
    """The source column of every standard field in a layer with ``columns``.

    A configured name is used when present; a configured name other than the default that
    the layer lacks is an error (a typo); otherwise config aliases, then :data:`ALIASES`.
    """
    defaults = ColumnMap()
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm_name(c), c)
    used: set[str] = set()
    out: dict[str, ColumnChoice] = {}
    configured = {f: getattr(mapping, f) for f in ColumnMap.model_fields}
    # Exact configured names are claimed first, so an alias never steals one.
    for f, name in configured.items():
        if name is not None and name in columns:
            out[f] = ColumnChoice(f, name, "config")
            used.add(name)
    for f, name in configured.items():
        if f in out:
            continue
        if name is None:
            out[f] = ColumnChoice(f, None, "absent")
            continue
        if name != getattr(defaults, f):
            raise PlotDataError(
                f"{where}: column {name!r} named in plots.columns.{f} is not in the layer "
                f"(it has: {', '.join(map(str, columns))}); fix plots.columns.{f} in the config"
            )
        tried = [*(aliases or {}).get(f, ()), *ALIASES.get(f, ())]
        found = (by_norm.get(_norm_name(a)) for a in tried)
        hit = next((c for c in found if c is not None and c not in used), None)
        hit = hit or _truncated_match(tried, by_norm, used)
        out[f] = ColumnChoice(f, hit, "alias" if hit else "absent")
        if hit:
            used.add(hit)
    area = out["claimed_area"]
    if area.column is not None:
        out["claimed_area"] = ColumnChoice(
            area.field, area.column, area.how, area_unit_of(area.column, area_unit, area_units)
        )
    return out


def _truncated_match(tried: list[str], by_norm: dict[str, str], used: set[str]) -> str | None:
    """A column whose name is a cut-off alias: DBF names hold 10 bytes, so a UTF-8 shapefile
    stores 图斑编号 as 图斑编 (at least 3 characters must remain)."""
    for alias in tried:
        a = _norm_name(alias)
        for norm, col in by_norm.items():
            if col not in used and 3 <= len(norm) < len(a) and a.startswith(norm):
                if len(norm.encode("utf-8")) >= 8:
                    return col
    return None


def area_unit_of(column: str, default: str = "mu", units: dict[str, str] | None = None) -> str:
    """The unit of an area field: config per field, then the name (亩 / 公顷 / MIAN_JI), then
    the default ``plots.area_unit``."""
    if units and column in units:
        return units[column]
    norm = _norm_name(column)
    if "亩" in column:
        return "mu"
    if "公顷" in column or norm.endswith("HA") or norm in HECTARE_FIELDS:
        return "ha"
    return default
