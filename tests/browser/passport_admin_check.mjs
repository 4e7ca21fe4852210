// Device passports in the back-office, in headless Chromium: signs in, opens the list of devices
// and reports which of the named codes it shows; then (when asked) opens a device's page (its
// lifecycle rows, whether its QR code loaded), prints the device's label from the list with the
// "Print labels (PDF)" action (what came back: its type and first bytes), and opens the takeover
// queue. Every CSP violation, console error, uncaught exception and failed same-origin request is
// a problem. Prints a JSON report on stdout; exits 1 when there is a problem.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOTP_KEY (hex, for staff), LIST_PATH,
// CODES (comma-separated: the codes to look for in the list), PASSPORT_PATH and PRINT_CODE
// (optional: the page to open, the code to print), TAKEOVERS_PATH and TAKEOVER_CODE (optional),
// CHROMIUM (default /usr/bin/chromium), SCREENSHOT (a path: the device's page, whole).
// Run by tests/browser/test_passport_admin_in_chromium.py (make browser-check).

import crypto from "node:crypto";
import fs from "node:fs/promises";

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
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
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

const rowOf = (code) => page.locator("#result_list tbody tr", { hasText: code });

try {
  await open("/admin/login/?next=/admin/");
  await page.fill("#id_username", process.env.ADMIN_EMAIL);
  await page.fill("#id_password", process.env.ADMIN_PASSWORD);
  if (process.env.ADMIN_TOTP_KEY) await page.fill("#id_otp_token", totp(process.env.ADMIN_TOTP_KEY));
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click("input[type=submit]")]);
  checks.moduleShown = await page.locator("#content-main .app-passports").count() > 0;

  await open(process.env.LIST_PATH);
  await collectViolations();
  checks.listed = {};
  for (const code of (process.env.CODES || "").split(",").filter(Boolean)) checks.listed[code] = await rowOf(code).count();

  if (process.env.PASSPORT_PATH) {
    await open(process.env.PASSPORT_PATH);
    await page.waitForLoadState("networkidle");
    await collectViolations();
    checks.title = await page.locator("#content h1").first().innerText().catch(() => "");
    checks.lifecycleRows = await page.locator("#events-group tbody tr.form-row").count();
    checks.lifecycleKinds = await page.locator("#events-group tbody tr.form-row td.field-kind").allInnerTexts();
    checks.qrLoaded = await page.locator("img.passport-qr").evaluate((image) => image.complete && image.naturalWidth > 0);
    checks.editableName = await page.locator("input[name=device_name]").count();
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  }

  if (process.env.PRINT_CODE) {
    await open(process.env.LIST_PATH);
    await rowOf(process.env.PRINT_CODE).locator("input.action-select").check();
    await page.selectOption("select[name=action]", "print_labels");
    const [download, response] = await Promise.all([
      page.waitForEvent("download"),
      page.waitForResponse((answer) => answer.request().method() === "POST" && answer.url().startsWith(`${base}${process.env.LIST_PATH}`)),
      page.click("button[name=index]"),
    ]);
    const saved = await download.path();
    const head = (await fs.readFile(saved)).subarray(0, 5).toString("latin1");
    checks.labels = {
      contentType: response.headers()["content-type"],
      filename: download.suggestedFilename(),
      head,
    };
  }

  if (process.env.TAKEOVERS_PATH) {
    await open(process.env.TAKEOVERS_PATH);
    await collectViolations();
    checks.takeoversListed = await rowOf(process.env.TAKEOVER_CODE).count();
    checks.decideActions = await page.locator("select[name=action] option[value=approve], select[name=action] option[value=reject]").count();
  }
} catch (error) {
  problems.push({ url: current, kind: "check", text: String(error && error.stack ? error.stack : error) });
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify({ visited, checks, problems }, null, 2) + "\n");
process.exit(problems.length ? 1 : 0);
