"""docs/degradation.md: the networks' gradients against central differences, the stacked
training against networks trained one by one, and the page's claims, over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, check_network
from snippets.bp.losses import squared_error, squared_error_grad
from snippets.bp.optim import SGD
from snippets.degradation import training as page

PLAIN, ZERO, HE = page.KINDS[0], page.KINDS[2], page.KINDS[1]
RATE = page.RATES.index(0.003)


@pytest.mark.parametrize("kind", page.KINDS)
def test_the_networks_gradients(kind):
    """The same builders as the page, at depth 6, float64, atol 1e-8."""
    rng = np.random.default_rng(0)
    net = page.network(kind, 6, rng, dtype=np.float64)
    for l, layer in enumerate(net.layers, start=1):   # nonzero biases and branches
        net = net.with_param(f"b{l}", rng.normal(scale=0.3, size=layer.b.shape))
        if not layer.W.any():
            net = net.with_param(f"W{l}", rng.normal(scale=0.2, size=layer.W.shape))
    x, y = page.X[:5].astype(np.float64), page.Y[:5].astype(np.float64)
    check_network(net, x, lambda y_hat: squared_error(y_hat, y),
                  lambda y_hat: squared_error_grad(y_hat, y), atol=1e-8)


def test_depth_in_weight_layers():
    for kind in page.KINDS:
        for depth in page.DEPTHS:
            assert len(page.network(kind, depth, np.random.default_rng(0)).layers) == depth


def test_the_stack_trains_each_network_as_it_would_train_alone(monkeypatch):
    """Independent computation: two networks of the stack, trained one at a time with the
    same weights, mini-batches and rate, for a few steps."""
    monkeypatch.setattr(page, "STEPS", 20)
    monkeypatch.setattr(page, "SEEDS", 2)
    curves, final = page.train(PLAIN, 4, rates=[0.003, 0.01])
    for seed, (weights, batches) in enumerate(page.streams(PLAIN, 4)):
        idx = np.random.default_rng(batches).integers(len(page.X), size=(20, page.BATCH))
        for r, lr in enumerate([0.003, 0.01]):
            net = page.network(PLAIN, 4, np.random.default_rng(weights))
            opt = SGD(net, lr=lr, momentum=0.9)
            losses = []
            for step in range(20):
                fwd = net.forward(page.X[idx[step]])
                losses.append(squared_error(fwd.a[-1], page.Y[idx[step]]))
                opt.step(net.backward(fwd, squared_error_grad(fwd.a[-1], page.Y[idx[step]])))
            assert_close(curves[:, seed, r], np.mean(np.reshape(losses, (2, 10)), axis=1),
                         atol=1e-5, what=f"loss curve, seed {seed}, rate {lr}")
            alone = squared_error(net.forward(page.X).a[-1], page.Y)
            assert final[seed, r] == pytest.approx(alone, rel=1e-4)


def test_plain_networks_degrade_in_every_seed():
    final = {d: page.runs[PLAIN, d][1][:, RATE] for d in page.DEPTHS}
    assert (final[56] > final[20]).all()
    assert np.median(final[56]) > 3 * np.median(final[20])
    median_curve = np.median(page.runs[PLAIN, 56][0][:, :, RATE], axis=1)
    assert (median_curve[:10] > 0.4).all()       # "its first hundred steps at 0.5"


def test_zero_initialised_residual_networks_improve_with_depth():
    final = {d: page.runs[ZERO, d][1][:, RATE] for d in page.DEPTHS}
    medians = [np.median(final[d]) for d in page.DEPTHS]
    assert medians == sorted(medians, reverse=True)
    assert (final[56] < page.runs[PLAIN, 56][1][:, RATE]).all()
    assert np.median(final[56]) < np.median(page.runs[PLAIN, 56][1][:, RATE]) / 5


def test_he_initialised_residual_networks_diverge_and_the_large_rate_kills_some():
    for depth in (20, 56):
        assert np.isnan(page.runs[HE, depth][1]).all()
    assert not np.isnan(page.runs[HE, 4][1]).any()
    big = page.RATES.index(0.01)
    assert np.isnan(page.runs[ZERO, 56][1][:, big]).any()
    assert not np.isnan(page.runs[PLAIN, 56][1][:, big]).any()


def test_every_random_stream_is_its_own():
    first = [w.generate_state(4).tolist() + b.generate_state(4).tolist()
             for kind in page.KINDS for depth in page.DEPTHS
             for w, b in page.streams(kind, depth)]
    states = [tuple(s[:4]) for s in first] + [tuple(s[4:]) for s in first]
    assert len(set(states)) == len(states)
    assert page.streams(PLAIN, 4)[0][0].generate_state(4).tolist() == first[0][:4]  # stable


def test_the_target_is_standardised():
    assert page.Y.mean() == pytest.approx(0, abs=1e-6) and page.Y.std() == pytest.approx(1)
    assert squared_error(np.zeros_like(page.Y), page.Y) == pytest.approx(0.5)
