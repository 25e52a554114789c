"""Code of the chapter docs/products-of-jacobians.md."""
