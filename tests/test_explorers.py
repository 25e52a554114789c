"""The data of the interactive figures: every state computed by the build, checked against an
independent computation with the numeric core (network by network, not as one stack)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from snippets.bp.activations import IDENTITY
from snippets.bp.gradcheck import assert_close
from snippets.bp.mlp import MLP, Layer

with contextlib.redirect_stdout(io.StringIO()):   # the modules display their figures
    from snippets.activations_and_initialisation import explorer as norms
    from snippets.jacobian_spectra import explorer as spectra


def core_profile(W, g, branch, depth, seed, top):
    """||dL/dz_l|| / ||dL/dz_depth|| and ||dL/dW_l|| / ||dL/dW_depth|| for one network,
    through MLP.backward."""
    zeros = np.zeros(norms.N)
    if branch is None:
        net = MLP([Layer(W[l], zeros, g) for l in range(depth)])
    else:
        layers = []
        for k in range(depth // 2):
            layers += [Layer(W[2 * k], zeros, g),
                       Layer(branch * W[2 * k + 1], zeros, IDENTITY, skip=2 * k)]
        net = MLP(layers)
    fwd = net.forward(norms.x[seed])
    grads = net.backward(fwd, top)
    deltas = np.array([np.linalg.norm(grads.delta[l]) for l in range(1, depth + 1)])
    weights = np.array([np.linalg.norm(grads.W[l]) for l in range(1, depth + 1)])
    return deltas / deltas[-1], weights / weights[-1]


@pytest.mark.parametrize("activation", list(norms.ACTIVATIONS))
@pytest.mark.parametrize("shortcut", list(norms.SHORTCUTS))
def test_gradient_profiles_are_those_of_each_network_alone(activation, shortcut):
    g, branch = norms.ACTIVATIONS[activation], norms.SHORTCUTS[shortcut]
    profiles = norms.profiles(g, branch)
    for d, depth in [(0, 10), (4, 50), (9, 100)]:
        for i in (0, 3):
            for seed in (0, 4):
                alone = core_profile(norms.W[:, i, seed], g, branch, depth, seed, norms.top[d])
                for stacked, single, what in zip(profiles, alone, ("dL/dz", "dL/dW"),
                                                 strict=True):
                    assert_close(stacked[d, i, seed, :depth], single, atol=0, rtol=1e-8,
                                 what=f"{what}, {activation}, {shortcut}, depth {depth}")
                    assert np.isnan(stacked[d, i, seed, depth:]).all()


def test_gradient_states_are_the_profiles_summarised_over_seeds():
    for key in [(50, "tanh", "Glorot", "none"), (100, "ReLU", "He", "identity, branch x 1")]:
        depth, activation, init, shortcut = key
        both = norms.profiles(norms.ACTIVATIONS[activation], norms.SHORTCUTS[shortcut])
        d, i = norms.DEPTHS.index(depth), list(norms.INITS).index(init)
        for series, r in zip(norms.states[key], both, strict=True):
            r = np.clip(r, norms.LOW, norms.HIGH)
            assert_close(series["y"], np.median(r[d, i, :, :depth], axis=0), atol=0,
                         rtol=1e-12, what="median")
            assert_close(series["lo"], r[d, i, :, :depth].min(axis=0), atol=0, rtol=1e-12,
                         what="low")
    assert len(norms.states) == (len(norms.DEPTHS) * len(norms.ACTIVATIONS)
                                 * len(norms.INITS) * len(norms.SHORTCUTS))


def test_what_the_gradient_figure_shows():
    """The well-known cases, as a reader will check them."""
    def bottom(key, series=0):
        return norms.states[key][series]["y"][0]
    assert bottom((100, "linear", "orthogonal", "none")) == pytest.approx(1, rel=1e-9)
    assert bottom((100, "sigmoid", "Gaussian, variance 1/n", "none")) == norms.LOW  # vanishes
    # holds, up to the drift of a finite width (the median of a product of random
    # factors decays even when its mean square is kept)
    assert 1e-3 < bottom((100, "ReLU", "He", "none")) < 10
    assert bottom((100, "ReLU", "Gaussian, variance 1/n", "none")) < 1e-10         # 2^-50
    # ... while its weight gradients stay level (Glorot and Bengio's observation)
    assert 0.1 < bottom((100, "ReLU", "Gaussian, variance 1/n", "none"), series=1) < 10
    assert bottom((100, "linear", "orthogonal", "identity, branch x 1")) > 1e3     # explodes


@pytest.mark.parametrize("name", list(spectra.EX_NETWORKS))
def test_spectra_against_finite_differences_of_one_network(name):
    """The Jacobian of a 4-layer prefix for seed 2, by central differences of the network
    built from the same weights, layer by layer: its singular values are the explorer's."""
    from snippets.bp.gradcheck import numerical_jacobian
    from snippets.bp.init import init_weights

    g, scheme, gain, (std, constant) = spectra.EX_NETWORKS[name]
    key = np.random.SeedSequence([64, list(spectra.EX_NETWORKS).index(name)])
    weights_stream, bias_stream, x_stream = key.spawn(spectra.EX_SEEDS)[2].spawn(3)
    W = init_weights(np.random.default_rng(weights_stream), spectra.EX_WIDTH,
                     spectra.EX_WIDTH, scheme, gain=gain, stack=(max(spectra.EX_DEPTHS),))
    b = constant + std * np.random.default_rng(bias_stream).normal(
        size=(max(spectra.EX_DEPTHS), spectra.EX_WIDTH))
    x = np.random.default_rng(x_stream).normal(size=spectra.EX_WIDTH)
    if std:
        x = g(np.sqrt(0.05) * x)

    def forward(v):
        for l in range(4):
            v = g(W[l] @ v + b[l])
        return v

    J = numerical_jacobian(forward, x)
    assert J.shape == (spectra.EX_WIDTH, spectra.EX_WIDTH)
    expected = np.linalg.svd(J, compute_uv=False)
    assert_close(spectra.singular[name][spectra.EX_DEPTHS.index(4), 2], expected,
                 atol=1e-7, what=f"singular values, {name}")


def test_training_curves_are_the_chapters_runs():
    with contextlib.redirect_stdout(io.StringIO()):
        from snippets.degradation import explorer as curves
        from snippets.degradation import training
    assert len(curves.curve_states) == len(training.DEPTHS) * len(training.RATES)
    for (depth, lr), series in curves.curve_states.items():
        r = training.RATES.index(lr)
        for s, kind in zip(series, (training.PLAIN, training.ZERO), strict=True):
            c = training.runs[kind, depth].curves[:, :, r]
            alive = ~np.isnan(c).any(axis=0)
            assert ("diverged" in s["name"]) == (not alive.all())
            if not alive.all():            # the legend counts the runs left out
                assert f"({(~alive).sum()} of {len(alive)} diverged)" in s["name"]
            if not alive.any():            # nothing to draw, and said so: no line at all
                assert s["y"].shape == s["lo"].shape == (c.shape[0],)
                assert np.isnan(s["y"]).all()
            if alive.any():
                kept = np.clip(c[:, alive], *curves.LOSS_AXIS)
                assert_close(s["y"], np.median(kept, axis=1), atol=0, rtol=1e-6,
                             what=f"{kind}, {depth} layers, rate {lr}")
                assert (s["lo"] <= s["y"]).all() and (s["y"] <= s["hi"]).all()
    # what the figure is there to show, in its default state
    plain, residual = curves.curve_states[(56, 0.003)]
    assert plain["y"][-1] > 10 * residual["y"][-1]


def test_path_length_shares_are_binomials_tilted_by_the_measured_gradients():
    from math import comb

    with contextlib.redirect_stdout(io.StringIO()):
        from snippets.residual_ensembles import ensembles
        from snippets.residual_ensembles import explorer as lengths
    for (blocks, name), (paths_share, gradient_share) in lengths.length_states.items():
        k = np.arange(blocks + 1)
        assert_close(paths_share["y"], [comb(blocks, j) / 2 ** blocks for j in k], atol=1e-15,
                     what="binomial")
        assert gradient_share["y"].sum() == pytest.approx(1, abs=0.05)   # medians of shares
        if blocks == ensembles.n:   # the chapter's own computation, for all 54 blocks
            total = ensembles.gradient_by_length(ensembles.paths[name])
            assert_close(gradient_share["y"], np.median(total, axis=0), atol=1e-12,
                         what=f"{name}, 54 blocks")
            # the band is the range over the seeds
            assert_close(gradient_share["lo"], total.min(axis=0), atol=1e-12, what="band lo")
            assert_close(gradient_share["hi"], total.max(axis=0), atol=1e-12, what="band hi")
        assert (gradient_share["lo"] <= gradient_share["y"] + 1e-15).all()
        assert (gradient_share["y"] <= gradient_share["hi"] + 1e-15).all()
    # He-initialised branches: the gradient's bump sits right of the paths' for every depth
    for blocks in lengths.BLOCKS[5:]:
        paths_share, gradient_share = lengths.length_states[(blocks, "He-initialised")]
        assert np.argmax(gradient_share["y"]) > np.argmax(paths_share["y"])


def test_the_random_draws_are_independent_streams():
    """Inputs, output gradients and each initialisation's weights come from streams of
    their own: one stream used twice would give two of them the same leading numbers (up to
    a scale), which a correlation near 1 would show."""
    draws = {"inputs x": norms.x, "output gradients": norms.top,
             **{f"{init} weights": norms.W[:, i] for i, init in enumerate(norms.INITS)}}
    n = min(np.size(a) for a in draws.values())          # in the order they were drawn
    leading = {name: np.ravel(a)[:n] for name, a in draws.items()}
    names = list(leading)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = np.corrcoef(leading[a], leading[b])[0, 1]
            assert abs(r) < 0.2, f"{a} and {b}: correlation {r:.2f}, one stream used twice?"


def test_the_controls_say_what_they_compute():
    """A label is a claim: each menu entry's words against the settings it runs."""
    from snippets.bp.activations import RELU, TANH

    for label, branch in norms.SHORTCUTS.items():
        assert branch is None if label == "none" else branch == float(label.split(" x ")[1])
    expected = {"linear, Gaussian 1/n": (IDENTITY, "gaussian", 1.0, (0.0, 0.0)),
                "linear, orthogonal": (IDENTITY, "orthogonal", 1.0, (0.0, 0.0)),
                "ReLU, He": (RELU, "he", 1.0, (0.0, 0.0)),
                "ReLU, Gaussian 1/n, biases +0.5": (RELU, "gaussian", 1.0, (0.0, 0.5))}
    for name, settings in expected.items():
        assert spectra.EX_NETWORKS[name] == settings, name
    g, init, gain, (b_std, b_const) = spectra.EX_NETWORKS["tanh, orthogonal, critical"]
    assert (g, init, gain, b_std, b_const) == (TANH, "orthogonal", spectra.SIGMA_W,
                                               spectra.SIGMA_B, 0.0)


def test_the_critical_tanh_point_by_direct_integration():
    """chi = sigma_w^2 E[tanh'(h)^2] = 1 and q* = sigma_w^2 E[tanh(h)^2] + sigma_b^2 for
    h ~ N(0, q*), q* = 0.05, on a fine grid (not the module's Gauss-Hermite nodes)."""
    q_star = 0.05
    h = np.linspace(-12, 12, 200_001) * np.sqrt(q_star)
    pdf = np.exp(-h ** 2 / (2 * q_star)) / np.sqrt(2 * np.pi * q_star)

    def mean(f):
        return np.trapezoid(f * pdf, h)

    chi = spectra.SIGMA_W ** 2 * mean((1 - np.tanh(h) ** 2) ** 2)
    q = spectra.SIGMA_W ** 2 * mean(np.tanh(h) ** 2) + spectra.SIGMA_B ** 2
    assert chi == pytest.approx(1, abs=1e-9) and q == pytest.approx(q_star, abs=1e-9)


def test_sigmoid_slopes_are_those_of_each_network_alone():
    """The sigmoid page's figure: the mean of σ'(z_l) over each layer's units, network by
    network through MLP.forward, with σ' computed as a (1 - a) from the activations."""
    from snippets.bp.activations import SIGMOID

    with contextlib.redirect_stdout(io.StringIO()):
        from snippets.sigmoid import explorer as slopes
    for gain, bias in [(0.5, 0), (1, 0), (4, 2), (16, 4)]:
        measured = np.zeros((slopes.DEPTH, slopes.SEEDS))
        for seed in range(slopes.SEEDS):
            net = MLP([Layer(gain * slopes.W1[l, seed], np.full(slopes.WIDTH, float(bias)),
                             SIGMOID) for l in range(slopes.DEPTH)])
            a = net.forward(slopes.inputs[seed]).a
            measured[:, seed] = [np.mean(a[l] * (1 - a[l])) for l in range(1, slopes.DEPTH + 1)]
        mean, ceiling = slopes.slope_states[(gain, bias)]
        clipped = np.clip(measured, slopes.LOW, None)
        assert_close(mean["y"], np.median(clipped, axis=1), atol=0, rtol=1e-12, what="median")
        assert_close(mean["lo"], clipped.min(axis=1), atol=0, rtol=1e-12, what="lo")
        assert_close(mean["hi"], clipped.max(axis=1), atol=0, rtol=1e-12, what="hi")
        assert (ceiling["y"] == 0.25).all() and (measured <= 0.25).all()
        if (gain, bias) == (1, 0):           # the prose: close to the ceiling at every layer
            assert (measured > 0.2).all()
        if (gain, bias) == (16, 4):          # "towards a tenth of the ceiling"
            assert (np.median(measured, axis=1) < 0.05).all()
    for state in [(16, 0), (1, 4)]:          # scale alone, bias alone
        assert (0.015 < slopes.slope_states[state][0]["y"]).all()
        assert (slopes.slope_states[state][0]["y"] < 0.05).all()


def test_the_sigmoid_figure_without_javascript_shows_the_state_its_alt_text_names():
    """A reader without JavaScript, printing or reading the notebook, sees the default
    state, and its alt text says which ("weights of gain 1 and no bias"): the line drawn is
    that state's median, layer by layer."""
    import re

    from tests.page_output import drawn

    with contextlib.redirect_stdout(io.StringIO()):
        from snippets.sigmoid import explorer as slopes
    (alt, panels), = drawn("snippets.sigmoid.explorer").items()
    gain = float(re.search(r"weights of gain (\S+) and no bias", alt)[1])
    mean, _ = slopes.slope_states[(gain, 0)]
    (xy,) = [xy for label, xy in panels[0].lines if label.startswith("mean")]
    assert_close(xy[:, 0], np.arange(1, slopes.DEPTH + 1), atol=0, what="layers")
    # (the figure's data are rounded to the digits a reader can see)
    assert_close(xy[:, 1], mean["y"], atol=0, rtol=1e-3, what="the default state's median")


def test_shattered_sweeps_are_each_networks_own_gradient():
    """The shattered page's figure: for each state, the drawn curve is the standardised
    gradient of the median-correlation network, recomputed by finite differences of that
    network's output along the sweep (not by back-propagation)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from snippets.shattered_gradients import explorer as sweeps
        from snippets.shattered_gradients import shattered
    x = shattered.x
    for depth, kind in [(3, "plain"), (64, "plain"), (12, "residual")]:
        grads = []
        for seed in range(shattered.SEEDS):
            net = shattered.make(kind, depth, seed)
            h = 1e-6
            g = (net.forward(x + h).a[-1][:, 0] - net.forward(x - h).a[-1][:, 0]) / (2 * h)
            grads.append(g)
        grads = np.array(grads)
        centred = grads - grads.mean(axis=1, keepdims=True)   # the page's definition
        c = np.sum(centred[:, 1:] * centred[:, :-1], axis=1) / np.sum(centred ** 2, axis=1)
        (series,) = sweeps.sweep_states[(depth, kind)]
        median_net = np.argsort(c)[shattered.SEEDS // 2]
        shown = grads[median_net]
        expected = np.clip((shown - shown.mean()) / shown.std(), -4.5, 4.5)
        # a difference step straddling a kink of some ReLU averages two slopes: allow a few
        off = np.abs(series["y"] - expected) > 1e-4
        assert off.sum() <= 3, (depth, kind, off.sum())
        assert series["name"].endswith(f"correlation {c[median_net]:.2f})")
    assert len(sweeps.sweep_states) == len(sweeps.EX_DEPTHS) * 2


WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10}


@pytest.mark.parametrize("modules", [
    ["activations_and_initialisation.explorer"],
    ["shattered_gradients.shattered", "shattered_gradients.explorer"],
    ["sigmoid.explorer"],
    ["jacobian_spectra.explorer"],
], ids=["activations", "shattered", "sigmoid", "spectra"])
def test_captions_name_the_width_and_the_seeds_the_figures_use(modules):
    """A caption that says "width 32" or "five networks" says what the module computed
    with (its width, N, WIDTH or EX_WIDTH, and SEEDS or EX_SEEDS, in the first of
    ``modules``, where the networks are made): a setting changed in the code alone would
    leave the caption describing other networks."""
    import re

    from tests.page_output import run_page

    runs = [run_page(f"snippets.{module}") for module in modules]
    settings = runs[0][0]
    captions = [caption for _, printed in runs
                for caption in re.findall(r"<figcaption>(.*?)</figcaption>", printed, re.S)]
    width = next(getattr(settings, name) for name in ("WIDTH", "N", "EX_WIDTH")
                 if hasattr(settings, name))
    seeds = settings.SEEDS if hasattr(settings, "SEEDS") else settings.EX_SEEDS
    said = 0
    for caption in captions:
        for stated in re.findall(r"\bwidth (\d+)", caption):
            assert int(stated) == width, caption
            said += 1
        for word in re.findall(r"\b(\w+) (?:seeds|networks)\b", caption):
            if word in WORDS:
                assert WORDS[word] == seeds, caption
                said += 1
    assert said >= 2
