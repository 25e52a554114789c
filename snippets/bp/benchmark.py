"""Time forward + backward of the core MLP, and of the same network in PyTorch if installed.

    python -m snippets.bp.benchmark [--depth 50] [--width 256] [--batch 128] [--repeat 30]

The network: ReLU layers with He initialisation and squared-error loss, the weights shared
between both implementations, so that the gradients can be compared as well as the times.
PyTorch is never a dependency of the project; without it only our times are printed.

Each configuration runs twice: with the default allocator, then after
:func:`snippets.bp.memory.keep_freed_memory` (what the site build does), which stops glibc
from returning every freed array to the system (see that module).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from snippets.bp.losses import squared_error_grad
from snippets.bp.memory import keep_freed_memory
from snippets.bp.mlp import build_mlp


def _time(step, repeat: int) -> tuple[float, float]:
    for _ in range(3):  # warm-up: allocator, BLAS threads
        step()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        import torch  # optional
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(os.cpu_count() or 1)

    print(f"forward + backward, {args.depth} layers of width {args.width}, batch {args.batch}, "
          f"ReLU, squared error; median (min) of {args.repeat} runs, milliseconds")
    print(f"{'allocator':<10} {'dtype':<8} {'ours':>16} {'torch':>16} {'ours/torch':>10} "
          f"{'max grad diff':>14}")
    for allocator in ("default", "keep"):
        if allocator == "keep" and not keep_freed_memory():
            print("keep_freed_memory() is not available here (not glibc)")
            break
        for dtype in (np.float32, np.float64):
            _compare(args, torch, allocator, dtype)
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
              "max grad diff is relative to the largest entry of each dL/dW_l")
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs")
    return 0


def _compare(args, torch, allocator: str, dtype) -> None:
    """One row of the table: our time, torch's, and how far the gradients agree."""
    rng = np.random.default_rng(0)
    widths = [args.width] * (args.depth + 1)
    net = build_mlp(rng, widths, init="he", dtype=dtype)
    x = rng.normal(size=(args.batch, args.width)).astype(dtype)
    y = rng.normal(size=(args.batch, args.width)).astype(dtype)

    def ours():
        fwd = net.forward(x)
        return net.backward(fwd, squared_error_grad(fwd.a[-1], y))

    ours_ms = _time(ours, args.repeat)
    row = f"{allocator:<10} {np.dtype(dtype).name:<8} {ours_ms[0]:8.1f} ({ours_ms[1]:5.1f})"
    if torch is None:
        print(row + f" {'not installed':>16}")
        return
    Ws = [torch.tensor(layer.W, requires_grad=True) for layer in net.layers]
    bs = [torch.tensor(layer.b, requires_grad=True) for layer in net.layers]
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def theirs():
        a = tx
        for l, (W, b) in enumerate(zip(Ws, bs, strict=True), start=1):
            z = torch.nn.functional.linear(a, W, b)
            a = z if l == args.depth else torch.relu(z)
        loss = 0.5 * ((a - ty) ** 2).sum() / args.batch
        for p in (*Ws, *bs):
            p.grad = None
        loss.backward()

    torch_ms = _time(theirs, args.repeat)
    grads = ours()
    diff = max(float(np.max(np.abs(grads.W[l] - W.grad.numpy())) /
                     (np.max(np.abs(grads.W[l])) + 1e-30))
               for l, W in enumerate(Ws, start=1))
    print(f"{row} {torch_ms[0]:8.1f} ({torch_ms[1]:5.1f}) "
          f"{ours_ms[0] / torch_ms[0]:10.2f} {diff:14.1e}")


if __name__ == "__main__":
    raise SystemExit(main())
