"""The interactive figure of docs/degradation.md: the training curves of every depth and
learning rate the page trained, five seeds each. The page runs the section below in the
session of training.py, after it; imported on its own (by the tests), the module takes the
page's names from there."""

from snippets.degradation.training import DEPTHS, PLAIN, RATES, STEPS, ZERO, runs

# isort: split
# --8<-- [start:explorer]
import numpy as np

from snippets.figures import explorer

LOSS_AXIS = (0.01, 1.0)
curve_states = {}
for depth in DEPTHS:
    for r, lr in enumerate(RATES):
        series = []
        for kind, name in ((PLAIN, "plain"),
                           (ZERO, "residual, branches at 0")):
            c = runs[kind, depth].curves[:, :, r]   # (checkpoints, seeds)
            alive = ~np.isnan(c).any(axis=0)        # seeds that never diverged
            if alive.sum() < len(alive):
                lost = len(alive) - alive.sum()
                name += f" ({lost} of {len(alive)} diverged)"
            if not alive.any():
                c = np.full((c.shape[0], 1), np.nan)
            c = np.clip(c[:, alive] if alive.any() else c, *LOSS_AXIS)
            series.append({"name": name, "x": np.arange(10, STEPS + 1, 10),
                           "y": np.median(c, axis=1), "lo": c.min(axis=1),
                           "hi": c.max(axis=1)})
        curve_states[(depth, lr)] = series
explorer(
    controls=[{"name": "depth", "label": "Depth", "values": DEPTHS,
               "format": "{} layers"},
              {"name": "rate", "label": "Learning rate", "values": RATES}],
    states=curve_states, default=(56, 0.003),
    x={"label": "training step", "scale": "linear", "domain": [0, STEPS]},
    y={"label": "training loss", "scale": "log", "domain": list(LOSS_AXIS)},
    alt="Training loss against step for 56-layer networks at learning rate "
    "0.003: the plain networks' median stays near 0.5, the residual "
    "networks' falls to about 0.03.",
    caption="Training curves of plain and residual networks (lines: medians "
    "of five seeds, bands: their range; runs that diverged are left out and "
    "counted in the legend). Move the depth and the learning rate: each "
    "state was trained when the site was built.",
)
# --8<-- [end:explorer]
