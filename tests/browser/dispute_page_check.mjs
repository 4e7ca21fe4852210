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

import { backOffice } from "./harness.mjs";

const checks = {};
const session = await backOffice({ context: { viewport: { width: 1400, height: 1000 } } });
const { page, problems, visited, open, collectViolations } = session;

await session.run(async () => {
  await session.signIn();

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
});

session.finish({ visited, checks, problems });
