"""docs/degradation.md: the networks' gradients against central differences, the stacked
training (and its probes) against networks trained one by one, and every claim the page makes,
over seeds and learning rates."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, check_network
from snippets.bp.losses import squared_error, squared_error_grad
from snippets.bp.optim import SGD
from snippets.degradation import exercises
from snippets.degradation import training as page
from tests.page_output import run_page, table_rows

PLAIN, HE, ZERO = page.KINDS
RATE, SMALL, BIG = (page.RATES.index(r) for r in (0.003, 0.001, 0.01))


def final(kind, depth, rate=RATE):
    return page.runs[kind, depth].final[:, rate]


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


def probe_alone(net):
    """Gradient norm of every layer's weights and output spread of one
    network on all 512 points, written out for one network."""
    fwd = net.forward(page.X)
    grads = net.backward(fwd, squared_error_grad(fwd.a[-1], page.Y))
    norms = [np.sqrt(np.sum(grads.W[l] ** 2)) for l in range(1, len(net.layers) + 1)]
    return np.array(norms), np.std(fwd.a[-1])


def test_the_stack_trains_each_network_as_it_would_train_alone(monkeypatch):
    """Independent computation: two networks of the stack, trained one at a time with the
    same weights, mini-batches and rate, for a few steps; the page's probe of the stack,
    before and after, against each network probed alone."""
    monkeypatch.setattr(page, "STEPS", 20)
    monkeypatch.setattr(page, "SEEDS", 2)
    rates = [0.001, 0.003, 0.01]           # as page.RATES: at_rate slices by them
    run = page.train(PLAIN, 4, rates=rates)
    assert run.curves.shape == (2, 2, 3) and run.final.shape == (2, 3)
    start_norms, start_spread = page.probe(page.initial(PLAIN, 4))
    end_norms, end_spread = page.probe(page.at_rate(run.net, 1))
    assert start_norms.shape == (4, 2) and end_spread.shape == (2,)
    for seed, (weights, batches) in enumerate(page.streams(PLAIN, 4)):
        idx = np.random.default_rng(batches).integers(len(page.X), size=(20, page.BATCH))
        for r, lr in enumerate(rates):
            net = page.network(PLAIN, 4, np.random.default_rng(weights))
            norms, spread = probe_alone(net)
            assert_close(start_norms[:, seed], norms, atol=1e-6, what="grads at start")
            assert start_spread[seed] == pytest.approx(spread, rel=1e-4)
            opt = SGD(net, lr=lr, momentum=0.9)
            losses = []
            for step in range(20):
                fwd = net.forward(page.X[idx[step]])
                losses.append(squared_error(fwd.a[-1], page.Y[idx[step]]))
                opt.step(net.backward(fwd, squared_error_grad(fwd.a[-1], page.Y[idx[step]])))
            assert_close(run.curves[:, seed, r], np.mean(np.reshape(losses, (2, 10)), axis=1),
                         atol=1e-5, what=f"loss curve, seed {seed}, rate {lr}")
            loss = squared_error(net.forward(page.X).a[-1], page.Y)
            assert run.final[seed, r] == pytest.approx(loss, rel=1e-4)
            if r == 1:                                 # at_rate picks these
                norms, spread = probe_alone(net)
                assert_close(end_norms[:, seed], norms, atol=1e-5, what="grads at end")
                assert end_spread[seed] == pytest.approx(spread, rel=1e-4)


def test_plain_networks_degrade_in_every_seed_at_every_rate():
    for r in range(len(page.RATES)):
        # "every 56-layer plain network ends above every 20-layer one"
        assert final(PLAIN, 56, r).min() > final(PLAIN, 20, r).max()
        # "at every rate the plain networks' median rises with depth"
        medians = [np.median(final(PLAIN, d, r)) for d in page.DEPTHS]
        assert medians == sorted(medians)
    # from 4 to 20 layers only in the median: 0.07 against 0.08, ranges overlap
    four, twenty = final(PLAIN, 4), final(PLAIN, 20)
    assert f"{np.median(four):.2f}" == "0.07" and f"{np.median(twenty):.2f}" == "0.08"
    assert four.max() > twenty.min()


def test_the_56_layer_plain_curves():
    curves = page.runs[PLAIN, 56].curves[:, :, RATE]          # (30 points, seeds)
    # every seed spends its first hundred steps at the constant predictor's 0.5
    assert (np.abs(curves[:10].mean(axis=0) - 0.5) < 0.05).all()
    stuck = final(PLAIN, 56) > 0.45
    assert stuck.sum() == 3                                     # "three never leave it"
    assert (curves[-5:, stuck].mean(axis=0) > 0.4).all()
    # of the other two, one ends lowest (0.13, the table's minimum), and it left 0.5
    # by the middle of training, the other only near the end
    left = np.flatnonzero(~stuck)
    best, late = left[np.argsort(final(PLAIN, 56)[left])]
    assert curves[15:20, best].mean() < 0.4 and curves[:25, late].mean() > 0.45


def test_residual_networks_do_not_degrade():
    for r in (SMALL, RATE):       # "at 0.001 and 0.003 the median falls with depth"
        medians = [np.median(final(ZERO, d, r)) for d in page.DEPTHS]
        assert medians == sorted(medians, reverse=True)
    assert final(ZERO, 56).max() < final(PLAIN, 56).min() / 3      # "far below every"
    assert final(ZERO, 56).min() < final(ZERO, 20).max()            # they overlap
    # at 0.01 two of the five 56-layer residual networks diverge; no plain one does,
    # and the plain ones stay at 0.5
    assert np.isnan(final(ZERO, 56, BIG)).sum() == 2
    assert not np.isnan(final(PLAIN, 56, BIG)).any() and (final(PLAIN, 56, BIG) > 0.49).all()
    # at 0.001 every configuration ends higher than at 0.003, but the stuck plain 56
    for kind in (PLAIN, ZERO):
        for depth in page.DEPTHS:
            if (kind, depth) != (PLAIN, 56):
                assert np.median(final(kind, depth, SMALL)) > np.median(final(kind, depth))
    # each at its best rate: 4 and 20 layers at 0.01, 56 at 0.003, all 0.03 in the median
    best = {4: final(ZERO, 4, BIG), 20: final(ZERO, 20, BIG), 56: final(ZERO, 56)}
    for depth, values in best.items():
        others = [np.median(final(ZERO, depth, r)) for r in range(3)]
        assert np.nanmedian(values) == min(v for v in others if not np.isnan(v))
        assert f"{np.median(values):.2f}" == "0.03"
    assert max(v.min() for v in best.values()) < min(v.max() for v in best.values())


def test_every_run_is_at_the_rates_its_table_names():
    """The captions and the prose name the learning rates; the runs were made at them."""
    printed = run_page("snippets.degradation.training")[1]
    (he_rate,) = set(re.findall(r"He-initialised, rate (\d\.\d+)", printed))
    for depth in page.DEPTHS:
        assert page.runs[HE, depth].rates == [float(he_rate)]
        for kind in (PLAIN, ZERO):
            assert page.runs[kind, depth].rates == page.RATES
    prose = (Path(__file__).parents[1] / "docs" / "degradation.md").read_text()
    (said,) = re.findall(r"At learning rate (\d\.\d+), the final training loss", prose)
    (captioned,) = re.findall(r"after \d+ steps at learning rate (\d\.\d+)", printed)
    assert page.RATES[page.rate] == float(said) == float(captioned)   # the main table's column


def test_he_initialised_branches_diverge_and_start_huge():
    for depth in (20, 56):
        assert np.isnan(page.runs[HE, depth].final).all()
    assert not np.isnan(page.runs[HE, 4].final).any()
    assert page.runs[HE, 4].final.max() < 0.1          # the 4-layer ones train
    # "hundreds of thousands of times the targets'" (spread 1), in the median
    assert 1e5 <= np.median(page.he_spread[56]) < 1e6


def test_the_gradients_of_the_plain_networks():
    twenty, fifty_six = page.columns["plain 20"], page.columns["plain 56"]
    g20, g56 = twenty["g₁ start"], fifty_six["g₁ start"]
    small = g56 < 1e-3
    assert small.sum() == 3 and (g56[small] >= 1e-4).all()       # "1e-4 to 1e-3"
    assert (g56[~small] >= g20.min()).all() and (g56[~small] <= g20.max()).all()
    assert 50 < np.median(g20) / np.median(g56) < 200             # "about a hundred"
    # "at least 0.3 times the last layer's (20 layers: at least 0.1 times)"
    assert fifty_six["g₁/g_N"].min() >= 0.3
    assert twenty["g₁/g_N"].min() >= 0.095
    # the output hardly varies in the same three seeds: below 0.001, against 0.03-0.2
    spread56, spread20 = fifty_six["spread"], twenty["spread"]
    assert (spread56[small] < 1e-3).all() and (spread56[~small] > 1e-3).all()
    assert 0.03 <= spread20.min() and spread20.max() <= 0.2
    # the starting gradient does not decide: a healthy start stays stuck, and the best
    # seed started small
    ends = final(PLAIN, 56)
    assert (ends[~small] > 0.45).any()
    assert small[np.argmin(ends)]
    # after training: stuck seeds 1e-6 to 1e-3; the others more than any 20-layer network
    stuck = ends > 0.45
    after = fifty_six["g₁ end"]
    # the first layer's, measured on the trained networks here
    end, _ = page.probe(page.at_rate(page.runs[PLAIN, 56].net, page.rate))
    assert_close(after, end[0], atol=0, rtol=1e-12, what="g₁ after training, 56 layers")
    assert (after[stuck] > 1e-6).all() and (after[stuck] <= 1.5e-3).all()
    assert after[~stuck].min() > twenty["g₁ end"].max()
    # every line of the figure is roughly level: no layer below 1/10 of the last one's
    grads = page.profiles[56]
    assert grads.shape == (56, page.SEEDS)
    # the table as printed: its first two rows from each depth's profile at the start
    rows = {cells[0]: cells[1:] for cells in table_rows(
        run_page("snippets.degradation.training")[1], "Plain networks of 20 and 56 layers", 4)}
    for k, depth in enumerate((20, 56)):                # the columns' order
        profile = page.profiles[depth]
        assert rows["g₁ start"][k] == page.spread_of(profile[0])
        assert rows["g₁/g_N"][k] == page.spread_of(profile[0] / profile[-1])
    assert (grads.min(axis=0) > grads[-1] / 10).all()


def test_the_gradients_table_formats():
    assert page.one_digit(0.0654) == "0.07" and page.one_digit(7.3e-4) == "7e-4"
    assert page.one_digit(2.07) == "2" and page.one_digit(418697.4) == "4e5"
    assert page.one_digit(88.2) == "90" and page.one_digit(0.0654) == "0.07"
    assert page.spread_of(np.array([0.5, 0.0305, 7.3e-4])) == "0.03 (7e-4–0.5)"


def test_exercise_zero_start():
    step1, step2 = (np.array(n) for n in exercises.first_steps)
    assert (step1[1:-1:2] == 0).all() and (step1[2:-1:2] > 0).all()   # W_a: 0, W_b: not
    assert (step2[1:-1:2] > 0).all()
    assert step1[0] > 0 and step1[-1] > 0                              # first, last layers


def test_exercise_growth():
    # a typical network grows more slowly than the root mean square, sqrt(3)
    assert 1.4 < exercises.per_block < 3 ** 0.5
    assert exercises.blocks == [1, 9, 27]


def test_exercise_parameters():
    rng = np.random.default_rng(0)
    for depth in page.DEPTHS:
        counts = {sum(layer.W.size + layer.b.size
                      for layer in page.network(kind, depth, rng).layers)
                  for kind in (PLAIN, ZERO)}
        assert counts == {161 + 272 * (depth - 2)}


def test_the_printed_parameter_counts():
    """Each line the page prints, against the count of a network of its depth: 8 inputs to
    16 units (144 weights and biases), 16 to 16 (272) for each of the depth - 2 layers
    between, 16 to 1 (17); the same for both kinds (a shortcut has no parameters)."""
    _, printed = run_page("snippets.degradation.exercises")
    lines = re.findall(r"^(\d+) layers: plain (\d+), residual (\d+)$", printed, re.M)
    assert [int(depth) for depth, _, _ in lines] == list(page.DEPTHS)
    for depth, plain, residual in lines:
        assert int(plain) == int(residual) == 161 + 272 * (int(depth) - 2)


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
