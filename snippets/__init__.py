"""Every line of code on the site lives here.

* ``snippets.bp``: the small NumPy library the chapters share (activations, layers, losses,
  gradient checks).
* ``snippets.<chapter_slug>``: the code of ``docs/<chapter-slug>.md``, in named sections that the
  page includes and runs at build time; ``tests/test_<chapter_slug>.py`` imports the same files.
* ``snippets.figures``: the one helper that turns a Matplotlib figure into a page figure.
* ``snippets.sitebuild``: the MkDocs plugin that runs, caches and checks all of the above.
"""
