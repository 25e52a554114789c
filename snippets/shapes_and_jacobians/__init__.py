"""Code of the chapter docs/shapes-and-jacobians.md."""
