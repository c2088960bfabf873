"""Reason codes, their Chinese labels, the status each implies, and status ranking."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES: tuple[str, ...] = ("consistent", "insufficient_data", "suspect", "inconsistent")
"""Statuses from mildest to most severe; a plot takes the most severe of its reasons."""

STATUS_LABELS: dict[str, str] = {
    "consistent": "图数一致",
    "insufficient_data": "数据不足",
    "suspect": "存疑",
    "inconsistent": "不一致",
}


@dataclass(frozen=True)
class Reason:
    """One reason code: what it means and the status it gives a plot."""

    code: str
    label: str
    status: str
    stage: str  # "desk" or "imagery"
    trigger: str


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            "INVALID_GEOMETRY",
            "图形无效",
            "suspect",
            "desk",
            "geometry is null, empty or not valid (self-intersection); repaired with make_valid",
        ),
        Reason(
            "DUPLICATE_ID",
            "编号重复",
            "suspect",
            "desk",
            "the plot id occurs on more than one record of the submission",
        ),
        Reason(
            "MISSING_ATTRIBUTE",
            "属性缺失",
            "suspect",
            "desk",
            "a required attribute (id, county, stage, planting year, claimed area) is empty",
        ),
        Reason(
            "AREA_MISMATCH",
            "面积不符",
            "suspect",
            "desk",
            "claimed area differs from the polygon area by more than both the relative "
            "tolerance and the boundary-buffer tolerance",
        ),
        Reason(
            "TOO_SMALL",
            "面积过小",
            "suspect",
            "desk",
            "polygon area below the minimum plot size (default 1 亩)",
        ),
        Reason(
            "OVERLAP",
            "图斑重叠",
            "suspect",
            "desk",
            "overlaps another plot of the same submission by at least the set area",
        ),
        Reason(
            "DUPLICATE_PRIOR",
            "重复上报",
            "inconsistent",
            "desk",
            "covers at least the set share of a plot reported in an earlier year",
        ),
        Reason(
            "OUTSIDE_REGION",
            "超出辖区",
            "inconsistent",
            "desk",
            "less than the set share of the plot lies inside the county it claims",
        ),
        Reason(
            "RESTRICTED_LAND",
            "占用耕地",
            "inconsistent",
            "desk",
            "overlaps farmland-protection land (永久基本农田 / cropland) by at least the set area",
        ),
        Reason(
            "PRE_EXISTING_FOREST",
            "原有林地",
            "inconsistent",
            "imagery",
            "the baseline (before planting) already shows evergreen forest: high dry-season NDVI",
        ),
        Reason(
            "NO_PLANTING_EVIDENCE",
            "未见造林迹象",
            "inconsistent",
            "imagery",
            "no site preparation around the claimed planting date on (almost) any part of the plot",
        ),
        Reason(
            "ESTABLISHMENT_NOT_YET_VISIBLE",
            "成林迹象尚不可见",
            "suspect",
            "imagery",
            "no site preparation and no establishment yet, but none was to be expected so far: "
            "no cleared cover on land like this, peers of its land and growth class not yet "
            "established, too few years since planting — a verifier visits",
        ),
        Reason(
            "FOREST_CLEARED_REPLANTED",
            "林地皆伐后造林",
            "suspect",
            "imagery",
            "the baseline is forest-like but the whole plot was cleared in the site-preparation "
            "window and planted: dense scrub cleared for afforestation, or forest felled and "
            "replanted (更新造林, not new afforestation) — a verifier decides",
        ),
        Reason(
            "LOW_SURVIVAL",
            "成活率低",
            "suspect",
            "imagery",
            "two or more years after planting, dry-season NDVI lags the peer plots of the "
            "same planting year",
        ),
        Reason(
            "PARTIAL_PLANTING",
            "部分造林",
            "suspect",
            "imagery",
            "site preparation seen on only part of the plot",
        ),
        Reason(
            "VEGETATION_LOSS",
            "植被损失",
            "inconsistent",
            "imagery",
            "after planting, NDVI drops abruptly and stays below the peer plots",
        ),
        Reason(
            "INSUFFICIENT_DATA",
            "数据不足",
            "insufficient_data",
            "imagery",
            "too few clear observations in a window a judgement needs (baseline, site-preparation "
            "window, planting year, a due survival dry season: the rule trace names it), no "
            "usable geometry or planting year, or a polygon too large to read",
        ),
    )
}


def status_of(reasons: list[str]) -> str:
    """The most severe status implied by ``reasons`` (``consistent`` when empty)."""
    worst = 0
    for code in reasons:
        worst = max(worst, STATUSES.index(REASONS[code].status))
    return STATUSES[worst]


def join_reasons(reasons: list[str]) -> str:
    """``;``-joined codes in the table's canonical order, without repeats."""
    order = list(REASONS)
    return ";".join(sorted(set(reasons), key=order.index))


def split_reasons(text: str | None) -> list[str]:
    """Inverse of :func:`join_reasons`; tolerant of blanks and NaN."""
    if not isinstance(text, str) or not text.strip():
        return []
    return [c.strip() for c in text.split(";") if c.strip()]


def label_reasons(text: str | None) -> str:
    """Chinese labels for a ``;``-joined list of codes."""
    return "；".join(REASONS[c].label for c in split_reasons(text))


STATUS_COLORS: dict[str, str] = {
    "consistent": "#1a9641",
    "insufficient_data": "#9e9e9e",
    "suspect": "#fdae61",
    "inconsistent": "#d7191c",
}
"""One colour per status (maps, charts, the GeoPackage style)."""

ACTIONS: dict[str, str] = {
    "replant": "重新造林",
    "supplement": "补植",
    "deduct": "核减面积",
    "document": "补充材料",
}
"""What a county must do about a flagged plot (整改措施), mildest last."""

REASON_ACTIONS: dict[str, str] = {
    "INVALID_GEOMETRY": "document",
    "DUPLICATE_ID": "document",
    "MISSING_ATTRIBUTE": "document",
    "AREA_MISMATCH": "deduct",
    "TOO_SMALL": "document",
    "OVERLAP": "deduct",
    "DUPLICATE_PRIOR": "deduct",
    "OUTSIDE_REGION": "deduct",
    "RESTRICTED_LAND": "deduct",
    "PRE_EXISTING_FOREST": "deduct",
    "NO_PLANTING_EVIDENCE": "replant",
    "ESTABLISHMENT_NOT_YET_VISIBLE": "document",
    "FOREST_CLEARED_REPLANTED": "document",
    "LOW_SURVIVAL": "supplement",
    "PARTIAL_PLANTING": "supplement",
    "VEGETATION_LOSS": "replant",
    "INSUFFICIENT_DATA": "document",
}
"""The 整改 action each reason code asks for (a plot lists the actions of all its reasons)."""

STAGE_GROUPS: dict[str, str] = {"design": "设计施工", "planted": "造林验收/纳入造林"}
"""Plot stages as progress reports count them: design-stage plots apart from planted ones."""


def actions_of(reasons: str | None) -> list[str]:
    """The action keys (:data:`ACTIONS` order) a ``;``-joined reason list asks for."""
    wanted = {REASON_ACTIONS[c] for c in split_reasons(reasons)}
    return [a for a in ACTIONS if a in wanted]


def label_actions(reasons: str | None) -> str:
    """Chinese 整改措施 for a ``;``-joined reason list (``；``-joined)."""
    return "；".join(ACTIONS[a] for a in actions_of(reasons))
