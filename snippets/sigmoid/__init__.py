"""Code of the chapter docs/sigmoid.md."""
