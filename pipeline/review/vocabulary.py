"""The review vocabulary: decisions, confidence levels, roles and review slots, with Chinese labels.

Reason codes and plot statuses come from :mod:`pipeline.codes`; this module holds only what a
reviewer adds. Every template, export and import takes its words from here.
"""

from __future__ import annotations

DECISIONS: dict[str, str] = {
    "confirmed": "确认问题",
    "false_alarm": "误报",
    "field_check": "需外业核查",
    "imagery_insufficient": "影像不足",
}
"""Decision code → label, in the order the form shows them."""

DECISION_BY_LABEL: dict[str, str] = {label: code for code, label in DECISIONS.items()}

LABEL_OF_DECISION: dict[str, int | None] = {
    "confirmed": 1,
    "false_alarm": 0,
    "field_check": None,
    "imagery_insufficient": None,
}
"""Training label of a decision: 1 = the plot has a real problem, 0 = it has none, ``None`` =
the decision says nothing about the plot (not a label)."""

CONFIDENCE: dict[str, str] = {"high": "高", "medium": "中", "low": "低"}

ROLES: dict[str, str] = {"verifier": "核查员", "senior": "高级核查员", "admin": "管理员"}
"""Roles from least to most rights: seniors also adjudicate, admins also export and assign."""

SLOTS: dict[str, str] = {
    "primary": "初审",
    "second": "复审",
    "final": "裁定",
}
"""A plot's decision slots: the first review, the second review of the double-review sample,
and a senior's adjudication of a disagreement."""

REVIEW_STATES: dict[str, str] = {
    "open": "待复核",
    "awaiting_second": "待二次复核",
    "disagreement": "意见分歧",
    "decided": "已复核",
}

ACTIONS: dict[str, str] = {
    "decide": "记录",
    "conflict": "冲突未保存",
    "import": "导入",
    "assign": "分派",
}
"""Kinds of entry in the append-only decision log."""


def role_rank(role: str) -> int:
    """0 verifier, 1 senior, 2 admin (unknown roles rank below every role)."""
    return list(ROLES).index(role) if role in ROLES else -1


def has_role(role: str, needed: str) -> bool:
    """Whether ``role`` carries the rights of ``needed``."""
    return role_rank(role) >= role_rank(needed)
