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
  // (A wide equation scrolls sideways: reading.js marks it and lets the keyboard reach it.)
  // Math inside HTML that arithmatex never saw: notebook Markdown cells (rendered by
  // nbconvert) write it as $..$, figure captions (printed by snippets) as \( \) and \[ \].
  typesetWithin(body, ".jupyter-wrapper .jp-RenderedMarkdown", [
    { left: "$$", right: "$$", display: true },
    { left: "$", right: "$", display: false },
  ]);
  typesetWithin(body, "figcaption", [
    { left: "\\(", right: "\\)", display: false },
    { left: "\\[", right: "\\]", display: true },
  ]);
});

function typesetWithin(body, selector, delimiters) {
  for (const element of body.querySelectorAll(selector)) {
    renderMathInElement(element, { delimiters, throwOnError: false });
  }
}
