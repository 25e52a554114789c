// Interactive figures. A figure with data-explorer holds a static drawing of its default state
// (what a reader without JavaScript, a printout and the notebook show); when it comes into
// view, this script fetches its definition (every state's results, computed by the site's
// NumPy code at build time), loads Observable Plot and D3 from the site, adds the controls
// and draws the chosen state. Nothing is computed here: a state is looked up, never modelled.
const SCRIPT = document.currentScript?.src
  ?? [...document.scripts].find((s) => s.src.endsWith("assets/javascripts/explorer.js")).src;
const ROOT = SCRIPT.replace(/assets\/javascripts\/explorer\.js.*$/, "");
let plotLoaded = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = ROOT + src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

function loadPlot() {  // once per visit, whatever page comes first
  plotLoaded ??= loadScript("assets/vendor/d3/d3.min.js")
    .then(() => loadScript("assets/vendor/plot/plot.umd.min.js"));
  return plotLoaded;
}

function format(control, value) {
  return (control.format ?? "{}").replace("{}", value);
}

// Numbers as the site's static figures write them: plain between 0.001 and 10000, else as
// 1.5e−7 (full-size characters, no superscripts), at most four significant digits.
function fmt(value) {
  if (value === null || value === undefined) return "–";
  const magnitude = Math.abs(value);
  if (magnitude === 0 || (magnitude >= 1e-3 && magnitude < 1e4)) {
    return String(+value.toPrecision(4));
  }
  const [mantissa, exponent] = value.toExponential(3).split("e");
  return `${+mantissa}e${+exponent}`.replace(/-/g, "−");
}

function palette() {
  return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
}

function buildControls(figure, definition, state, redraw) {
  const box = document.createElement("div");
  box.className = "bp-controls";
  definition.controls.forEach((control, i) => {
    const id = `${figure.id}-${control.name}`;
    const wrapper = document.createElement("div");
    wrapper.className = "bp-control";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = control.label;
    wrapper.append(label);
    const index = Math.max(0, control.values.map(String).indexOf(state[i]));
    if (control.values.every((v) => typeof v === "number")) {
      const input = document.createElement("input");
      Object.assign(input, { type: "range", id, min: 0, max: control.values.length - 1, step: 1,
                             value: index });
      const output = document.createElement("output");
      output.htmlFor = id;
      const update = () => {
        const value = control.values[+input.value];
        state[i] = String(value);
        output.textContent = format(control, value);
        input.setAttribute("aria-valuetext", format(control, value));
      };
      update();
      input.addEventListener("input", () => { update(); redraw(); });
      wrapper.append(input, output);
    } else {
      const select = document.createElement("select");
      select.id = id;
      for (const value of control.values) {
        const option = document.createElement("option");
        option.value = String(value);
        option.textContent = format(control, value);
        select.append(option);
      }
      select.selectedIndex = index;
      select.addEventListener("change", () => { state[i] = select.value; redraw(); });
      wrapper.append(select);
    }
    box.append(wrapper);
  });
  return box;
}

function draw(figure, definition, state, live, status) {
  const key = state.join("|");
  const series = definition.states[key];
  const colours = definition.colours[palette()];
  const names = series.map((s) => s.name);
  const points = series.flatMap((s) => s.x.map((x, j) => ({
    series: s.name, x, y: s.y[j], lo: s.lo?.[j], hi: s.hi?.[j],
  }))).filter((p) => p.y !== null);
  const banded = points.filter((p) => p.lo !== undefined && p.lo !== null);
  const width = Math.max(240, Math.min(live.clientWidth, 720));
  const axis = (spec) => ({ type: spec.scale === "log" ? "log" : "linear", domain: spec.domain,
                             label: spec.label, grid: true, nice: false,
                             tickFormat: spec.scale === "log" ? fmt : undefined });
  const chart = Plot.plot({
    width, height: Math.round(width * (width < 500 ? 0.78 : 0.6)),
    marginLeft: 64, marginBottom: 44,
    style: { fontSize: "14px", background: "transparent", overflow: "visible" },
    x: axis(definition.x), y: axis(definition.y),
    color: { domain: names, range: colours.slice(0, names.length), legend: true },
    marks: [
      Plot.areaY(banded, { x: "x", y1: "lo", y2: "hi", fill: "series", fillOpacity: 0.18 }),
      Plot.line(points, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
      Plot.dot(points, { x: "x", y: "y", fill: "series", r: 2.5,
                         title: (p) => `${p.series}: ${definition.x.label} = ${fmt(p.x)}; `
                           + `${definition.y.label} = ${fmt(p.y)}` }),
    ],
  });
  chart.setAttribute("role", "img");
  const described = definition.controls.map((c, i) => `${c.label} ${format(c, state[i])}`);
  chart.setAttribute("aria-label", `${definition.y.label} against ${definition.x.label}: `
    + `${names.join(", ")}; ${described.join(", ")}`);
  live.replaceChildren(chart);
  live.dataset.state = key;
  figure.bpChart = chart;  // the browser tests read its scales
  status.textContent = `Showing ${described.join(", ")}.`;
}

async function start(figure) {
  const url = new URL(figure.dataset.explorer, location.href);
  const [definition] = await Promise.all([fetch(url).then((r) => r.json()), loadPlot()]);
  const state = definition.default.split("|");
  const live = document.createElement("div");
  live.className = "bp-live";
  const status = document.createElement("p");
  status.className = "bp-state";
  status.setAttribute("aria-live", "polite");
  const redraw = () => draw(figure, definition, state, live, status);
  const controls = buildControls(figure, definition, state, redraw);
  figure.querySelector(".bp-panels").after(controls, live, status);
  figure.classList.add("bp-interactive");
  redraw();
  new MutationObserver(redraw).observe(document.body,
    { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  let width = live.clientWidth;
  new ResizeObserver(() => {
    if (Math.abs(live.clientWidth - width) > 8) { width = live.clientWidth; redraw(); }
  }).observe(live);
  figure.dataset.live = "ready";
}

document$.subscribe(({ body }) => {
  for (const figure of body.querySelectorAll("figure.bp-explorer:not([data-watched])")) {
    figure.dataset.watched = "";
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        observer.disconnect();
        start(figure).catch((error) => {
          figure.dataset.live = "failed";
          console.error(error);
        });
      }
    }, { rootMargin: "600px 0px" });
    observer.observe(figure);
  }
});
