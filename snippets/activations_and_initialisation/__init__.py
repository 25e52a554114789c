"""Code of the chapter docs/activations-and-initialisation.md."""
