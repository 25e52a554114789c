"""Build machinery of the site (an MkDocs plugin); not needed to read or run the chapters."""
