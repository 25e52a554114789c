"""Code of the chapter docs/jacobian-spectra.md."""
