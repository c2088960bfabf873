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
# # Exploring a run
#
# A finished run read through `pipeline.results` (no logic in this notebook): filter the plots,
# map the flags by county (a static image and an interactive map), and summarise by county and
# reason. Run `tushu demo` first, or point `TUSHU_RUN` at any run's `output_dir`.

# %%
import os

from pipeline.results import open_run
from pipeline.results.charts import draw_counts, draw_status_map
from pipeline.results.maps import interactive_status_map
from pipeline.results.tables import count_reasons, count_statuses

run = open_run(os.environ.get("TUSHU_RUN", "../results/demo"))
run

# %% [markdown]
# ## The plots
# One row per input plot, in input order: claims, status, reasons, areas (亩), desk and
# evidence metrics. Filter with ordinary pandas expressions.

# %%
columns = ["plot_id", "county", "planting_year", "status", "reasons", "geom_area_mu",
           "verified_area_mu", "planted_area_mu"]  # fmt: skip
run.plots[columns].head(10)

# %%
flagged = run.plots.query("status in ['inconsistent', 'suspect']")
flagged[columns].sort_values(["county", "status"])

# %% [markdown]
# ## Where the flags are
# A static map of the plots by status over the county boundaries of the run's config.

# %%
counties = run.reference("region")
fig = draw_status_map(run.plots, boundaries=counties, title=f"{run.layout.root.name}: status")

# %% [markdown]
# The same as an interactive map (hover a plot for its id, county, status and reasons; click a
# legend entry to hide a status). It works offline: plotly is embedded in the output and there
# is no basemap (web tiles need the internet, and consumer tiles in China are GCJ-02-shifted).

# %%
interactive_status_map(run.plots, title="plots by status")

# %% [markdown]
# ## Summary by county and reason

# %%
by_status = count_statuses(run.plots, by="county")
fig = draw_counts(by_status, title="plots by county and status")
by_status

# %%
count_reasons(run.plots, by="county").T

# %%
run.summary.set_index("县")[["图斑数", "上报面积_亩", "核实面积_亩", "面积核实率"]]
