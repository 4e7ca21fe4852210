// A dispute's pages in the back-office, in headless Chromium: signs in, opens the list of cases
// and the seeded case's mediation page, and reports what a mediator (or an organization admin)
// sees: the case in the list, the evidence in each side's column, whether every preview image
// loaded, and how many action forms the page offers. Every CSP violation, console error,
// uncaught exception and failed same-origin request is a problem. Prints a JSON report on
// stdout; exits 1 when there is a problem.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOTP_KEY (hex, for staff), LIST_PATH,
// CASE_PATH, CASE_NUMBER, CHROMIUM (default /usr/bin/chromium), SCREENSHOT (a path: the case page, whole).
// Run by tests/browser/test_dispute_pages_in_chromium.py (make browser-check).

import crypto from "node:crypto";

import { chromium } from "playwright-core";

const base = process.env.BASE_URL.replace(/\/$/, "");
const origin = new URL(base).origin;
const problems = [];
const visited = [];
const checks = {};

// RFC 6238 code of the current 30-second step, as django-otp's TOTPDevice checks it.
function totp(hexKey) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const digest = crypto.createHmac("sha1", Buffer.from(hexKey, "hex")).update(counter).digest();
  const offset = digest[digest.length - 1] & 0xf;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push({ directive: event.effectiveDirective, blocked: event.blockedURI, sample: event.sample });
  });
});
const page = await context.newPage();
let current = "";
page.on("console", (message) => {
  if (message.type() !== "error") return;
  // The browser's own request for /favicon.ico is no page's doing.
  const source = message.location().url || "";
  if (message.text().startsWith("Failed to load resource") && source.endsWith("/favicon.ico")) return;
  problems.push({ url: current, kind: "console", text: `${message.text()} (${source})` });
});
page.on("pageerror", (error) => problems.push({ url: current, kind: "exception", text: String(error) }));
page.on("response", (response) => {
  if (response.url().startsWith(origin) && response.status() >= 400 && !response.url().endsWith("/favicon.ico")) {
    problems.push({ url: current, kind: "request", text: `${response.status()} ${response.url()}` });
  }
});

async function open(path) {
  current = `${base}${path}`;
  const response = await page.goto(current, { waitUntil: "load" });
  visited.push({ url: current, status: response.status() });
  return response;
}

async function collectViolations() {
  const violations = await page.evaluate(() => window.__cspViolations.splice(0)).catch(() => []);
  for (const violation of violations) problems.push({ url: current, kind: "csp", text: JSON.stringify(violation) });
}

try {
  await open("/admin/login/?next=/admin/");
  await page.fill("#id_username", process.env.ADMIN_EMAIL);
  await page.fill("#id_password", process.env.ADMIN_PASSWORD);
  if (process.env.ADMIN_TOTP_KEY) await page.fill("#id_otp_token", totp(process.env.ADMIN_TOTP_KEY));
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click("input[type=submit]")]);

  await open(process.env.LIST_PATH);
  await collectViolations();
  checks.listed = await page.locator("#result_list tbody tr", { hasText: process.env.CASE_NUMBER }).count();

  await open(process.env.CASE_PATH);
  await page.waitForLoadState("networkidle");
  await collectViolations();
  checks.title = await page.locator("#content h1, #content-main h1").first().innerText().catch(() => "");
  checks.caseShown = await page.locator("#dispute-case").isVisible();
  checks.clientEvidence = await page.locator("#evidence-client .card").count();
  checks.supplierEvidence = await page.locator("#evidence-supplier .card").count();
  // Side by side: the supplier's column starts level with the client's, to its right.
  const [client, supplier] = await Promise.all(
    ["#evidence-client", "#evidence-supplier"].map((selector) => page.locator(selector).boundingBox()),
  );
  checks.sideBySide = Boolean(client && supplier && supplier.x > client.x + client.width - 1 && Math.abs(supplier.y - client.y) < 2);
  checks.previews = await page.locator("img.preview").evaluateAll((images) =>
    images.map((image) => ({ src: image.getAttribute("src"), loaded: image.complete && image.naturalWidth > 0 })),
  );
  checks.downloads = await page.locator("a.download").count();
  checks.actionForms = await page.locator("form.mediation-form").count();
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
} catch (error) {
  problems.push({ url: current, kind: "check", text: String(error && error.stack ? error.stack : error) });
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify({ visited, checks, problems }, null, 2) + "\n");
process.exit(problems.length ? 1 : 0);
