// The public tracking page on a phone, in headless Chromium: it renders, its route SVG is
// visible, nothing scrolls sideways, and no request leaves the server's own address. Every CSP
// violation, console error and uncaught exception is a problem. Prints a JSON report on stdout;
// exits 1 when there is a problem.
//
// Environment: PAGE_URL (the page to open), NOT_FOUND_URL (an unknown number's page),
// CHROMIUM (default /usr/bin/chromium). Run by tests/browser/test_tracking_page_in_chromium.py.

import { chromium } from "playwright-core";

const pageUrl = process.env.PAGE_URL;
const origin = new URL(pageUrl).origin;
const problems = [];
const requests = [];
const checks = {};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// A phone: 390×844 CSS pixels (an iPhone 12-15), touch, a mobile user agent's layout rules.
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3,
                                           isMobile: true, hasTouch: true });
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push({ directive: event.effectiveDirective, blocked: event.blockedURI });
  });
});
const page = await context.newPage();
page.on("request", (request) => requests.push(request.url()));
page.on("console", (message) => {
  if (message.type() !== "error") return;
  // The unknown number's page answers 404 by design: the browser logs that as an error.
  if (message.text().startsWith("Failed to load resource") && message.location().url === process.env.NOT_FOUND_URL) return;
  problems.push({ kind: "console", text: message.text() });
});
page.on("pageerror", (error) => problems.push({ kind: "exception", text: String(error) }));

async function layout() {
  return page.evaluate(() => {
    const svg = document.querySelector("svg#route");
    const box = svg ? svg.getBoundingClientRect() : null;
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      svg: box ? { width: box.width, height: box.height, top: box.top } : null,
      statusLabel: document.querySelector("#status")?.textContent ?? null,
      milestones: document.querySelectorAll("#milestones li").length,
      notFound: document.querySelector("#not-found")?.textContent ?? null,
      violations: window.__cspViolations.splice(0),
    };
  });
}

try {
  const response = await page.goto(pageUrl, { waitUntil: "load" });
  checks.found = { status: response.status(), ...(await layout()) };
  checks.svgVisible = await page.locator("svg#route").isVisible();
  await page.screenshot({ path: process.env.SCREENSHOT || "/dev/null", fullPage: true }).catch(() => {});
  const missing = await page.goto(process.env.NOT_FOUND_URL, { waitUntil: "load" });
  checks.notFound = { status: missing.status(), ...(await layout()) };
  for (const check of [checks.found, checks.notFound]) {
    for (const violation of check.violations) problems.push({ kind: "csp", text: JSON.stringify(violation) });
    if (check.scrollWidth > check.clientWidth) problems.push({ kind: "layout", text: `scrolls sideways: ${check.scrollWidth} > ${check.clientWidth}` });
  }
  for (const url of requests) {
    if (!url.startsWith(origin) && !url.startsWith("data:")) problems.push({ kind: "request", text: `left the server: ${url}` });
  }
} catch (error) {
  problems.push({ kind: "exception", text: String(error) });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ problems, requests, checks }));
process.exit(problems.length ? 1 : 0);
