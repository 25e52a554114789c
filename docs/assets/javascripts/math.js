// Typeset math with the KaTeX copy served by this site (no CDN).
// pymdownx.arithmatex (generic mode) wraps inline math as <span class="arithmatex">\(..\)</span>
// and display math as <div class="arithmatex">\[..\]</div>. Material's instant navigation swaps
// the page body without a reload and announces it on document$, so typeset on every emission.
document$.subscribe(({ body }) => {
  // Material's search dialog has no accessible name (axe: aria-dialog-name).
  body.querySelector(".md-search[role=dialog]")?.setAttribute("aria-label", "Search");

  for (const element of body.querySelectorAll(".arithmatex:not([data-typeset])")) {
    const tex = element.textContent.trim().slice(2, -2);
    katex.render(tex, element, {
      displayMode: element.tagName === "DIV",
      throwOnError: false, // show the bad TeX in red (the browser tests look for it)
    });
    element.dataset.typeset = "";
  }
  // A wide equation scrolls sideways, and keyboard users must be able to reach it. Its width
  // is known once KaTeX's fonts have loaded.
  document.fonts.ready.then(() => {
    for (const element of body.querySelectorAll("div.arithmatex")) {
      if (element.scrollWidth > element.clientWidth) element.tabIndex = 0;
    }
  });
  // Markdown cells of the companion notebooks (rendered by nbconvert) write math as $..$.
  for (const cell of body.querySelectorAll(".jupyter-wrapper .jp-RenderedMarkdown")) {
    renderMathInElement(cell, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
      ],
      throwOnError: false,
    });
  }
  // Figure captions are HTML printed by snippets; their math uses \( \) delimiters.
  for (const caption of body.querySelectorAll("figcaption")) {
    renderMathInElement(caption, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  }
});
