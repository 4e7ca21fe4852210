// What the headless-Chromium checks in tests/browser share: Debian's chromium launched with the
// same flags, a context that records the page's CSP violations, the listeners that turn console
// errors, uncaught exceptions and failed requests into problems, and the JSON report on stdout
// with its exit code.
//
//   backOffice(options)  the admin checks (csp_check, dispute_page_check, integrations_admin_check,
//                        passport_admin_check): a session against BASE_URL with `open(path)`
//                        recording `visited`, `collectViolations()`, `signIn()` (the admin's form,
//                        with the RFC 6238 code for staff), `run(steps)` and `finish(report)`.
//   phone(options)       the public pages on a phone (tracking_page_check, passport_scan_page_check):
//                        a session against PAGE_URL recording every request, with `judge(...)` (CSP,
//                        sideways scrolling, requests that leave the server), `run` and `finish`.
//   totp(hexKey)         the current RFC 6238 code, as django-otp's TOTPDevice checks it.
//   launch(), newContext(browser, options, fields), PHONE: the pieces both sessions are made of.
//
// Environment read here: CHROMIUM (default /usr/bin/chromium), BASE_URL, ADMIN_EMAIL,
// ADMIN_PASSWORD, ADMIN_TOTP_KEY (backOffice), PAGE_URL, NOT_FOUND_URL (phone).

import crypto from "node:crypto";

import { chromium } from "playwright-core";

// RFC 6238 code of the current 30-second step, as django-otp's TOTPDevice checks it.
export function totp(hexKey) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const digest = crypto.createHmac("sha1", Buffer.from(hexKey, "hex")).update(counter).digest();
  const offset = digest[digest.length - 1] & 0xf;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// Debian's chromium, headless. Playwright gives the browser a new, empty profile of its own.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// A phone: 390×844 CSS pixels (an iPhone 12-15), touch, a mobile user agent's layout rules.
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

// A context whose pages keep their CSP violations in window.__cspViolations, each with the given
// fields (of directive, blocked, sample, source) in that order. Injected by the DevTools protocol,
// so the page's policy does not apply to it.
export async function newContext(browser, options = {}, fields = ["directive", "blocked", "sample"]) {
  const context = await browser.newContext(options);
  await context.addInitScript((names) => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      const values = {
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        sample: event.sample,
        source: `${event.sourceFile}:${event.lineNumber}`,
      };
      window.__cspViolations.push(Object.fromEntries(names.map((name) => [name, values[name]])));
    });
  }, fields);
  return context;
}

const isFavicon = (url) => url.endsWith("/favicon.ico");

// A back-office session against BASE_URL. Every problem names the page it happened on (`current`).
//   context: the browser context's options (viewport, downloads);
//   violationFields: what a CSP violation's report holds (see newContext);
//   titles: `visited` holds each page's title as well;
//   ignoreLoadFailure(source, current): a console "Failed to load resource" to let pass (the
//     browser's own /favicon.ico request always passes);
//   failedResponse(response): whether a same-origin answer >= 400 is a problem (by default any
//     but /favicon.ico).
export async function backOffice({
  context: contextOptions = {},
  violationFields,
  titles = false,
  ignoreLoadFailure = () => false,
  failedResponse = (response) => !isFavicon(response.url()),
} = {}) {
  const base = process.env.BASE_URL.replace(/\/$/, "");
  const origin = new URL(base).origin;
  const browser = await launch();
  const context = await newContext(browser, contextOptions, violationFields);
  const page = await context.newPage();
  const session = { base, origin, browser, context, page, problems: [], visited: [], current: "" };
  const { problems, visited } = session;

  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // The browser's own request for /favicon.ico is no page's doing.
    const source = message.location().url || "";
    if (message.text().startsWith("Failed to load resource") && (ignoreLoadFailure(source, session.current) || isFavicon(source))) {
      return;
    }
    problems.push({ url: session.current, kind: "console", text: `${message.text()} (${source})` });
  });
  page.on("pageerror", (error) => problems.push({ url: session.current, kind: "exception", text: String(error) }));
  page.on("response", (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400 && failedResponse(response)) {
      problems.push({ url: session.current, kind: "request", text: `${response.status()} ${response.url()}` });
    }
  });

  // A page opened by its path under BASE_URL (or by its whole URL): recorded in `visited`.
  session.open = async (target, { waitUntil = "load" } = {}) => {
    session.current = target.startsWith("/") ? `${base}${target}` : target;
    const response = await page.goto(session.current, { waitUntil });
    const entry = { url: session.current, status: response.status() };
    if (titles) entry.title = await page.title();
    visited.push(entry);
    return response;
  };

  // The page's CSP violations so far become problems; how many there were.
  session.collectViolations = async () => {
    const violations = await page.evaluate(() => window.__cspViolations.splice(0)).catch(() => []);
    for (const violation of violations) problems.push({ url: session.current, kind: "csp", text: JSON.stringify(violation) });
    return violations.length;
  };

  // The admin's sign-in form filled in: ADMIN_EMAIL, ADMIN_PASSWORD and (otp, with ADMIN_TOTP_KEY
  // set) the current code.
  session.fillSignIn = async ({ otp = true } = {}) => {
    await page.fill("#id_username", process.env.ADMIN_EMAIL);
    await page.fill("#id_password", process.env.ADMIN_PASSWORD);
    if (otp && process.env.ADMIN_TOTP_KEY) await page.fill("#id_otp_token", totp(process.env.ADMIN_TOTP_KEY));
  };

  // Signs in through the admin's own form and waits for the admin's index. check: the sign-in
  // page and the index are checked like any other page (violations collected, the index visited).
  session.signIn = async ({ check = false } = {}) => {
    await session.open("/admin/login/?next=/admin/");
    if (check) await session.collectViolations();
    await session.fillSignIn();
    await Promise.all([page.waitForURL(`${base}/admin/`), page.click("input[type=submit]")]);
    if (check) {
      session.current = page.url();
      const entry = { url: session.current, status: 200 };
      if (titles) entry.title = await page.title();
      visited.push(entry);
      await session.collectViolations();
    }
  };

  // The check's steps: an error becomes a problem; the browser is closed either way.
  session.run = async (steps) => {
    try {
      await steps();
    } catch (error) {
      problems.push({ url: session.current, kind: "check", text: String(error && error.stack ? error.stack : error) });
    } finally {
      await browser.close();
    }
  };

  // The report on stdout, indented; exit 1 when failed (by default: when there is a problem).
  session.finish = (report, failed = problems.length > 0) => {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    process.exit(failed ? 1 : 0);
  };

  return session;
}

// A public page on a phone (PHONE), from PAGE_URL. Every request the page makes is in `requests`;
// the console's report of NOT_FOUND_URL's 404 (by design) is no problem.
export async function phone() {
  const origin = new URL(process.env.PAGE_URL).origin;
  const browser = await launch();
  const context = await newContext(browser, PHONE, ["directive", "blocked"]);
  const page = await context.newPage();
  const session = { origin, browser, context, page, problems: [], requests: [] };
  const { problems, requests } = session;

  page.on("request", (request) => requests.push(request.url()));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (message.text().startsWith("Failed to load resource") && message.location().url === process.env.NOT_FOUND_URL) return;
    problems.push({ kind: "console", text: message.text() });
  });
  page.on("pageerror", (error) => problems.push({ kind: "exception", text: String(error) }));

  // Of each page's layout (its `violations`, scrollWidth and clientWidth): the CSP violations and
  // any sideways scrolling become problems; then every request that left the server does.
  session.judge = (checks) => {
    for (const check of checks) {
      for (const violation of check.violations) problems.push({ kind: "csp", text: JSON.stringify(violation) });
      if (check.scrollWidth > check.clientWidth) problems.push({ kind: "layout", text: `scrolls sideways: ${check.scrollWidth} > ${check.clientWidth}` });
    }
    for (const url of requests) {
      if (!url.startsWith(origin) && !url.startsWith("data:")) problems.push({ kind: "request", text: `left the server: ${url}` });
    }
  };

  // The check's steps: an error becomes a problem; the browser is closed either way.
  session.run = async (steps) => {
    try {
      await steps();
    } catch (error) {
      problems.push({ kind: "exception", text: String(error) });
    } finally {
      await browser.close();
    }
  };

  // The report on stdout, on one line; exit 1 when there is a problem.
  session.finish = (report) => {
    process.stdout.write(JSON.stringify(report));
    process.exit(problems.length ? 1 : 0);
  };

  return session;
}
