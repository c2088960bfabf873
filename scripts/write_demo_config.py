"""Regenerate configs/demo.yaml and configs/schema.json from the code (after changing defaults)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.config import dump_settings, json_schema
from pipeline.demo.settings import demo_settings

HEADER = """\
# Tushu run configuration for the built-in demo world (what `tushu demo` runs).
# Every key is documented in README.md, "Configuration reference"; the schema is
# configs/schema.json. Relative paths are taken from the folder of this file.
# Regenerate with: python scripts/write_demo_config.py
"""

root = Path(__file__).resolve().parent.parent
target = root / "configs" / "demo.yaml"
dump_settings(demo_settings(Path("../data/demo"), Path("../results/demo")), target)
target.write_text(HEADER + target.read_text(encoding="utf-8"), encoding="utf-8")
(root / "configs" / "schema.json").write_text(
    json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
)
print(f"wrote {target} and configs/schema.json")
