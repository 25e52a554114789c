"""Code of the chapter docs/shattered-gradients.md."""
