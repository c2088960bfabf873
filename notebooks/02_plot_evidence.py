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
# # One plot's evidence
#
# Everything behind one plot's status: its NDVI series against its planting-year peers with the
# baseline and site-preparation windows, image chips before and after planting, the rule trace
# (each rule's metric, threshold and whether it fired) and the plot's metrics. Set `TUSHU_PLOT`
# to a plot id to look at another plot; by default the first plot with a loss.

# %%
import os

from pipeline.results import open_run
from pipeline.results.chips import draw_chips

run = open_run(os.environ.get("TUSHU_RUN", "../results/demo"))
first_loss = run.plots.loc[run.plots["reasons"].str.contains("VEGETATION_LOSS"), "row"].iloc[0]
row = run.row_of(os.environ.get("TUSHU_PLOT") or int(first_loss))
run.plot_row(row)[["plot_id", "county", "stage", "planting_year", "status", "reasons",
                   "geom_area_mu", "claimed_area_mu", "verified_area_mu"]]  # fmt: skip

# %% [markdown]
# ## The series
# Filled points are the observations used as evidence (clear enough, not an isolated dip);
# hollow ones were cloudy or rejected. The green band is the peers' 10–90 % range per date.

# %%
fig = run.plot(row)

# %%
fig = run.plot(row, index="bsi")

# %%
run.peers(row).head(12)

# %% [markdown]
# ## Image chips
# The clearest pair of dates in the same season before site preparation and after the
# preparation window (true and false colour), then a strip of dates across the series with the
# cloud state over the plot. Read from the run's own imagery (configured source and cache).

# %%
chips = run.chips(row, n_strip=6)
fig = draw_chips(chips)

# %%
[(c.date.date(), c.item_id, c.role, c.kind, c.cloud) for c in chips]

# %% [markdown]
# ## Rule trace
# Every rule checked for this plot: the metric, its value, the comparison and threshold, and
# whether it fired.

# %%
run.trace(row)

# %% [markdown]
# ## Metrics
# The evidence metrics of this plot (NDVI / BSI units; areas in 亩).
#
# *Model probabilities:* this version of Tushu decides with transparent threshold rules (see
# the trace); there is no trained model, so there are no probabilities to show.

# %%
run.plot_row(row)[["n_clear_obs", "n_baseline_obs", "n_prep_obs", "baseline_winter_ndvi",
                   "prep_ndvi_drop", "prep_bsi_rise", "planted_share", "data_share",
                   "winter_ndvi_last", "winter_gap_peers", "years_observed", "loss_drop",
                   "loss_date"]]  # fmt: skip
