// Manifest's pages in headless Chromium under the Content-Security-Policy: signs in to the
// admin, walks every page the admin index links to (change lists, add and change forms, their
// object tools), works the widgets it finds (date and time shortcuts, the two-box selector,
// select2, the navigation sidebar), sends each add form once, then opens the public pages and
// the API docs.
// Every CSP violation, console error, uncaught exception and failed same-origin request is a
// problem. Prints a JSON report on stdout; exits 1 when there is a problem.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOTP_KEY (hex, for staff),
// PUBLIC_PATHS (comma-separated), CHROMIUM (default /usr/bin/chromium), MAX_PAGES (default 200).
// Run by tests/browser/test_pages_in_chromium.py (make browser-check), which sets all of them.

import { backOffice } from "./harness.mjs";

const maxPages = Number(process.env.MAX_PAGES || 200);
const exercised = { calendar: 0, clock: 0, selectFilter: 0, select2: 0, swaggerOperations: 0, formsSent: 0, canary: false };

const session = await backOffice({
  violationFields: ["directive", "blocked", "sample", "source"],
  titles: true,
  // A page's own status is in the report (a public page may answer 404 by design).
  ignoreLoadFailure: (source, current) => source === current,
  // Any failed same-origin request but the pages' own (a document's status is in the report).
  failedResponse: (response) => response.request().resourceType() !== "document",
});
const { base, origin, context, page, problems, visited, open, collectViolations } = session;

// Work the widgets of the page, the way a person would open them.
async function exerciseWidgets() {
  for (const link of await page.locator("a[id^=calendarlink]:visible").all()) {
    await link.click();
    await page.locator(".calendarbox:visible a", { hasText: "Today" }).first().click();
    exercised.calendar += 1;
  }
  for (const link of await page.locator("a[id^=clocklink]:visible").all()) {
    await link.click();
    await page.locator(".clockbox:visible a", { hasText: "Now" }).first().click();
    exercised.clock += 1;
  }
  for (const box of await page.locator(".selector-available select:visible").all()) {
    const first = box.locator("option").first();
    if ((await first.count()) === 0) continue;
    await first.dblclick();
    exercised.selectFilter += 1;
  }
  for (const select of await page.locator(".select2-selection:visible").all()) {
    await select.click();
    await page.keyboard.type("a");
    await page.waitForSelector(".select2-results__option", { timeout: 5000 });
    await page.keyboard.press("Escape");
    exercised.select2 += 1;
  }
  const filterToggle = page.locator("#toggle-nav-sidebar:visible");
  if (await filterToggle.count()) await filterToggle.click();
}

function adminLinks(hrefs, seen) {
  const links = [];
  for (const href of hrefs) {
    const url = new URL(href, base);
    if (url.origin !== origin || !url.pathname.startsWith("/admin/")) continue;
    // Signing out, and the pages that confirm a deletion, are no page to check here.
    if (/\/(logout|delete)\/?$/.test(url.pathname)) continue;
    url.hash = "";
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    links.push(url.href);
  }
  return links;
}

await session.run(async () => {
  // Sign in through the admin's own form.
  await session.signIn({ check: true });

  // The checker sees a violation when there is one: an inline script added to the page.
  const beforeCanary = problems.length;
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__canaryRan = true";
    document.body.appendChild(script);
  });
  await page.waitForTimeout(100);
  const canary = await page.evaluate(() => window.__cspViolations.splice(0));
  exercised.canary = canary.length === 1 && canary[0].directive.startsWith("script-src");
  problems.splice(beforeCanary); // the console's report of the canary

  // Every page the index links to, and on: the change lists lead to the change forms, those to
  // their object tools and custom pages (an organization's features, the ledger's adjustment).
  const seen = new Set([`${base}/admin/`]);
  let queue = adminLinks(await page.locator("#content-main a").evaluateAll((as) => as.map((a) => a.href)), seen);
  for (let depth = 0; depth < 3 && queue.length; depth += 1) {
    const next = [];
    for (const url of queue) {
      if (visited.length >= maxPages) break;
      await open(url);
      await exerciseWidgets();
      await collectViolations();
      // An add form sent as it is: the page again with its errors (or the saved row), through
      // the CSRF check with the SameSite=Strict cookies.
      if (new URL(url).pathname.endsWith("/add/") && !new URL(url).search) {
        const save = page.locator("input[name=_save]");
        if (await save.count()) {
          const [response] = await Promise.all([page.waitForNavigation(), save.click()]);
          visited.push({ url: `${page.url()} (sent)`, status: response.status(), title: await page.title() });
          exercised.formsSent += 1;
          await collectViolations();
        }
        await open(url);
      }
      const hrefs = await page
        .locator("#result_list tbody tr:first-child a, .object-tools a, a.addlink, #content-main fieldset a")
        .evaluateAll((as) => as.map((a) => a.href));
      next.push(...adminLinks(hrefs, seen));
    }
    queue = next;
  }

  // The public pages and the API docs: no session needed, none used.
  await context.clearCookies();
  for (const publicPath of (process.env.PUBLIC_PATHS || "").split(",").filter(Boolean)) {
    const isDocs = publicPath.startsWith("/api/docs");
    await open(`${base}${publicPath}`, { waitUntil: isDocs ? "networkidle" : "load" });
    if (isDocs) {
      await page.waitForSelector(".opblock-summary", { timeout: 20000 });
      // Swagger UI renders only the operations in view: scroll to the end, counting every
      // operation seen on the way, then back to the top.
      const seen = new Set();
      for (let step = 0; step < 400; step += 1) {
        for (const text of await page.locator(".opblock-summary").allInnerTexts()) seen.add(text);
        const atEnd = await page.evaluate(() => window.innerHeight + window.scrollY >= document.body.scrollHeight - 2);
        if (atEnd) break;
        await page.mouse.wheel(0, 600);
        await page.waitForTimeout(60);
      }
      exercised.swaggerOperations = seen.size;
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.locator(".opblock-summary").first().click();
      await page.waitForSelector(".opblock-body", { timeout: 5000 });
    }
    await collectViolations();
  }
});

session.finish({ visited, exercised, problems }, problems.length || !exercised.canary);
