// Measure report pages in headless Chromium: overflow at each width and axe-core (WCAG 2.1 AA).
// Usage: node check.js CHROMIUM WIDTHS PAGE.html [PAGE.html ...]   (WIDTHS like 500,768,1280,print:680,lite:360)
// Prints one JSON object: {results: [{page, width, scrollWidth, innerWidth, clipped, diagrams, violations}]}.
"use strict";
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// Elements whose content reaches beyond their own edge where the reader cannot see it:
// a scroll box or a clipping box whose scrollWidth exceeds its clientWidth.
function measure() {
  const clipped = [];
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (!["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) continue;
    // The screen-reader-only pattern (a 1px box clipped to nothing, e.g. a stacked table's header
    // row whose names every cell repeats) is hidden from sight on purpose, not cut off.
    if (style.clip === "rect(0px, 0px, 0px, 0px)" && el.clientWidth <= 1) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      clipped.push({tag: el.tagName.toLowerCase(), cls: el.className && String(el.className.baseVal ?? el.className),
                    id: el.id, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth});
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, clipped};
}

// Every logic-model diagram on show (figure.diagram svg that is rendered): its scale (rendered
// width over viewBox width), the smallest text as rendered (font size times the scale of the text's
// own coordinate system, and the smallest bounding-box height of a text line), and its right edge
// against its figure's and the window's.
function measureDiagrams() {
  const out = [];
  for (const svg of document.querySelectorAll("figure.diagram svg")) {
    if (svg.getClientRects().length === 0) continue;  // display: none (a drawing for another width)
    const box = svg.getBoundingClientRect();
    const figure = svg.closest("figure").getBoundingClientRect();
    let minFont = Infinity, minHeight = Infinity, texts = 0;
    for (const text of svg.querySelectorAll("text")) {
      const matrix = text.getScreenCTM();
      if (!matrix || text.getClientRects().length === 0) continue;
      const scale = Math.hypot(matrix.a, matrix.b);
      minFont = Math.min(minFont, parseFloat(getComputedStyle(text).fontSize) * scale);
      const lines = text.querySelectorAll("tspan").length ? text.querySelectorAll("tspan") : [text];
      for (const line of lines) minHeight = Math.min(minHeight, line.getBoundingClientRect().height);
      texts += 1;
    }
    out.push({id: svg.getAttribute("aria-describedby"), direction: svg.getAttribute("data-direction"),
              scale: box.width / svg.viewBox.baseVal.width, texts, minFont, minHeight,
              left: box.left, right: box.right, figureRight: figure.right});
  }
  return out;
}

async function main() {
  const [chromium, widthList, ...pages] = process.argv.slice(2);
  // A width like "print:680" measures the page as printed on paper that leaves 680 px; one like
  // "lite:360" measures the page on screen but does not run axe-core (as "print:" does not).
  const widths = widthList.split(",").map(w => {
    const [kind, px] = w.includes(":") ? w.split(":") : ["screen", w];
    return {px: Number(px), print: kind === "print", axe: kind === "screen", label: w.includes(":") ? w : Number(w)};
  });
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run"],
  });
  const results = [];
  try {
    const page = await browser.newPage();
    await page.setJavaScriptEnabled(true);  // the report has no script; axe needs one injected
    for (const file of pages) {
      const url = "file://" + path.resolve(file);
      for (const width of widths) {
        await page.emulateMediaType(width.print ? "print" : "screen");
        await page.setViewport({width: width.px, height: 900});
        await page.goto(url, {waitUntil: "load"});
        const m = {...await page.evaluate(measure), diagrams: await page.evaluate(measureDiagrams)};
        if (!width.axe) {
          results.push({page: file, width: width.label, ...m, violations: null});
          continue;
        }
        await page.evaluate(axeSource);
        const axe = await page.evaluate(async () => {
          const r = await window.axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]});
          return r.violations.map(v => ({id: v.id, impact: v.impact, count: v.nodes.length,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").slice(0, 200))}));
        });
        results.push({page: file, width: width.label, ...m, violations: axe});
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify({results}, null, 1) + "\n");
}

main().catch(err => { process.stderr.write(String(err && err.stack || err) + "\n"); process.exit(2); });
