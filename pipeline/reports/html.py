"""HTML documents from the package's Jinja templates (``reports/templates``): offline, one
file each, print-ready. Chinese text uses the system CJK font (Noto Sans CJK SC, installed by
the README set-up as ``fonts-noto-cjk``; Microsoft YaHei / PingFang on Windows / macOS)."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import jinja2

from pipeline.files import write_atomic

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["pct"] = format_percent
    return env


def format_number(value, digits: int = 2) -> str:
    """``1234.5`` → ``1234.50``; blank for NaN / None."""
    if value is None or value != value or value == "":
        return ""
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return str(value)


def format_percent(value, digits: int = 1) -> str:
    """``0.853`` → ``85.3%``; blank for NaN / None."""
    if value is None or value != value:
        return ""
    return f"{100 * value:.{digits}f}%"


def data_uri(data: bytes, mime: str) -> str:
    """Embed bytes (a PNG chart, an SVG map) in the page."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render_html(template: str, path: Path, **context) -> Path:
    """Render ``template`` with ``context`` into ``path`` (UTF-8, atomically)."""
    text = environment().get_template(template).render(**context)
    write_atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
    return Path(path)


def figure_png(fig, dpi: int = 90) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buf.getvalue()
