"""Solutions to the exercises of docs/sigmoid.md. The page runs these sections in
the chapter's session, after worked.py; imported as a module (by the tests), the
names they use come from worked.py first."""

from snippets.sigmoid.worked import np, sigmoid, sigmoid_prime, x

# --8<-- [start:layers]
best = sigmoid_prime(x).max()           # over the grid of 2001 points
at = x[np.argmax(sigmoid_prime(x))]
layers = int(np.ceil(np.log(1e-6) / np.log(best)))
print(f"largest σ' on the grid: {best} (at x = {at})")
print(f"layers until the factor {best}^L is below 1e-6: {layers}")
print(f"check: {best}^{layers - 1} = {best ** (layers - 1):.1e}, "
      f"{best}^{layers} = {best ** layers:.1e}")
# --8<-- [end:layers]


# --8<-- [start:tanh]
gap_tanh = np.max(np.abs(np.tanh(x) - (2 * sigmoid(2 * x) - 1)))
gap_tanh_prime = np.max(np.abs((1 - np.tanh(x) ** 2)
                               - 4 * sigmoid_prime(2 * x)))
print(f"max |tanh(x) - (2σ(2x) - 1)|:   {gap_tanh:.1e}")
print(f"max |tanh'(x) - 4σ'(2x)|:       {gap_tanh_prime:.1e}")
# --8<-- [end:tanh]


# --8<-- [start:rounds_to_one]
def first_one(dtype, lo=0.0, hi=100.0):
    """The smallest x (to within 1e-9) at which sigmoid(x) rounds to 1."""
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if sigmoid(dtype(mid)) == 1 else (mid, hi)
    return hi


for dtype, bits in [(np.float32, 24), (np.float64, 53)]:
    print(f"{dtype.__name__}: σ(x) == 1 from x = {first_one(dtype):.2f}; "
          f"e^-x < 2^-{bits} from x = {bits * np.log(2):.2f}")
# --8<-- [end:rounds_to_one]
