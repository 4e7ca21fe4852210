// The public tracking page on a phone, in headless Chromium: it renders, its route SVG is
// visible, nothing scrolls sideways, and no request leaves the server's own address. Every CSP
// violation, console error and uncaught exception is a problem. Prints a JSON report on stdout;
// exits 1 when there is a problem.
//
// Environment: PAGE_URL (the page to open), NOT_FOUND_URL (an unknown number's page),
// CHROMIUM (default /usr/bin/chromium). Run by tests/browser/test_tracking_page_in_chromium.py.

import { phone } from "./harness.mjs";

const pageUrl = process.env.PAGE_URL;
const checks = {};

const session = await phone();
const { page, problems, requests } = session;

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

await session.run(async () => {
  const response = await page.goto(pageUrl, { waitUntil: "load" });
  checks.found = { status: response.status(), ...(await layout()) };
  checks.svgVisible = await page.locator("svg#route").isVisible();
  await page.screenshot({ path: process.env.SCREENSHOT || "/dev/null", fullPage: true }).catch(() => {});
  const missing = await page.goto(process.env.NOT_FOUND_URL, { waitUntil: "load" });
  checks.notFound = { status: missing.status(), ...(await layout()) };
  session.judge([checks.found, checks.notFound]);
});
session.finish({ problems, requests, checks });
