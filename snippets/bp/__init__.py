"""The numeric core: small, batched NumPy code, each backward beside its forward."""
