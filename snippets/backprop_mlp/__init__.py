"""Code of the chapter docs/backprop-mlp.md."""
