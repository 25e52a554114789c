"""The numeric core, snippets/bp: every derivative and Jacobian against central differences
in float64, several shapes and seeds, batch 1 and batch > 1.

Tolerances: with h = 1e-6 the central difference is within about 1e-10 of the derivative
for quantities of order one, so atol = 1e-8 leaves a margin of 100 and still catches any
wrong factor. Inputs to ReLU-like functions stay at least 1e-3 from the kink at 0, where
a finite difference straddling 0 would measure the average of the two slopes.
"""

from __future__ import annotations

import platform

import numpy as np
import pytest

from snippets.bp import losses
from snippets.bp.activations import (
    ACTIVATIONS,
    IDENTITY,
    LEAKY_RELU,
    RELU,
    SIGMOID,
    TANH,
    sigmoid_prime,
)
from snippets.bp.gradcheck import (
    assert_close,
    check_network,
    max_abs_diff,
    numerical_gradient,
    numerical_jacobian,
)
from snippets.bp.init import SCHEMES, init_weights
from snippets.bp.layers import (
    dense,
    dense_backward,
    dense_jacobian_input,
    dense_jacobian_weights,
)
from snippets.bp.memory import keep_freed_memory
from snippets.bp.mlp import MLP, Layer, build_mlp, build_residual_mlp

ATOL = 1e-8
SEEDS = [0, 1, 2]


def with_random_biases(net: MLP, rng) -> MLP:
    """Zero biases put a ReLU unit exactly on its kink whenever all its inputs are dead;
    random biases keep every pre-activation off 0, where derivatives exist."""
    for l, layer in enumerate(net.layers, start=1):
        net = net.with_param(f"b{l}", rng.normal(scale=0.5, size=layer.b.shape))
    return net


def away_from_kink(rng, shape):
    z = rng.normal(scale=2.0, size=shape)
    return np.where(np.abs(z) < 1e-3, 1e-3, z)


# Activations ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(1,), (6,), (1, 4), (3, 5)])
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_derivative_and_jacobian(name, shape, seed):
    g = ACTIVATIONS[name]
    z = away_from_kink(np.random.default_rng(seed), shape)
    numeric = numerical_jacobian(g, z)  # shape + shape
    assert numeric.shape == shape + shape
    n = shape[-1]
    if len(shape) == 1:
        assert_close(g.jacobian(z), numeric, atol=ATOL, what=f"{name} Jacobian")
    else:  # examples do not interact: the batched Jacobian is block diagonal
        blocks = np.stack([numeric[i, :, i, :] for i in range(shape[0])])
        assert_close(g.jacobian(z), blocks, atol=ATOL, what=f"{name} batched Jacobian")
        off = numeric.copy()
        for i in range(shape[0]):
            off[i, :, i, :] = 0
        assert np.all(off == 0)
    diag = np.einsum("...ii->...i", g.jacobian(z))
    assert_close(g.df(z), diag, atol=0, what=f"{name}'") and diag.shape[-1] == n


def test_tanh_prime_is_four_sigmoid_prime_of_twice():
    x = np.linspace(-10, 10, 401)
    assert_close(TANH.df(x), 4 * sigmoid_prime(2 * x), atol=1e-15, what="tanh' vs 4 sigma'(2x)")


def test_activations_keep_float32():
    z = np.linspace(-3, 3, 7, dtype=np.float32)
    for g in ACTIVATIONS.values():
        assert g(z).dtype == g.df(z).dtype == np.float32, g.name


# Dense layer ----------------------------------------------------------------------------

@pytest.mark.parametrize("batch", [None, 1, 4])
@pytest.mark.parametrize("n_in, n_out", [(1, 1), (3, 2), (5, 7)])
@pytest.mark.parametrize("seed", SEEDS)
def test_dense_backward(batch, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    a = rng.normal(size=(n_in,) if batch is None else (batch, n_in))
    c = rng.normal(size=dense(W, b, a).shape)  # L = sum(c * z), so dL/dz = c

    def loss(W_=W, b_=b, a_=a):
        return float(np.sum(c * dense(W_, b_, a_)))

    grad_W, grad_b, grad_a = dense_backward(W, a, c)
    assert_close(grad_W, numerical_gradient(lambda W_: loss(W_=W_), W), atol=ATOL, what="grad_W")
    assert_close(grad_b, numerical_gradient(lambda b_: loss(b_=b_), b), atol=ATOL, what="grad_b")
    assert_close(grad_a, numerical_gradient(lambda a_: loss(a_=a_), a), atol=ATOL, what="grad_a")


@pytest.mark.parametrize("n_in, n_out", [(1, 1), (3, 2), (2, 5)])
def test_dense_jacobians(n_in, n_out):
    rng = np.random.default_rng(n_in * 10 + n_out)
    W, b, a = rng.normal(size=(n_out, n_in)), rng.normal(size=n_out), rng.normal(size=n_in)
    J_a = numerical_jacobian(lambda a_: dense(W, b, a_), a)
    assert_close(dense_jacobian_input(W), J_a, atol=ATOL, what="dz/da")
    J_W = numerical_jacobian(lambda W_: dense(W_, b, a), W)
    assert J_W.shape == (n_out, n_out, n_in)
    assert_close(dense_jacobian_weights(a, n_out), J_W, atol=ATOL, what="dz/dW")


def test_dense_shape_errors_name_the_shapes():
    W, b = np.zeros((2, 3)), np.zeros(2)
    with pytest.raises(ValueError, match=r"a has shape \(4, 2\), expected \(batch, 3\)"):
        dense(W, b, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"b has shape \(3,\), expected \(2,\)"):
        dense(W, np.zeros(3), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"delta has shape \(4, 3\), expected \(4, 2\)"):
        dense_backward(W, np.zeros((4, 3)), np.zeros((4, 3)))


# Losses -----------------------------------------------------------------------------------

def targets(rng, shape, kind):
    if kind == "regression":
        return rng.normal(size=shape)
    if kind == "one-hot":
        return np.eye(shape[-1])[rng.integers(shape[-1], size=shape[:-1])]
    p = rng.uniform(0.1, 1, size=shape)
    return p / p.sum(axis=-1, keepdims=True)


LOSSES = {
    "squared, 1/2": (lambda y_hat, y: losses.squared_error(y_hat, y),
                     lambda y_hat, y: losses.squared_error_grad(y_hat, y), "regression"),
    "squared, no 1/2": (lambda y_hat, y: losses.squared_error(y_hat, y, half=False),
                        lambda y_hat, y: losses.squared_error_grad(y_hat, y, half=False),
                        "regression"),
    "softmax CE, one-hot": (losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad,
                            "one-hot"),
    "softmax CE, soft": (losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad,
                         "soft"),
    "log-output CE": (losses.log_output_cross_entropy, losses.log_output_cross_entropy_grad,
                      "soft"),
}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("shape", [(3,), (1, 3), (4, 5)])
@pytest.mark.parametrize("seed", SEEDS)
def test_loss_gradients(name, shape, seed):
    loss, grad, kind = LOSSES[name]
    rng = np.random.default_rng(seed)
    y = targets(rng, shape, kind)
    y_hat = rng.uniform(0.2, 1.5, size=shape)  # positive: log-output CE needs it
    analytic = grad(y_hat, y)
    assert analytic.shape == shape
    assert_close(analytic, numerical_gradient(lambda v: loss(v, y), y_hat), atol=ATOL, what=name)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0], [-1000.0, 0.0]])
    p = np.array([[1.0, 0.0], [1.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is harmless
        assert losses.softmax_cross_entropy(z, p) == pytest.approx(500.0)


def test_loss_shape_mismatch():
    with pytest.raises(ValueError, match=r"y has shape \(2, 3\), expected \(2, 4\)"):
        losses.squared_error(np.zeros((2, 4)), np.zeros((2, 3)))


# MLP --------------------------------------------------------------------------------------

NETWORKS = {
    "sigmoid, plain": dict(widths=[3, 5, 4, 2], g=SIGMOID, init="gaussian"),
    "tanh, plain": dict(widths=[4, 4, 4, 4, 3], g=TANH, init="glorot"),
    "relu, identity shortcuts": dict(widths=[4, 4, 4, 4, 4], g=RELU, skip_every=2),
    "relu, projection shortcuts": dict(widths=[3, 5, 4, 6, 2], g=RELU, skip_every=2),
    "leaky relu, long shortcut": dict(widths=[2, 3, 3, 3, 3], g=LEAKY_RELU, skip_every=3),
}


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("batch", [1, 6])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_mlp_gradient(name, batch, seed):
    rng = np.random.default_rng(seed)
    net = with_random_biases(build_mlp(rng, **NETWORKS[name]), rng)
    x = rng.normal(size=(batch, net.widths[0]))
    y = rng.normal(size=(batch, net.widths[-1]))
    diffs = check_network(net, x, lambda y_hat: losses.squared_error(y_hat, y),
                          lambda y_hat: losses.squared_error_grad(y_hat, y), atol=ATOL)
    assert set(diffs) == {"x", *net.param_names()}


def test_mlp_gradients_with_softmax_cross_entropy_output():
    rng = np.random.default_rng(7)
    net = build_mlp(rng, [3, 6, 6, 4], TANH, skip_every=2)
    x, p = rng.normal(size=(5, 3)), targets(rng, (5, 4), "one-hot")
    check_network(net, x, lambda z: losses.softmax_cross_entropy(z, p),
                  lambda z: losses.softmax_cross_entropy_grad(z, p), atol=ATOL)


def test_mlp_gradient_shapes_and_deltas():
    rng = np.random.default_rng(3)
    net = build_mlp(rng, [3, 5, 4, 2], TANH, skip_every=2)
    fwd = net.forward(rng.normal(size=(7, 3)))
    grads = net.backward(fwd, np.ones((7, 2)))
    for l, layer in enumerate(net.layers, start=1):
        assert grads.W[l].shape == layer.W.shape and grads.b[l].shape == layer.b.shape
        assert grads.delta[l].shape == fwd.z[l].shape == (7, net.widths[l])
        assert_close(grads.b[l], grads.delta[l].sum(axis=0), atol=1e-12, what="grad_b = sum delta")
    assert [g.shape for g in grads.a] == [(7, n) for n in net.widths]


def test_mlp_float32_stays_float32():
    net = build_mlp(np.random.default_rng(0), [4, 8, 8, 2], skip_every=2, dtype=np.float32)
    fwd = net.forward(np.ones((3, 4), dtype=np.float32))
    grads = net.backward(fwd, np.ones((3, 2), dtype=np.float32))
    assert {a.dtype for a in fwd.a} == {np.dtype(np.float32)}
    assert {g.dtype for g in grads.W[1:]} == {np.dtype(np.float32)}


@pytest.mark.parametrize("layers, message", [
    ([Layer(np.zeros((4, 3)), np.zeros(4)), Layer(np.zeros((2, 5)), np.zeros(2))],
     r"W_2 has shape \(2, 5\), expected \(2, 4\)"),
    ([Layer(np.zeros((4, 3)), np.zeros(3))], r"b_1 has shape \(3,\), expected \(4,\)"),
    ([Layer(np.zeros((4, 3)), np.zeros(4), skip=0)],
     r"layer 1: an identity shortcut needs a_0 of width 4; got width 3"),
    ([Layer(np.zeros((4, 3)), np.zeros(4), skip=0, P=np.zeros((4, 4)))],
     r"P_1 has shape \(4, 4\), expected \(4, 3\)"),
    ([Layer(np.zeros((3, 3)), np.zeros(3), skip=1)], r"must come from a_j with j < 1"),
])
def test_mlp_shape_errors_name_got_and_expected(layers, message):
    with pytest.raises(ValueError, match=message):
        MLP(layers)


def test_forward_checks_the_input():
    net = build_mlp(np.random.default_rng(0), [3, 2])
    with pytest.raises(ValueError, match=r"x has shape \(5, 4\), expected \(batch, 3\)"):
        net.forward(np.zeros((5, 4)))


def test_identity_output_and_no_shortcut_is_a_linear_map():
    """A one-layer identity network is z = W x + b: a sanity check of the wiring."""
    rng = np.random.default_rng(0)
    net = build_mlp(rng, [3, 2], IDENTITY)
    x = rng.normal(size=(4, 3))
    W, b = net.layers[0].W, net.layers[0].b
    assert_close(net.forward(x).a[-1], x @ W.T + b, atol=1e-15, what="linear net")


# Initialisation and the checker itself ----------------------------------------------------

@pytest.mark.parametrize("scheme, variance", [
    ("gaussian", lambda n_in, n_out: 1 / n_in),
    ("standard", lambda n_in, n_out: 1 / (3 * n_in)),
    ("glorot", lambda n_in, n_out: 2 / (n_in + n_out)),
    ("he", lambda n_in, n_out: 2 / n_in),
    ("orthogonal", lambda n_in, n_out: 1 / n_in),  # square: rows of norm 1
])
def test_initialisation_variances(scheme, variance):
    n_in = n_out = 400
    W = init_weights(np.random.default_rng(0), n_out, n_in, scheme)
    # 160,000 draws: the sample variance is within a few percent of the variance
    assert W.var() == pytest.approx(variance(n_in, n_out), rel=0.03)


def test_unknown_scheme_lists_the_known_ones():
    with pytest.raises(ValueError, match="orthogonal"):
        init_weights(np.random.default_rng(0), 2, 2, "xavier")
    assert "he" in SCHEMES


def test_the_checker_catches_a_wrong_gradient_and_a_wrong_shape():
    with pytest.raises(AssertionError, match=r"max \|analytic - numeric\| = 1\.000e-03"):
        assert_close(np.zeros(3), np.array([0.0, 1e-3, 0.0]), atol=1e-8, what="g")
    with pytest.raises(AssertionError, match=r"shape \(3,\).*\(1, 3\)"):
        assert_close(np.zeros(3), np.zeros((1, 3)), atol=1, what="g")
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: float(v.sum()), np.zeros(2, dtype=np.float32))


@pytest.mark.parametrize("options", [
    {}, {"branch_scale": 0.3}, {"shortcut": 0.5}, {"g": TANH, "init": "glorot"}])
@pytest.mark.parametrize("batch", [1, 5])
def test_residual_mlp_gradients(options, batch):
    rng = np.random.default_rng(11)
    net = with_random_biases(build_residual_mlp(rng, 4, 3, **options), rng)
    x, y = rng.normal(size=(batch, 4)), rng.normal(size=(batch, 4))
    check_network(net, x, lambda y_hat: losses.squared_error(y_hat, y),
                  lambda y_hat: losses.squared_error_grad(y_hat, y), atol=ATOL)


def test_residual_mlp_is_x_plus_branches():
    rng = np.random.default_rng(12)
    net = build_residual_mlp(rng, 3, 2, shortcut=0.5)
    x = rng.normal(size=(2, 3))
    expected = x
    for k in range(2):
        (W_a, b_a), (W_b, b_b) = [(layer.W, layer.b) for layer in net.layers[2 * k:2 * k + 2]]
        expected = 0.5 * expected + RELU(expected @ W_a.T + b_a) @ W_b.T + b_b
    assert_close(net.forward(x).a[-1], expected, atol=1e-14, what="residual stack")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_keep_freed_memory_takes_effect_on_glibc():
    assert keep_freed_memory() is True



# Stacks of networks --------------------------------------------------------------------

@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("shared_input", [True, False])
def test_a_stack_computes_each_network_as_it_would_alone(name, shared_input):
    """Independent computation: the stacked forward and backward against each network run
    on its own, every array."""
    rng = np.random.default_rng(21)
    nets = [with_random_biases(build_mlp(rng, **NETWORKS[name]), rng) for _ in range(3)]
    stack = MLP.stack(nets)
    batch, n_0, n_N = 4, nets[0].widths[0], nets[0].widths[-1]
    x = rng.normal(size=(batch, n_0) if shared_input else (3, batch, n_0))
    grad_out = rng.normal(size=(3, batch, n_N))
    fwd = stack.forward(x)
    grads = stack.backward(fwd, grad_out)
    for i, net in enumerate(nets):
        alone_fwd = net.forward(x if shared_input else x[i])
        alone = net.backward(alone_fwd, grad_out[i])
        assert_close(fwd.a[-1][i], alone_fwd.a[-1], atol=1e-13, what=f"output of net {i}")
        for param in net.param_names():
            assert grads.param(param).shape == (3, *net.param(param).shape)
            assert_close(grads.param(param)[i], alone.param(param), atol=1e-13,
                         what=f"dL/d{param} of net {i}")
        assert_close(grads.a[0][i], alone.a[0], atol=1e-13, what=f"dL/dx of net {i}")


def test_a_stacks_gradient_against_central_differences():
    """The loss of a stack is the sum of its networks' losses: each network's parameters get
    their own network's gradient, checked by finite differences on the stacked arrays."""
    rng = np.random.default_rng(22)
    nets = [with_random_biases(build_residual_mlp(rng, 3, 2, n_in=2, n_out=2), rng)
            for _ in range(2)]
    stack = MLP.stack(nets)
    x, y = rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 5, 2))
    fwd = stack.forward(x)
    losses_per_net = losses.squared_error(fwd.a[-1], y)
    assert losses_per_net.shape == (2,)
    grads = stack.backward(fwd, losses.squared_error_grad(fwd.a[-1], y))
    for name in stack.param_names():
        numeric = numerical_gradient(lambda p, name=name: float(np.sum(losses.squared_error(
            stack.with_param(name, p).forward(x).a[-1], y))), stack.param(name))
        assert grads.param(name).shape == stack.param(name).shape
        assert_close(grads.param(name), numeric, atol=ATOL, rtol=1e-6,
                     what=f"stacked dL/d{name}")


def test_only_networks_of_one_architecture_stack():
    rng = np.random.default_rng(23)
    with pytest.raises(ValueError, match="network 1 differs from network 0"):
        MLP.stack([build_mlp(rng, [2, 3, 1]), build_mlp(rng, [2, 3, 1], skip_every=None,
                                                        g=TANH)])
    stack = MLP.stack([build_mlp(rng, [2, 3, 1]) for _ in range(2)])
    with pytest.raises(ValueError, match=r"x has shape \(3, 5, 2\), expected \(2, batch, 2\)"):
        stack.forward(np.zeros((3, 5, 2)))


def test_sgd_on_a_stack_steps_each_network_with_its_own_rate():
    """Independent computation: the same updates, written out per network and per array."""
    from snippets.bp.optim import SGD

    rng = np.random.default_rng(24)
    nets = [build_residual_mlp(rng, 3, 2, n_in=2, n_out=1) for _ in range(3)]
    copies = [[(layer.W.copy(), layer.b.copy()) for layer in net.layers] for net in nets]
    lr = np.array([0.1, 0.01, 0.0])
    stack = MLP.stack(nets)
    opt = SGD(stack, lr=lr, momentum=0.5)
    x, y = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 1))
    grads = []
    for _ in range(2):
        fwd = stack.forward(x)
        grads.append(stack.backward(fwd, losses.squared_error_grad(fwd.a[-1], y)))
        opt.step(grads[-1])
    for i in range(3):
        for l, (W, b) in enumerate(copies[i], start=1):
            gW1, gW2 = grads[0].W[l][i], grads[1].W[l][i]
            expected = W - lr[i] * gW1 - (0.5 * lr[i] * gW1 + lr[i] * gW2)
            assert_close(stack.layers[l - 1].W[i], expected, atol=1e-14, what=f"W{l} of {i}")
            gb1, gb2 = grads[0].b[l][i], grads[1].b[l][i]
            expected = b - lr[i] * gb1 - (0.5 * lr[i] * gb1 + lr[i] * gb2)
            assert_close(stack.layers[l - 1].b[i], expected, atol=1e-14, what=f"b{l} of {i}")
    with pytest.raises(ValueError, match=r"lr has shape \(2,\), expected \(\) or the stack's"):
        SGD(stack, lr=np.ones(2))


# What a mutation run of snippets/bp found unpinned --------------------------------------
# mutmut (configured in pyproject.toml) changed the core one token at a time; these tests
# kill the mutants that changed a result, a dtype, a default or a message and survived.

def test_builders_draw_every_array_from_the_stream_in_the_documented_order():
    """Independent construction: the same generator, the draws written out in the order the
    docstrings give; every array, activation, shortcut and dtype compared exactly."""
    for dtype in (np.float64, np.float32):
        net = build_residual_mlp(np.random.default_rng(31), 3, 2, TANH, init="glorot",
                                 branch_scale=0.5, shortcut=0.7, n_in=2, n_out=4, dtype=dtype)
        rng = np.random.default_rng(31)
        expected = [(init_weights(rng, 3, 2, "glorot"), TANH, None, None)]
        for k in range(2):
            W_a = init_weights(rng, 3, 3, "glorot")
            W_b = 0.5 * init_weights(rng, 3, 3, "glorot")
            expected += [(W_a, TANH, None, None), (W_b, IDENTITY, 1 + 2 * k, 0.7 * np.eye(3))]
        expected.append((init_weights(rng, 4, 3, "glorot"), IDENTITY, None, None))
        mlp = build_mlp(np.random.default_rng(32), [2, 3, 3, 4, 4], TANH, init="standard",
                        gain=1.5, out_g=SIGMOID, skip_every=2, dtype=dtype)
        rng = np.random.default_rng(32)
        W1, W2 = (init_weights(rng, 3, n_in, "standard", gain=1.5) for n_in in (2, 3))
        P2 = init_weights(rng, 3, 2, "glorot")
        W3, W4 = (init_weights(rng, 4, n_in, "standard", gain=1.5) for n_in in (3, 4))
        P4 = init_weights(rng, 4, 3, "glorot")
        expected_mlp = [(W1, TANH, None, None), (W2, TANH, 0, P2), (W3, TANH, None, None),
                        (W4, SIGMOID, 2, P4)]
        for built, layers in ((net, expected), (mlp, expected_mlp)):
            assert len(built.layers) == len(layers)
            for l, (layer, (W, g, skip, P)) in enumerate(zip(built.layers, layers,
                                                             strict=True), start=1):
                assert layer.W.dtype == layer.b.dtype == dtype, (dtype, l)
                assert_close(layer.W, W.astype(dtype), atol=0, what=f"W{l}")
                assert not layer.b.any() and layer.b.shape == (W.shape[0],)
                assert layer.g is g and layer.skip == skip, l
                if P is None:
                    assert layer.P is None, l
                else:
                    assert layer.P.dtype == dtype
                    assert_close(layer.P, P.astype(dtype), atol=0, what=f"P{l}")
        assert mlp.param_names() == ["W1", "b1", "W2", "b2", "P2", "W3", "b3", "W4", "b4", "P4"]
    # skip_every = 3 in four layers: one shortcut, from a_0 into layer 3
    assert [layer.skip for layer in build_mlp(np.random.default_rng(0), [2] * 5,
                                              skip_every=3).layers] == [None, None, 0, None]


def test_zero_last_starts_every_block_as_the_identity_with_the_same_draws():
    plain = build_residual_mlp(np.random.default_rng(0), 3, 2)
    assert [layer.P for layer in plain.layers] == [None] * 4   # identity shortcuts: no P
    zero = build_residual_mlp(np.random.default_rng(33), 3, 2, zero_last=True)
    drawn = build_residual_mlp(np.random.default_rng(33), 3, 2)
    for k in range(2):
        assert_close(zero.layers[2 * k].W, drawn.layers[2 * k].W, atol=0, what="W_a")
        assert zero.layers[2 * k + 1].W.shape == (3, 3)
        assert not zero.layers[2 * k + 1].W.any()
    x = np.random.default_rng(34).normal(size=(4, 3))
    assert_close(zero.forward(x).a[-1], x, atol=0, what="identity blocks")


def test_init_defaults_are_he_gain_one_float64():
    W = init_weights(np.random.default_rng(35), 4, 3)
    assert W.dtype == np.float64
    assert_close(W, init_weights(np.random.default_rng(35), 4, 3, "he", gain=1.0), atol=0)


@pytest.mark.parametrize("n_out, n_in", [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_is_the_sign_fixed_qr_of_a_gaussian_for_each_matrix_of_a_stack(n_out, n_in):
    """Independent computation, one matrix at a time: Q of A = QR with the signs of diag(R)
    moved into Q (what makes the draw Haar-distributed), transposed when n_out < n_in."""
    W = init_weights(np.random.default_rng(36), n_out, n_in, "orthogonal", gain=2.0,
                     stack=(3,))
    A = np.random.default_rng(36).normal(size=(3, max(n_out, n_in), min(n_out, n_in)))
    assert W.shape == (3, n_out, n_in)
    for i in range(3):
        Q, R = np.linalg.qr(A[i])
        Q = Q * np.sign(np.diag(R))
        assert_close(W[i], 2.0 * (Q if n_out >= n_in else Q.T), atol=1e-14, what=f"W[{i}]")


def test_sgd_on_one_network_defaults_to_momentum_0_9():
    from snippets.bp.optim import SGD

    rng = np.random.default_rng(37)
    net = build_mlp(rng, [2, 3, 1], TANH)
    names = net.param_names()
    before = {name: net.param(name).copy() for name in names}
    opt = SGD(net, lr=0.1)
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    grads = []
    for _ in range(2):
        fwd = net.forward(x)
        grads.append(net.backward(fwd, losses.squared_error_grad(fwd.a[-1], y)))
        opt.step(grads[-1])
    for name in names:
        g1, g2 = grads[0].param(name), grads[1].param(name)
        expected = before[name] - 0.1 * g1 - (0.9 * 0.1 * g1 + 0.1 * g2)
        assert_close(net.param(name), expected, atol=1e-15, what=name)


def test_check_network_defaults_catch_one_part_in_ten_thousand_and_name_the_array():
    rng = np.random.default_rng(38)
    net = with_random_biases(build_mlp(rng, [3, 4, 2], TANH), rng)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))

    def loss(y_hat):
        return losses.squared_error(y_hat, y)

    def grad(y_hat):
        return losses.squared_error_grad(y_hat, y)

    assert sorted(check_network(net, x, loss, grad)) == ["W1", "W2", "b1", "b2", "x"]
    with pytest.raises(AssertionError, match=r"^dL/dx: "):
        check_network(net, x, loss, lambda y_hat: (1 + 1e-4) * grad(y_hat))

    class OffInW2(MLP):
        def backward(self, fwd, grad_out):
            grads = super().backward(fwd, grad_out)
            grads.W[2] = grads.W[2] * (1 + 1e-4)
            return grads

    with pytest.raises(AssertionError, match=r"^dL/dW2: "):
        check_network(OffInW2(net.layers), x, loss, grad)
    # rtol is passed through: a loss a million times larger has finite differences off by
    # about 1e-4 in absolute terms, within rtol = 1e-6 of gradients of order 1e6
    check_network(net, x, lambda y_hat: 1e6 * loss(y_hat), lambda y_hat: 1e6 * grad(y_hat))
    # a step of 1e-2 is too coarse for the default tolerances: the step is passed through
    with pytest.raises(AssertionError, match=r"^dL/dx: "):
        check_network(net, x, loss, grad, h=1e-2)


def test_finite_differences_use_the_step_given_and_refuse_vector_functions():
    # the central difference of v^3 is exactly 3 v^2 + h^2
    g = numerical_gradient(lambda v: float(np.sum(v ** 3)), np.array([1.0, 2.0]), h=0.5)
    assert_close(g, np.array([3.25, 12.25]), atol=1e-14, what="central difference of v^3")
    with pytest.raises(ValueError, match=r"scalar function; f\(x\) has shape \(2,\), expected"):
        numerical_gradient(lambda v: v * 2, np.ones(2))


def test_the_checker_reports_where_and_fails_on_nan():
    with pytest.raises(AssertionError, match=r"worst at index \(1,\), shape \(3,\)"):
        # rtol makes the bound differ per entry: index 1 is over it, index 0 (bigger) is not
        assert_close(np.array([10.5, 0.0, 0.0]), np.array([10.0, 1e-3, 0.0]), atol=0,
                     rtol=0.1, what="g")
    with pytest.raises(AssertionError, match="g: "):
        assert_close(np.zeros(2), np.array([0.0, np.nan]), atol=1.0, what="g")
    assert assert_close(np.zeros(0), np.zeros(0), atol=0) == 0.0
    with pytest.raises(AssertionError, match=r"^max \|analytic - numeric\| = 1\.000e\+00"):
        assert_close(np.zeros(1), np.ones(1), atol=0)       # no name: the message starts plain
    x = np.array([1.0, -2.0])
    assert max_abs_diff(x, x) == 0.0
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(3, 1\): they must be equal"):
        max_abs_diff(np.ones(3), np.ones((3, 1)))


def test_derivative_conventions_at_the_kink_and_integer_input():
    zero = np.zeros(1)
    assert RELU.df(zero)[0] == 0.0                  # documented: 0 at the kink, as PyTorch
    assert LEAKY_RELU.df(zero)[0] == 0.01           # documented: 0 counts as negative
    z = np.array([-2, 0, 3])
    for g in ACTIVATIONS.values():
        assert g(z).dtype == g.df(z).dtype == np.float64, g.name
        assert_close(g(z), g(z.astype(np.float64)), atol=0, what=g.name)
    z32 = np.array([[-1.0, 2.0]], dtype=np.float32)
    assert RELU.jacobian(z32).dtype == np.float32
    assert dense_jacobian_weights(z32[0], 3).dtype == np.float32
    with pytest.raises(ValueError, match=r"jacobian needs z of shape \(n,\) or \(batch, n\); "
                                         r"got \(1, 1, 2\)"):
        RELU.jacobian(z32[None])
    with pytest.raises(ValueError, match=r"a has shape \(1, 2\), expected \(n_in,\)"):
        dense_jacobian_weights(z32, 3)
    with pytest.raises(ValueError, match=r"a has shape \(4, 2\), expected \(batch, 3\)"):
        dense_backward(np.zeros((2, 3)), np.zeros((4, 2)), np.zeros((4, 2)))


def test_losses_keep_the_precision_they_get_and_stay_finite_row_by_row():
    for dtype, expected in ((np.float16, np.float32), (np.float32, np.float32),
                            (np.int64, np.float64), (np.float64, np.float64)):
        y_hat, y = np.array([[1, 2]], dtype=dtype), np.array([[0, 2]], dtype=dtype)
        assert losses.squared_error_grad(y_hat, y).dtype == expected, dtype
        assert losses.softmax(y_hat).dtype == expected, dtype
    assert type(losses.squared_error(np.ones((2, 3)), np.zeros((2, 3)))) is float
    # each row shifted by its own maximum: no overflow in row 0, no underflow in row 1
    s = losses.softmax(np.array([[1000.0, 999.0], [0.0, -1.0]]))
    e = np.exp(-1.0)
    assert_close(s, np.array([[1, e], [1, e]]) / (1 + e), atol=1e-15, what="softmax rows")
    with pytest.raises(ValueError, match=r"^log_output_cross_entropy needs x > 0 everywhere$"):
        losses.log_output_cross_entropy(np.array([0.0, 1.0]), np.array([0.0, 1.0]))


def test_network_messages_name_the_array_and_the_layer():
    rng = np.random.default_rng(39)
    net = build_mlp(rng, [3, 3, 3, 3, 3], skip_every=2)
    fwd = net.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"grad_out has shape \(2, 2\), expected \(2, 3\)"):
        net.backward(fwd, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^layer 4 has a shortcut from a_2, before a_3"):
        net.tail(3)
    assert [layer.skip for layer in net.tail(2).layers] == [None, 0]
    stack = MLP.stack([build_mlp(rng, [2, 3, 1]) for _ in range(2)])
    with pytest.raises(ValueError, match=r"x has shape \(5, 4\), expected \(batch, 2\)"):
        stack.forward(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="only networks of one architecture stack"):
        MLP.stack([build_mlp(rng, [2, 3, 1]), build_mlp(rng, [2, 3, 1], TANH)])
    stack32 = MLP.stack([build_mlp(rng, [2, 3, 1], dtype=np.float32) for _ in range(2)])
    grads = stack32.backward(stack32.forward(np.ones((4, 2), dtype=np.float32)),
                             np.ones((2, 4, 1), dtype=np.float32))
    assert {grads.param(name).dtype for name in stack32.param_names()} == {np.dtype("float32")}
