// A device's public passport page on a phone, in headless Chromium, as a person who scanned its
// label uses it: the page renders with nothing scrolling sideways, shows the device's name,
// status, warranty and latest steps; "Request service" opens the form's page, which is filled in (with
// a photo) and sent, and the answer shows the request's number. Every CSP violation, console
// error, uncaught exception and request that leaves the server is a problem. Prints a JSON
// report on stdout; exits 1 when there is a problem.
//
// Environment: PAGE_URL (the device's page), NOT_FOUND_URL (an unknown code's page), PHOTO (a
// PNG file to attach), CHROMIUM (default /usr/bin/chromium), SCREENSHOT_DIR (where the
// screenshots go; none without it).
// Run by tests/browser/test_passport_scan_page.py.

import { chromium } from "playwright-core";

const pageUrl = process.env.PAGE_URL;
const origin = new URL(pageUrl).origin;
const screenshots = process.env.SCREENSHOT_DIR;
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
  // The unknown code's page answers 404 by design: the browser logs that as an error.
  if (message.text().startsWith("Failed to load resource") && message.location().url === process.env.NOT_FOUND_URL) return;
  problems.push({ kind: "console", text: message.text() });
});
page.on("pageerror", (error) => problems.push({ kind: "exception", text: String(error) }));

async function layout() {
  return page.evaluate(() => {
    const text = (selector) => document.querySelector(selector)?.textContent.trim().replace(/\s+/g, " ") ?? null;
    const form = document.querySelector("#service-request form");
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      deviceName: text("#device-name"),
      statusLabel: text("#status"),
      warranty: text("#warranty"),
      steps: [...document.querySelectorAll("#steps li")]
        .map((li) => [...li.children].map((part) => part.textContent.trim()).join(" ")),
      formVisible: form ? form.checkVisibility() : false,
      requestNumber: text("#request-number"),
      notFound: text("#not-found"),
      violations: window.__cspViolations.splice(0),
    };
  });
}

async function shot(name) {
  if (screenshots) await page.screenshot({ path: `${screenshots}/${name}-390x844.png`, fullPage: true }).catch(() => {});
}

try {
  const response = await page.goto(pageUrl, { waitUntil: "load" });
  checks.page = { status: response.status(), ...(await layout()) };
  await shot("passport-scan-page");

  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator("#request-service").tap()]);
  checks.form = await layout();
  await page.fill("#contact_name", "Olga Smirnova");
  await page.fill("#contact_email", "olga@example.com");
  await page.fill("#description", "The motor hums and trips the breaker after ten minutes.");
  await page.setInputFiles("#photos", process.env.PHOTO);
  await shot("passport-scan-form");

  const [sent] = await Promise.all([
    page.waitForNavigation({ waitUntil: "load" }),
    page.locator("#send-request").tap(),
  ]);
  checks.sent = { status: sent.status(), ...(await layout()) };
  await shot("passport-scan-confirmation");

  const missing = await page.goto(process.env.NOT_FOUND_URL, { waitUntil: "load" });
  checks.notFound = { status: missing.status(), ...(await layout()) };

  for (const check of [checks.page, checks.form, checks.sent, checks.notFound]) {
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
