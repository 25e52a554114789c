// The search index (a third of a chapter's first visit) loads when the reader reaches for
// search, not with every page. Material requests it with XMLHttpRequest as it starts; that one
// request is held here until the search box is focused, its label is pressed, a search key is
// typed, or the address asks for a search (?q=, ?h=), and then sent. Loaded in <head>, before
// Material's bundle.
(() => {
  const INDEX = /\/search\/search_index\.json$/;
  const held = [];
  let wanted = /[?&][qh]=/.test(location.search);

  const send = XMLHttpRequest.prototype.send;
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.bpIndex = INDEX.test(new URL(url, location.href).pathname);
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (this.bpIndex && !wanted) {
      held.push(() => send.apply(this, args));
      return undefined;
    }
    return send.apply(this, args);
  };

  function release() {
    if (wanted) return;
    wanted = true;
    for (const go of held.splice(0)) go();
  }
  const reaches = (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest(".md-search, label[for='__search']") || target.id === "__search") {
      release();
    }
  };
  document.addEventListener("focusin", reaches, true);
  document.addEventListener("pointerdown", reaches, true);
  document.addEventListener("change", reaches, true);
  // Material's own search keys: f, s and / open search from anywhere on the page.
  document.addEventListener("keydown", (event) => {
    if (["f", "s", "/"].includes(event.key) && !event.ctrlKey && !event.metaKey) release();
  }, true);
})();
