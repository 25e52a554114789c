"""Code of the chapter docs/residual-ensembles.md."""
