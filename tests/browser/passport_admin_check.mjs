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

import fs from "node:fs/promises";

import { backOffice } from "./harness.mjs";

const checks = {};
const session = await backOffice({ context: { viewport: { width: 1400, height: 1000 }, acceptDownloads: true } });
const { base, page, problems, visited, open, collectViolations } = session;

const rowOf = (code) => page.locator("#result_list tbody tr", { hasText: code });

await session.run(async () => {
  await session.signIn();
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
});

session.finish({ visited, checks, problems });
