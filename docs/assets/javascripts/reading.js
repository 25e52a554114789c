// The reader's side of figures and wide blocks, on every page (Material announces each page,
// also after instant navigation, on document$).
document$.subscribe(({ body }) => {
  // Material's search dialog has no accessible name (axe: aria-dialog-name).
  body.querySelector(".md-search[role=dialog]")?.setAttribute("aria-label", "Search");
  // A figure opens at full size over the page; Escape, a click or a tap closes it. Without
  // JavaScript the same link opens the SVG file itself.
  for (const link of body.querySelectorAll("a.bp-zoom")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const dark = document.body.getAttribute("data-md-color-scheme") === "slate";
      const visible = link.querySelector(dark ? "img.bp-dark" : "img.bp-light");
      const dialog = document.createElement("dialog");
      dialog.className = "bp-lightbox";
      dialog.setAttribute("aria-label", "Figure at full size");
      const image = document.createElement("img");
      image.src = dark ? link.dataset.dark : link.getAttribute("href");
      image.alt = visible.alt;
      image.width = visible.width * 2;   // the drawing at twice its size on the page
      dialog.append(image);
      dialog.addEventListener("click", () => dialog.close());
      dialog.addEventListener("close", () => dialog.remove());
      document.body.append(dialog);
      dialog.showModal();
    });
  }
  // Widths are known once fonts (KaTeX's too) have loaded.
  document.fonts.ready.then(markScrolling);
});

// Blocks wider than the page scroll sideways: say so with a shadow at the hidden edge, and
// let the keyboard reach them.
function markScrolling() {
  const blocks = [...document.querySelectorAll(
    ".md-content pre, .md-content div.arithmatex, .md-content .bp-table .bp-scroll")]
    .map((block) => block.querySelector(":scope > code") || block);
  for (const block of blocks) {
    const scrolls = block.scrollWidth > block.clientWidth + 1;
    block.classList.toggle("bp-scrolls", scrolls);
    if (scrolls) block.tabIndex = 0;
  }
}
window.addEventListener("resize", markScrolling);
