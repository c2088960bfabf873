# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Comparing two runs (回头看)
#
# Two runs over the same plots, e.g. the spring check and the autumn look-back with the newer
# imagery: which plots changed status, which reasons appeared or went, where, and what it does
# to the verified area. `TUSHU_RUN_BEFORE` is the earlier run, `TUSHU_RUN` the later one.
#
# On the demo world, make the earlier run by running the demo config with imagery up to the
# spring (`imagery.end: 2024-05-31` in a copy of `configs/demo.yaml`, another `output_dir`, e.g.
# `results/demo-spring`), then `tushu run --config that.yaml`.

# %%
import os

from pipeline.results import open_run
from pipeline.results.charts import draw_counts, draw_status_map, draw_transitions
from pipeline.results.rejudge import compare_results, status_moves
from pipeline.results.tables import count_statuses

before = open_run(os.environ.get("TUSHU_RUN_BEFORE", "../results/demo-spring"))
after = open_run(os.environ.get("TUSHU_RUN", "../results/demo"))
before.settings.imagery.end, after.settings.imagery.end

# %% [markdown]
# ## What changed
# The runs cover the same submission, so plots are matched by `row` (use `on="plot_id"` for
# two different submissions).

# %%
comparison = compare_results(before.plots, after.plots, on="row")
fig = draw_transitions(status_moves(comparison), title="status: earlier run → later run")
status_moves(comparison)

# %%
changed = comparison[comparison["status_changed"]]
changed[["row", "plot_id", "county", "status_before", "status_after", "reasons_added",
         "reasons_removed", "verified_area_change_mu"]]  # fmt: skip

# %% [markdown]
# ## Where
# The plots whose status changed, coloured by their status in the later run.

# %%
fig = draw_status_map(after.plots.loc[changed["row"]], boundaries=after.reference("region"),
                      title=f"{len(changed)} plots changed status")  # fmt: skip

# %%
fig = draw_counts(count_statuses(after.plots.loc[changed["row"]], by="county"),
                  title="changed plots by county and new status")  # fmt: skip

# %% [markdown]
# ## Verified area by county (亩)

# %%
comparison.groupby("county")[["verified_area_mu_before", "verified_area_mu_after",
                              "verified_area_change_mu"]].sum()  # fmt: skip
