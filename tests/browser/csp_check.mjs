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

import crypto from "node:crypto";

import { chromium } from "playwright-core";

const base = process.env.BASE_URL.replace(/\/$/, "");
const origin = new URL(base).origin;
const maxPages = Number(process.env.MAX_PAGES || 200);
const problems = [];
const visited = [];
const exercised = { calendar: 0, clock: 0, selectFilter: 0, select2: 0, swaggerOperations: 0, formsSent: 0, canary: false };

// RFC 6238 code of the current 30-second step, as django-otp's TOTPDevice checks it.
function totp(hexKey) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const digest = crypto.createHmac("sha1", Buffer.from(hexKey, "hex")).update(counter).digest();
  const offset = digest[digest.length - 1] & 0xf;
  const code = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

// Playwright gives the browser a new, empty profile of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const context = await browser.newContext();
// Injected by the DevTools protocol, so the page's policy does not apply to it.
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push({
      directive: event.effectiveDirective,
      blocked: event.blockedURI,
      sample: event.sample,
      source: `${event.sourceFile}:${event.lineNumber}`,
    });
  });
});
const page = await context.newPage();
let current = "";
page.on("console", (message) => {
  if (message.type() !== "error") return;
  const source = message.location().url || "";
  // A page's own status is in the report (a public page may answer 404 by design); the browser's
  // own request for /favicon.ico is no page's doing.
  if (message.text().startsWith("Failed to load resource") && (source === current || source.endsWith("/favicon.ico"))) {
    return;
  }
  problems.push({ url: current, kind: "console", text: `${message.text()} (${source})` });
});
page.on("pageerror", (error) => problems.push({ url: current, kind: "exception", text: String(error) }));
page.on("response", (response) => {
  if (response.url().startsWith(origin) && response.status() >= 400 && response.request().resourceType() !== "document") {
    problems.push({ url: current, kind: "request", text: `${response.status()} ${response.url()}` });
  }
});

async function collectViolations() {
  const violations = await page.evaluate(() => window.__cspViolations.splice(0)).catch(() => []);
  for (const violation of violations) problems.push({ url: current, kind: "csp", text: JSON.stringify(violation) });
  return violations.length;
}

async function open(url, { waitUntil = "load" } = {}) {
  current = url;
  const response = await page.goto(url, { waitUntil });
  visited.push({ url, status: response.status(), title: await page.title() });
  return response;
}

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

try {
  // Sign in through the admin's own form.
  await open(`${base}/admin/login/?next=/admin/`);
  await collectViolations();
  await page.fill("#id_username", process.env.ADMIN_EMAIL);
  await page.fill("#id_password", process.env.ADMIN_PASSWORD);
  if (process.env.ADMIN_TOTP_KEY) await page.fill("#id_otp_token", totp(process.env.ADMIN_TOTP_KEY));
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click("input[type=submit]")]);
  current = page.url();
  visited.push({ url: current, status: 200, title: await page.title() });
  await collectViolations();

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
} catch (error) {
  problems.push({ url: current, kind: "check", text: String(error && error.stack ? error.stack : error) });
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify({ visited, exercised, problems }, null, 2) + "\n");
process.exit(problems.length || !exercised.canary ? 1 : 0);
