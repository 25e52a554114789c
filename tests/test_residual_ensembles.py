"""docs/residual-ensembles.md: path counts, path sampling against an explicit expansion,
and the lesion test's network surgery."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close
from snippets.bp.mlp import build_residual_mlp
from snippets.residual_ensembles import ensembles as page


def test_counts_match_the_paper():
    assert page.share.sum() == pytest.approx(1.0)
    assert page.share[19:36].sum() > 0.95                    # "more than 95%"
    assert page.share[5:18].sum() == pytest.approx(0.0045, abs=0.0001)   # "0.45%"


def test_the_jacobian_is_the_sum_over_all_paths():
    """prod (I + J_i) = sum over subsets S of prod_{i in S} J_i, for 4 blocks."""
    rng = np.random.default_rng(0)
    J = [rng.normal(size=(3, 3)) for _ in range(4)]
    product = np.eye(3)
    for J_i in J:
        product = (np.eye(3) + J_i) @ product
    paths = np.zeros((3, 3))
    per_length = [0] * 5
    for S in itertools.product([0, 1], repeat=4):
        term = np.eye(3)
        for J_i, on in zip(J, S, strict=True):
            term = (J_i if on else np.eye(3)) @ term
        paths += term
        per_length[sum(S)] += 1
    assert_close(product, paths, atol=1e-12, what="path expansion")
    # the terms of each length are as many as the page counts: comb(n, k)
    assert per_length == [comb(4, k) for k in range(5)]


def test_path_sampling_measures_one_path():
    """With 2 blocks, the length-1 paths are exactly g J_0 and g J_1."""
    magnitude = page.path_gradients(1.0, n=2, width=4, samples=400, seed=3)
    rng = np.random.default_rng(3)
    net = build_residual_mlp(rng, 4, 2)
    fwd = net.forward(rng.normal(size=(1, 4)))
    J = [net.layers[2 * b + 1].W @ ((fwd.z[2 * b + 1][0] > 0)[:, None]
                                   * net.layers[2 * b].W) for b in range(2)]
    g = rng.normal(size=4)
    g /= np.linalg.norm(g)
    assert magnitude[0] == pytest.approx(1.0)
    assert magnitude[2] == pytest.approx(np.linalg.norm(g @ J[1] @ J[0]))
    one = [np.linalg.norm(g @ J_i) for J_i in J]
    assert min(one) - 1e-12 <= magnitude[1] <= max(one) + 1e-12


def test_effective_lengths():
    total, peak, lo, hi = page.effective_lengths(page.paths["branches x 0.25"])
    assert total[lo:hi + 1].sum() >= 0.9 and peak < 20 and hi < 27
    _, peak_he, _, _ = page.effective_lengths(page.paths["He-initialised branches"])
    assert peak_he > 27                                      # long paths win


def test_deleting_a_block_is_the_identity_for_that_block():
    net = build_residual_mlp(np.random.default_rng(1), 4, 3)
    x = np.random.default_rng(2).normal(size=(5, 4))
    lesioned = page.without_block(net, 1, 2)
    a = net.forward(x).a
    expected = net.tail(4).forward(a[2]).a[-1]              # block 1 skipped: a_2 -> block 2
    assert_close(lesioned.forward(x).a[-1], expected, atol=1e-14, what="lesion")


def test_lesion_damage():
    assert page.damage["residual (20 blocks)"].mean() < 0.5
    assert page.damage["plain (20 layers)"].mean() > 0.8
