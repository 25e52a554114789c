"""The errata page, docs/errata.md: its entries (entries.toml) and the code that checks
and prints them."""
