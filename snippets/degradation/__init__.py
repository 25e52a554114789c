"""Code of the chapter docs/degradation.md."""
