"""Code of the chapter docs/skip-guarantees.md."""
