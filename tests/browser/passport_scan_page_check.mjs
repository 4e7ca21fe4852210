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

import { phone } from "./harness.mjs";

const pageUrl = process.env.PAGE_URL;
const screenshots = process.env.SCREENSHOT_DIR;
const checks = {};

const session = await phone();
const { page, problems, requests } = session;

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

await session.run(async () => {
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

  session.judge([checks.page, checks.form, checks.sent, checks.notFound]);
});
session.finish({ problems, requests, checks });
