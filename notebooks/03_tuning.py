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
# # Tuning thresholds
#
# How statuses move when an evidence threshold changes. `run.rejudge(...)` judges the run again
# from its stored series, per-pixel shares and desk table, without reading imagery (a fraction
# of a second on the demo world, against about a minute for the full run; see
# docs/results.md), and gives the same result as a full run with that threshold. Then the
# results are scored against the demo world's truth table. `TUSHU_TRUTH` names another truth
# table.

# %%
import os

from pipeline.judgement.evaluate import evaluate_run, read_truth
from pipeline.results import open_run
from pipeline.results.charts import draw_transitions
from pipeline.results.rejudge import compare_results, status_moves
from pipeline.results.tables import evaluation_table, sweep_threshold

run = open_run(os.environ.get("TUSHU_RUN", "../results/demo"))
truth = read_truth(os.environ.get("TUSHU_TRUTH", "../data/demo/truth.csv"))
run.settings.evidence

# %% [markdown]
# ## One change: a stricter survival gap and a larger loss step

# %%
changed = run.rejudge(survival_gap=0.04, loss_drop=0.25)
comparison = compare_results(run.plots, changed)
fig = draw_transitions(status_moves(comparison), title="survival_gap 0.04, loss_drop 0.25")
status_moves(comparison)

# %%
comparison.loc[comparison["status_changed"], ["row", "plot_id", "county", "status_before",
               "status_after", "reasons_added", "reasons_removed"]]  # fmt: skip

# %% [markdown]
# ## A sweep: plots per status as `loss_drop` grows

# %%
sweep = sweep_threshold(run, "loss_drop", [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4])
ax = sweep.plot(marker="o", title="plots per status by loss_drop", figsize=(7, 3.5))
sweep

# %% [markdown]
# ## Evaluation against the truth
# Per reason: plots with that true reason, true / false positives, false negatives, precision
# and recall — for the run as it is and with the change above.

# %%
evaluation_table(evaluate_run(run.plots, truth)).join(
    evaluation_table(evaluate_run(changed, truth)), rsuffix="_changed"
)[["true", "precision", "recall", "precision_changed", "recall_changed"]]

# %% [markdown]
# ## Retraining
# This version of Tushu decides with threshold rules whose values are configuration
# (`evidence.*`); there is no trained model to retrain. To adopt a threshold, put it in the
# run's config: the next `tushu run` re-runs only the report step.
