// The standalone wizard (dist/index.html from `trunk build --release`) in headless Chromium:
// every integration kind up to verification, the Organization path, field errors, keyboard
// use, 360 px, and what happens to secrets. Verification answers come from the harness's FAKE
// verify API (contract-shaped; the worker's real endpoint is tested end to end separately).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { EXTERNAL_ID, SESSION_TOKEN, TENANT, clicker, newPage, screenshot, serverAndBrowser } from "./harness.mjs";

const ROLE_ARN = "arn:aws:iam::123456789012:role/VendorReadOnly";
const KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const fx = serverAndBrowser();

async function open(config = {}, viewport) {
  fx.server.state.config = { ...fx.server.state.config, ...config };
  const p = await newPage(fx.chrome.browser, viewport);
  await p.page.goto(`${fx.server.base}/`);
  // The wizard itself, once it has taken over the page's static first step.
  await p.page.waitForSelector(".tl-wizard:not([data-tl-static])");
  return p;
}

const step = (page) => page.getAttribute(".tl-wizard", "data-step");

describe("standalone wizard", () => {
  test("recommended path: cross-account role from landing to verified, clicks counted", async () => {
    fx.server.state.verifyRequests = [];
    const sessionsBefore = fx.server.state.sessions;
    const { page, problems, context } = await open();
    assert.equal(fx.server.state.sessions, sessionsBefore + 1, "the page asked the backend for a session");
    await page.evaluate(() => {
      document.getElementById("trustline-wizard").addEventListener("trustline:complete", (e) => {
        window.__detail = JSON.stringify(e.detail);
      });
    });
    const c = clicker(page);
    const screens = new Set([await step(page)]);
    await screenshot(page, "01-kind");
    assert.match(await page.textContent("#tl-kind-cross-account-role"), /Recommended/);
    await c.click("#tl-kind-cross-account-role");
    screens.add(await step(page));
    assert.equal(await step(page), "scope");
    await screenshot(page, "02-scope");
    await c.click("#tl-next");
    screens.add(await step(page));
    assert.equal(await step(page), "access");
    await screenshot(page, "03-access");
    // The Launch-stack link carries the ExternalId: nothing to copy by hand.
    const href = await page.getAttribute("#tl-launch", "href");
    assert.match(href, /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudformation\/home\?region=us-east-1#\/stacks\/create\/review\?/);
    assert.ok(href.includes(`param_ExternalId=${encodeURIComponent(EXTERNAL_ID)}`), href);
    const popup = context.waitForEvent("page");
    await c.click("#tl-launch");
    await (await popup).close();
    screens.add(await step(page));
    assert.equal(await step(page), "connect");
    await c.click("#tl-role-arn");
    await page.fill("#tl-role-arn", ROLE_ARN);
    await c.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-ok");
    await screenshot(page, "04-connect-verified");
    const clicks = c.count;
    console.log(`recommended path: ${screens.size} screens, ${clicks} clicks from landing to verified (goal: ≤ 4 screens, ≤ 6 clicks)`);
    assert.ok(screens.size <= 4 && clicks <= 6, `${screens.size} screens, ${clicks} clicks`);
    const [request] = fx.server.state.verifyRequests;
    assert.equal(request.path, `/api/v1/tenants/${TENANT}/verify/role`);
    assert.equal(request.headers.authorization, `Bearer ${SESSION_TOKEN}`, "the session's token, as a bearer token");
    assert.deepEqual(request.body, {
      role_arn: ROLE_ARN,
      external_id: EXTERNAL_ID,
      expected_account_id: null,
      data_sets: ["iam", "ec2-network", "cloudtrail"],
      regions: [],
    });
    await page.click("#tl-next");
    assert.equal(await step(page), "done");
    assert.match(await page.textContent("#tl-summary"), /Verified/);
    await screenshot(page, "05-done");
    const detail = JSON.parse(await page.evaluate(() => window.__detail));
    assert.deepEqual([detail.tenant, detail.externalId, detail.externalIdSource, detail.externalIdGenerated], [TENANT, EXTERNAL_ID, "session", false]);
    // The session's token lives in memory only.
    const leaks = await page.evaluate((token) => ({
      detail: (window.__detail ?? "").includes(token),
      local: JSON.stringify(localStorage).includes(token),
      session: JSON.stringify(sessionStorage).includes(token),
      cookie: document.cookie.includes(token),
      url: location.href.includes(token),
      html: document.documentElement.outerHTML.includes(token),
      attributes: [...document.querySelectorAll("*")].some((el) => [...el.attributes].some((a) => a.value.includes(token))),
    }), SESSION_TOKEN);
    assert.deepEqual(leaks, { detail: false, local: false, session: false, cookie: false, url: false, html: false, attributes: false });
    assert.deepEqual(problems, [], "no console errors or CSP violations");
    await context.close();
  });

  test("back and forward keep input; scope errors come from core at the field", async () => {
    const { page, context } = await open();
    await page.click("#tl-kind-cross-account-role");
    await page.fill("#tl-regions", "eu-west-1a");
    assert.match(await page.textContent("#tl-regions-error"), /availability zone/);
    assert.equal(await page.getAttribute("#tl-regions", "aria-invalid"), "true");
    assert.match(await page.getAttribute("#tl-regions", "aria-describedby"), /tl-regions-error/);
    await page.click("#tl-next");
    assert.equal(await step(page), "scope", "an invalid scope does not move on");
    await page.fill("#tl-regions", "eu-west-1");
    await page.click("summary:has-text('Optional hardening')");
    await page.fill("#tl-source-ips", "10.0.0.0/8");
    assert.match(await page.textContent("#tl-source-ips-error"), /private range/);
    await page.fill("#tl-source-ips", "203.0.113.0/24");
    await page.fill("#tl-account-id", "12345678901");
    assert.match(await page.textContent("#tl-account-id-error"), /12 digits, got 11/);
    await page.fill("#tl-account-id", "123456789012");
    await screenshot(page, "scope-hardening");
    await page.click("#tl-next");
    assert.equal(await step(page), "access");
    // A custom scope cannot use the hosted template: the page says to download instead.
    assert.equal(await page.$("#tl-launch"), null);
    assert.match(await page.textContent("#tl-doc-trust-policy"), /203\.0\.113\.0\/24/);
    assert.match(await page.textContent("#tl-doc-aws-cli"), /aws iam create-role/);
    await page.click("#tl-next");
    await page.fill("#tl-role-arn", ROLE_ARN);
    await page.click("#tl-back");
    await page.click("#tl-back");
    assert.equal(await page.inputValue("#tl-regions"), "eu-west-1");
    assert.equal(await page.inputValue("#tl-source-ips"), "203.0.113.0/24");
    await page.click("#tl-next");
    await page.click("#tl-next");
    assert.equal(await page.inputValue("#tl-role-arn"), ROLE_ARN);
    await context.close();
  });

  test("bad role ARNs show core's message at the field; failed and unsafe verifications read as next steps", async () => {
    const { page, context } = await open();
    await page.click("#tl-kind-cross-account-role");
    await page.click("#tl-next");
    await page.click("#tl-next");
    const cases = [
      ["VendorReadOnly", /is a role name, not a role ARN/],
      ["arn:aws:iam::123456789012:user/bob", /IAM user ARN, not a role ARN/],
      ["arn:aws:sts::123456789012:assumed-role/VendorReadOnly/session", /temporary session ARN/],
      ["arn:aws:iam::12345678901:role/X", /12 digits/],
    ];
    for (const [arn, message] of cases) {
      await page.fill("#tl-role-arn", arn);
      assert.match(await page.textContent("#tl-role-arn-error"), message, arn);
      assert.equal(await page.getAttribute("#tl-role-arn", "aria-invalid"), "true");
      assert.ok(await page.isDisabled("#tl-verify"));
    }
    await screenshot(page, "connect-bad-arn");
    await page.fill("#tl-role-arn", "arn:aws:iam::123456789012:role/BrokenRole");
    await page.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-warn");
    assert.match(await page.textContent("[data-check=assume_role]"), /AccessDenied/);
    await page.click("#tl-next");
    assert.equal(await step(page), "connect", "a failed verification cannot finish");
    await screenshot(page, "connect-failed");
    await page.fill("#tl-role-arn", "arn:aws:iam::123456789012:role/UnsafeRole");
    await page.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-danger");
    assert.match(await page.textContent(".tl-checks"), /without your ExternalId/);
    await context.close();
  });

  test("Organization path: StackSet template and targets", async () => {
    const { page, problems, context } = await open();
    await page.click("#tl-kind-cross-account-role");
    await page.check("#tl-organization");
    await page.click("#tl-next");
    assert.match(await page.textContent("#tl-targets-error"), /root ID/);
    await page.fill("#tl-targets", "o-abcdefghij");
    assert.match(await page.textContent("#tl-targets-error"), /organization ID/);
    await page.fill("#tl-targets", "r-ab12");
    await screenshot(page, "org-scope");
    await page.click("#tl-next");
    assert.equal(await step(page), "access");
    assert.match(await page.getAttribute("#tl-launch", "href"), /param_OrganizationalUnitIds=r-ab12/);
    assert.match(await page.textContent("#tl-doc-template-yaml"), /AWS::CloudFormation::StackSet/);
    await screenshot(page, "org-access");
    await page.click("#tl-next");
    await page.fill("#tl-role-arn", ROLE_ARN);
    await page.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-ok");
    await page.click("#tl-next");
    assert.equal(await step(page), "done");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("same-account role: service trust policy, no remote verification", async () => {
    const { page, context } = await open();
    await page.click("#tl-kind-same-account-role");
    await page.check("#tl-compute-lambda");
    await page.fill("#tl-account-id", "123456789012");
    await page.click("#tl-next");
    assert.match(await page.textContent("#tl-doc-trust-policy"), /lambda\.amazonaws\.com/);
    assert.match(await page.textContent("#tl-doc-permissions-policy"), /iam:ListUsers/);
    await screenshot(page, "same-account-access");
    await page.click("#tl-next");
    assert.equal(await page.$("#tl-verify"), null);
    await page.fill("#tl-role-arn", ROLE_ARN);
    await page.click("#tl-next");
    assert.equal(await step(page), "done");
    await context.close();
  });

  test("keyboard only: from the recommended card to done without a mouse", async () => {
    const { page, context } = await open();
    await page.focus("#tl-kind-cross-account-role");
    await page.keyboard.press("Enter");
    assert.equal(await step(page), "scope");
    assert.equal(await page.evaluate(() => document.activeElement.id), "tl-step-heading", "focus moves to the new step");
    // Tab through the scope step until Continue, then press it.
    for (let i = 0; i < 30 && (await page.evaluate(() => document.activeElement.id)) !== "tl-next"; i++) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
    assert.equal(await step(page), "access");
    await page.focus("#tl-next");
    await page.keyboard.press("Enter");
    // Enter in the ARN field verifies, then finishes.
    await page.focus("#tl-role-arn");
    await page.keyboard.type(ROLE_ARN);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".tl-checks.tl-ok");
    await page.focus("#tl-role-arn");
    await page.keyboard.press("Enter");
    assert.equal(await step(page), "done");
    await context.close();
  });

  test("usable at 360 px without horizontal scrolling", async () => {
    const { page, context } = await open({}, { width: 360, height: 780 });
    await screenshot(page, "narrow-360-kind");
    await page.click("#tl-kind-cross-account-role");
    await page.click("#tl-next");
    await screenshot(page, "narrow-360-access");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`);
    await context.close();
  });

  test("the first step is static HTML: a kind chosen before the module arrives carries into the wizard", async () => {
    const { page, context, problems } = await newPage(fx.chrome.browser);
    const held = [];
    await page.route("**/trustline-web_bg.wasm*", (route) => held.push(route));
    await page.goto(`${fx.server.base}/`);
    // Clickable and keyboard-usable before any wasm: the cards are buttons in the page's HTML.
    await page.waitForSelector("[data-tl-static] #tl-kind-cross-account-role");
    await until(() => held.length >= 1, "the module is fetched at once (preloaded)");
    assert.match(await page.textContent("#tl-kind-cross-account-role"), /Recommended/);
    await page.focus("#tl-kind-cross-account-role");
    await page.keyboard.press("Enter");
    assert.equal(await page.getAttribute("#tl-kind-cross-account-role", "aria-pressed"), "true");
    assert.match(await page.textContent("#tl-rest-loading"), /Preparing the next step/);
    assert.ok(await page.isVisible("#tl-rest-loading"));
    await screenshot(page, "static-chosen-preparing");
    const cards = () => page.$$eval(".tl-card", (cs) => cs.map((c) => [c.className, c.textContent]));
    const staticCards = await cards();
    for (const route of held.splice(0)) await route.continue();
    await page.waitForSelector("#tl-regions");
    assert.equal(await step(page), "scope", "the wizard starts where the customer is");
    assert.equal(await page.evaluate(() => document.activeElement.id), "tl-step-heading", "focus on the new step");
    assert.equal(await page.$$eval(".tl-wizard", (w) => w.length), 1, "the static step is gone");
    await page.click("#tl-back");
    assert.equal(await page.getAttribute(".tl-card.tl-selected button", "id"), "tl-kind-cross-account-role");
    assert.deepEqual(await cards(), staticCards, "the static step and the wizard's show the same cards");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("Cancel on the static first step cancels before the module arrives, and the module then stays out", async () => {
    const { page, context } = await newPage(fx.chrome.browser);
    const held = [];
    await page.route("**/trustline-web_bg.wasm*", (route) => held.push(route));
    await page.goto(`${fx.server.base}/`);
    await page.evaluate(() => {
      document.getElementById("trustline-wizard").addEventListener("trustline:cancel", () => { window.__cancelled = true; });
    });
    await page.click("[data-tl-static] #tl-cancel");
    assert.match(await page.textContent("#tl-cancelled"), /Cancelled\. Nothing was connected\./);
    assert.equal(await page.evaluate(() => window.__cancelled), true);
    for (const route of held.splice(0)) await route.continue();
    await page.waitForTimeout(500);
    assert.equal(await page.$(".tl-wizard[data-step]"), null, "no wizard after Cancel");
    await context.close();
  });

  test("a failed module fetch is reported in the page and retried", async () => {
    const { page, context } = await newPage(fx.chrome.browser);
    let blocked = true;
    let attempts = 0;
    await page.route("**/trustline-web_bg.wasm*", (route) => {
      attempts += 1;
      return blocked ? route.abort("connectionrefused") : route.continue();
    });
    await page.goto(`${fx.server.base}/`);
    await page.click("#tl-kind-same-account-role");
    await page.waitForSelector("#tl-rest-failed");
    assert.match(await page.textContent("#tl-rest-failed"), /next step could not be loaded.*Trying again in \d+ s/);
    assert.equal(await page.getAttribute("#tl-rest-failed", "role"), "alert");
    await screenshot(page, "static-fetch-failed");
    const failedAttempts = attempts;
    blocked = false;
    await page.waitForSelector("#tl-regions", { timeout: 10_000 });
    assert.ok(attempts > failedAttempts, "fetched again");
    assert.equal(await step(page), "scope");
    assert.equal(await page.$("#tl-rest-failed"), null);
    await page.click("#tl-back");
    assert.equal(await page.getAttribute(".tl-card.tl-selected button", "id"), "tl-kind-same-account-role");
    await context.close();
  });

  for (const [label, viewport] of [["desktop", { width: 1100, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
    test(`every step at ${label} width (${viewport.width} px), screenshots in target/web-artifacts/`, async () => {
      const { page, context } = await open({}, viewport);
      const shot = async (n) => {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${n}: ${overflow}px wider than the viewport`);
        await screenshot(page, `step-${label}-${n}-${await step(page)}`);
      };
      await shot(1);
      await page.click("#tl-kind-cross-account-role");
      await page.waitForSelector("#tl-regions");
      await shot(2);
      await page.click("#tl-next");
      await shot(3);
      await page.click("#tl-next");
      await page.fill("#tl-role-arn", ROLE_ARN);
      await page.click("#tl-verify");
      await page.waitForSelector(".tl-checks.tl-ok");
      await shot(4);
      await page.click("#tl-next");
      await shot(5);
      await context.close();
    });
  }

  test("without a session: a pure helper with a generated ExternalId, which the result says; bad options show an error, not a blank page", async () => {
    const saved = fx.server.state.config;
    let { page, context } = await open({ allowedKinds: ["access-key", "cross-account-role"], sessionFrom: undefined, externalIdPrefix: "acme:t1:", templateUrl: undefined });
    assert.equal(await page.$$eval(".tl-card", (cards) => cards.length), 2);
    await page.evaluate(() => {
      document.getElementById("trustline-wizard").addEventListener("trustline:complete", (e) => {
        window.__detail = JSON.stringify(e.detail);
      });
    });
    await page.click("#tl-kind-cross-account-role");
    await page.click("#tl-next");
    // No template URL: no Launch-stack button, and the steps do not ask for one.
    assert.equal(await page.$("#tl-launch"), null);
    const steps = await page.textContent(".tl-steps");
    assert.ok(!/Launch stack/.test(steps) && /Upload a template file/.test(steps), steps);
    await screenshot(page, "access-without-template");
    const generated = await page.textContent("#tl-external-id");
    assert.match(generated, /^acme:t1:[a-z0-9]{32}$/);
    await page.click("#tl-next");
    assert.equal(await page.$("#tl-verify"), null, "nothing to verify with");
    await page.fill("#tl-role-arn", ROLE_ARN);
    await page.click("#tl-next");
    assert.equal(await step(page), "done");
    const detail = JSON.parse(await page.evaluate(() => window.__detail));
    assert.deepEqual([detail.externalId, detail.externalIdSource, detail.externalIdGenerated, detail.tenant, detail.verdict], [generated, "browser", true, null, null]);
    await screenshot(page, "helper-done");
    await context.close();
    fx.server.state.config = saved;
    // An externalId that is not the session's is refused, naming the option.
    ({ page, context } = await newPageWith({ externalId: "acme:someone-else:123" }));
    assert.match(await page.textContent("#trustline-wizard"), /option `externalId`: 'acme:someone-else:123' differs from session.externalId/);
    await context.close();
    ({ page, context } = await newPageWith({ vendorPrincipal: "123456789012" }));
    const text = await page.textContent("#trustline-wizard");
    assert.match(text, /option `vendorPrincipal`/);
    assert.match(text, /root ARN/);
    await screenshot(page, "bad-options");
    await context.close();
  });
});

async function until(condition, what) {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(condition(), what);
}

async function newPageWith(config) {
  const saved = fx.server.state.config;
  fx.server.state.config = { ...saved, ...config };
  const p = await newPage(fx.chrome.browser);
  await p.page.goto(`${fx.server.base}/`);
  await p.page.waitForSelector("#trustline-wizard[role=alert]");
  fx.server.state.config = saved;
  return p;
}

export { KEY_ID, ROLE_ARN, SECRET };
