"""Code of the chapter docs/residual-gradient.md."""
