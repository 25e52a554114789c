"""The sigmoid, worked end to end (docs/sigmoid.md runs these sections, in this order).

tests/test_sigmoid.py imports this file and checks what the page claims from its variables.
"""

# --8<-- [start:setup]
import warnings
from decimal import Decimal, localcontext

import numpy as np

from snippets.bp.activations import sigmoid, sigmoid_prime
from snippets.figures import show, subplots, table

x = np.linspace(-10.0, 10.0, 2001)  # the grid every check below uses
# --8<-- [end:setup]

# --8<-- [start:symmetry]
gap_symmetry = np.max(np.abs(sigmoid(-x) - (1 - sigmoid(x))))
print(f"max |σ(-x) - (1 - σ(x))| over {x.size} points: {gap_symmetry:.1e}")
# --8<-- [end:symmetry]

# --8<-- [start:derivative]
h = 1e-5
central = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
gap_derivative = np.max(np.abs(sigmoid_prime(x) - central))
s_x, s_minus_x = sigmoid(x), sigmoid(-x)
gap_forms = np.max(np.abs(s_x * s_minus_x - s_x * (1 - s_x)))
print(f"max |σ'(x) - central difference, h = {h:g}|: {gap_derivative:.1e}")
print(f"max |σ(x)σ(-x) - σ(x)(1 - σ(x))|:           {gap_forms:.1e}")
# --8<-- [end:derivative]

# --8<-- [start:overflow]
def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def warnings_of(f, z):
    """f(z), and the messages of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = f(z)
    return value, [str(w.message) for w in caught]


z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
naive, naive_warnings = warnings_of(naive_sigmoid, z)
stable, stable_warnings = warnings_of(sigmoid, z)
with np.printoptions(precision=4):
    print("z:             ", z)
    print("naive formula: ", naive)
    print("stable sigmoid:", stable)
print("warnings, naive: ", naive_warnings)
print("warnings, stable:", stable_warnings)
# --8<-- [end:overflow]

# --8<-- [start:tails]
def exact_sigmoid_prime(t):
    """σ'(t) = e^-t / (1 + e^-t)^2, in 50-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 50
        e = Decimal(-t).exp()
        return float(e / (1 + e) ** 2)


rel_err, rows = {}, []
for t in [1.0, 10.0, 20.0, 30.0, 36.0, 40.0]:
    s = sigmoid(t)
    one_minus, mirrored = s * (1 - s), s * sigmoid(-t)
    exact = exact_sigmoid_prime(t)
    rel_err[t] = (abs(one_minus - exact) / exact,
                  abs(mirrored - exact) / exact)
    rows.append([f"{t:.0f}", f"{one_minus:.4e}", f"{mirrored:.4e}",
                 f"{exact:.4e}", *(f"{err:.1e}" for err in rel_err[t])])
table(rows, header=["x", "σ(x)(1−σ(x))", "σ(x)σ(−x)", "exact",
                    "rel. error, 1−σ form", "rel. error, σ(−x) form"])
# --8<-- [end:tails]

# --8<-- [start:plot]
grid = np.linspace(-8.0, 8.0, 401)
fig, ax = subplots(figsize=(4.8, 3.0))
# Plain text, not TeX: TeX draws a prime as a small superscript
ax.plot(grid, sigmoid(grid), label="σ(x)")
ax.plot(grid, sigmoid_prime(grid), label="σ′(x)")
ax.axhline(0.25, color="0.5", linestyle=":", linewidth=1)
ax.annotate("σ′(0) = 1/4", xy=(0, 0.25), xytext=(1.6, 0.4),
            arrowprops={"arrowstyle": "->", "color": "0.3"})
ax.set_xlabel("x")
ax.set_ylim(-0.02, 1.02)
ax.legend(loc="upper left")
show(
    fig,
    alt="Line plot over x from -8 to 8: the sigmoid rises from 0 to 1, "
    "through 0.5 at x = 0; its derivative is a bell curve peaking at "
    "0.25 at x = 0 and near 0 beyond |x| = 6.",
    caption="The sigmoid and its derivative. The derivative never exceeds "
    "1/4, its value at x = 0: in a back-propagated gradient, the sigmoid's "
    "own factor is at most 1/4.",
)
# --8<-- [end:plot]
