// Connecting a shop in the platform-integrations back-office, in headless Chromium: an organization
// admin signs in, opens the shops list, clicks "add", chooses the platform, fills the platform's
// credential form and sends it; the report says where that landed and what it said, which shop ids
// the list shows afterwards, and (OPEN_SHOP=1) what the shop's page and its sync log show. The
// credential values are typed into the form only: every page's HTML is searched for them. Every
// CSP violation, console error, uncaught exception and failed same-origin request is a problem.
// Prints a JSON report on stdout; exits 1 when there is a problem.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, LIST_PATH (the shops list), PLATFORM (its
// value, e.g. "shopify"), SHOP_NAME, SHOP_ID, SYNC_INTERVAL, SECRETS (JSON: credential field name
// -> value), OPEN_SHOP ("1": open the shop's page and its sync log), CHROMIUM (default
// /usr/bin/chromium), SCREENSHOT (a path: the last page, whole).
// Run by tests/browser/test_integrations_admin_in_chromium.py (make browser-check).

import { backOffice } from "./harness.mjs";

const secrets = JSON.parse(process.env.SECRETS || "{}");
// shopIdSeen: the pages whose HTML holds the shop's id, found the same way as the secrets would be
// (the control that the search reads the pages at all).
const checks = {
  secretsSearched: Object.values(secrets).filter(Boolean).length, secretsSeen: [], shopIdSeen: [], pagesChecked: 0,
};

const session = await backOffice({ context: { viewport: { width: 1400, height: 1000 } } });
const { base, page, problems, visited, collectViolations } = session;

// What every page visited goes through: its CSP violations become problems, and its HTML (the
// DOM as served and scripted) must hold none of the credential values typed into the form.
async function arrived(response) {
  session.current = page.url();
  visited.push({ url: session.current, status: response ? response.status() : null });
  await collectViolations();
  const html = await page.content();
  checks.pagesChecked += 1;
  for (const [name, value] of Object.entries(secrets)) {
    if (value && html.includes(value)) checks.secretsSeen.push({ url: session.current, field: name });
  }
  if (html.includes(process.env.SHOP_ID)) checks.shopIdSeen.push(pathOf(session.current));
}

async function open(path) {
  session.current = `${base}${path}`;
  await arrived(await page.goto(session.current, { waitUntil: "load" }));
}

// A click that navigates (a link, or a form sent and its redirect followed): the page it ends on.
async function follow(locator) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), locator.click()]);
  await arrived(response);
}

const pathOf = (url) => { const parsed = new URL(url); return parsed.pathname + parsed.search; };
const texts = async (selector) => (await page.locator(selector).allInnerTexts()).map((text) => text.trim());
const shopIdsListed = () => texts("#result_list tbody td.field-shop_id");

await session.run(async () => {
  // Signed in as an organization admin: no one-time code.
  await open("/admin/login/?next=/admin/");
  await session.fillSignIn({ otp: false });
  await follow(page.locator("input[type=submit]"));
  checks.signedIn = pathOf(page.url()) === "/admin/";

  await open(process.env.LIST_PATH);
  checks.listedBefore = await shopIdsListed();

  // The list's "add" button, then the platform chooser.
  await follow(page.locator(".object-tools a.addlink"));
  checks.chooserPath = pathOf(page.url());
  checks.platformsOffered = await texts("#platforms a");
  await follow(page.locator(`#platforms a[href="?platform=${process.env.PLATFORM}"]`));
  checks.formPath = pathOf(page.url());
  // Which fields of the form are masked inputs, in the order shown.
  checks.passwordInputs = await page.locator("input[type=password]").evaluateAll(
    (inputs) => inputs.map((input) => input.name));

  await page.fill("#id_name", process.env.SHOP_NAME);
  await page.fill("#id_shop_id", process.env.SHOP_ID);
  await page.fill("#id_sync_interval", process.env.SYNC_INTERVAL);
  for (const [name, value] of Object.entries(secrets)) await page.fill(`#id_${name}`, value);
  await follow(page.locator("input[name=_save]"));
  checks.landedPath = pathOf(page.url());
  checks.messages = {
    success: await texts(".messagelist li.success"),
    error: await texts(".messagelist li.error"),
  };
  checks.formStillShown = await page.locator("#id_shop_id").count() > 0;

  await open(process.env.LIST_PATH);
  checks.listedAfter = await shopIdsListed();
  checks.healthListed = await texts("#result_list tbody td.field-health_shown");

  if (process.env.OPEN_SHOP === "1") {
    // The shop's page from its row (the name links to it), then its sync log from the page.
    const row = page.locator("#result_list tbody tr", { hasText: process.env.SHOP_ID });
    await follow(row.locator("th a"));
    checks.shopPage = {
      path: pathOf(page.url()),
      title: (await page.locator("#content h1").first().innerText()).trim(),
      credentials: (await page.locator(".field-credentials_shown .readonly").innerText()).trim(),
      health: (await page.locator(".field-health_shown .readonly").innerText()).trim(),
      credentialInputsFilled: await page.locator("input[type=password]").evaluateAll(
        (inputs) => inputs.filter((input) => input.value !== "").length),
    };
    await follow(page.locator(".field-records a", { hasText: "sync log" }));
    checks.syncLog = {
      path: pathOf(page.url()),
      rows: await page.locator("#result_list tbody tr").count(),
      // A list with no rows shows no table, only the count line ("0 sync runs").
      paginator: (await page.locator("p.paginator").innerText()).trim(),
    };
  }
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
});

session.finish({ visited, checks, problems });
