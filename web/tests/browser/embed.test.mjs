// The "existing dashboard" example (web/examples/dashboard: plain HTML + JS, no Yew) gets a
// session from its backend (here the harness's FAKE one), mounts the wizard with it, gets the
// result as a callback and a DOM event, registers it (FAKE worker routes) and destroys the
// wizard; cancel and bad options too. Also checks the TypeScript declarations the build ships.
// The dashboard against the real worker and its real backend (server.mjs): worker.test.mjs.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, test } from "node:test";

import { DIST, SESSION_TOKEN, VENDOR, newPage, screenshot, serverAndBrowser } from "./harness.mjs";

const fx = serverAndBrowser();

async function dashboard(config) {
  fx.server.state.dashboardConfig = config;
  const p = await newPage(fx.chrome.browser);
  await p.page.goto(`${fx.server.base}/dashboard/`);
  await p.page.waitForFunction(() => document.querySelector("#connect-aws") && !document.querySelector("#connect-aws").disabled);
  return p;
}

const events = (page) => page.$$eval("#events li", (lis) => lis.map((li) => li.textContent));

describe("embedding", () => {
  test("mount, complete (callback and event), destroy", async () => {
    fx.server.state.connections = [];
    // The vendor principal comes with the session (the worker's vendor_principal).
    const { page, problems, context } = await dashboard({
      vendorName: "Acme",
      sessionEndpoint: "/session",
      apiUrl: `${fx.server.base}/api`,
    });
    // Give the wasm module a moment: mount is available once init() resolved.
    await page.waitForTimeout(100);
    await page.click("#connect-aws");
    await page.waitForSelector("#connect-panel .tl-wizard");
    assert.match(await page.textContent("#connect-panel h1"), /Connect an AWS account to Acme/);
    await screenshot(page, "dashboard-mounted");
    await page.click("#tl-kind-cross-account-role");
    await page.click("#tl-next");
    await page.click("#tl-next");
    await page.fill("#tl-role-arn", "arn:aws:iam::123456789012:role/VendorReadOnly");
    await page.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-ok");
    await page.click("#tl-next");
    await page.waitForFunction(() => document.querySelectorAll("#events li").length >= 4);
    assert.deepEqual(await events(page), [
      "event trustline:complete cross-account-role",
      "callback onComplete cross-account-role verified=true",
      "registered c-fake1",
      "synced c-fake1: ok, 3 resources",
    ]);
    await page.waitForFunction(() => document.getElementById("connect-panel").hidden);
    assert.equal(await page.$$eval(".tl-wizard", (w) => w.length), 0, "destroy() removed the wizard");
    assert.match(await page.textContent("#accounts"), /123456789012 — aws-123456789012 \(cross-account-role, active\)/);
    assert.match(await page.textContent("#backend-status"), /3 resources inventoried/);
    const registration = fx.server.state.verifyRequests.at(-1);
    assert.equal(registration.headers.authorization, `Bearer ${SESSION_TOKEN}`);
    assert.deepEqual(Object.keys(registration.body).sort(), ["data_sets", "kind", "regions", "role_arn"], "no id, no ExternalId");
    await screenshot(page, "dashboard-completed");
    // Mount again and cancel.
    await page.click("#connect-aws");
    await page.waitForSelector("#connect-panel .tl-wizard");
    await page.click("#tl-cancel");
    await page.waitForFunction(() => document.getElementById("connect-panel").hidden);
    assert.deepEqual((await events(page)).slice(4), ["event trustline:cancel", "callback onCancel"]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("bad options: mount throws an Error naming the option", async () => {
    const { page, context } = await dashboard({ vendorName: "Acme", vendorPrinciple: VENDOR, sessionEndpoint: null });
    await page.waitForTimeout(100);
    await page.click("#connect-aws");
    await page.waitForSelector("#mount-error:not([hidden])");
    assert.match(await page.textContent("#mount-error"), /option `vendorPrinciple`: unknown option/);
    await screenshot(page, "dashboard-bad-options");
    const messages = await page.evaluate(async () => {
      const { mount } = await import("/trustline-web.js");
      const attempt = (el, options) => {
        try {
          mount(el, options);
          return "no error";
        } catch (e) {
          return e.message;
        }
      };
      const el = document.createElement("div");
      return [
        attempt(null, {}),
        attempt(el, { vendorName: "Acme" }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", onComplete: 5 }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", verify: { url: "/api" } }),
        // Parsed by the browser's URL in the wizard's module, checked by core.
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", templateUrl: "http://b.s3.amazonaws.com/t.yaml" }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", templateUrl: "https://example.com/t.yaml" }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", templateUrl: "not a url" }),
        // A page must never hold the operator's token: only session tokens are accepted.
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme",
          session: { url: "/api", tenant: "acme", token: "4f1e9a7c2d0b5e8f", externalId: "abc123" } }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme",
          session: { url: "/api", tenant: "acme", token: "tl_session_x", externalId: "abc123", headers: { "x-a": "1" } } }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", externalId: "abc123",
          session: { url: "/api", tenant: "acme", token: "tl_session_x", externalId: "def456" } }),
      ];
    });
    assert.match(messages[0], /option `element`/);
    assert.match(messages[1], /option `vendorPrincipal`: is required/);
    assert.match(messages[2], /option `onComplete`: must be a function/);
    assert.match(messages[3], /option `verify`: was replaced by `session/);
    assert.match(messages[4], /option `templateUrl`: the template URL must use https/);
    assert.match(messages[5], /option `templateUrl`: CloudFormation only reads templates from Amazon S3/);
    assert.match(messages[6], /option `templateUrl`: 'not a url' is not a URL/);
    assert.match(messages[7], /option `session.token`: must be a browser session token .*never give a page the worker's operator token/);
    assert.ok(!messages[7].includes("4f1e9a7c2d0b5e8f"), "the token is not in the error");
    assert.match(messages[8], /option `session.headers`/);
    assert.match(messages[9], /option `externalId`: 'abc123' differs from session.externalId 'def456'/);
    await context.close();
  });

  test("pure helpers work without mounting", async () => {
    const { page, context } = await dashboard({ vendorPrincipal: VENDOR, vendorName: "Acme", sessionEndpoint: null });
    const out = await page.evaluate(async (vendor) => {
      const m = await import("/trustline-web.js");
      const errorOf = (f) => {
        try {
          f();
          return null;
        } catch (e) {
          return e.message;
        }
      };
      return {
        badInput: errorOf(() => m.trustPolicy({ vendorPrincipal: vendor, externalId: "abc123", sourceIp: [] })),
        id: m.generateExternalId("acme:"),
        arn: m.parseRoleArn("arn:aws:iam::123456789012:role/path/Reader"),
        badArn: errorOf(() => m.parseRoleArn("Reader")),
        trust: m.trustPolicy({ vendorPrincipal: vendor, externalId: "abc123" }),
        perms: m.permissionsPolicy({ accountId: "123456789012", dataSets: ["iam"] }),
        yaml: m.roleTemplate({ vendorPrincipal: vendor, vendorName: "Acme", externalId: "abc123" }),
        link: m.quickCreateLink({
          templateUrl: "https://b.s3.us-east-1.amazonaws.com/role.yaml", region: "eu-west-1", externalId: "abc123", vendorPrincipal: vendor,
        }),
        signed: m.signGetCallerIdentity({
          accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1", timeMs: 1440938160000,
        }),
      };
    }, VENDOR);
    assert.match(out.badInput, /^trustPolicy: unknown field `sourceIp`/);
    assert.match(out.id, /^acme:[a-z0-9]{32}$/);
    assert.deepEqual(out.arn, { partition: "aws", accountId: "123456789012", path: "/path/", name: "Reader" });
    assert.match(out.badArn, /role name, not a role ARN/);
    assert.match(out.trust, /"sts:ExternalId": "abc123"/);
    assert.match(out.perms, /iam:ListUsers/);
    assert.match(out.yaml, /AWSTemplateFormatVersion/);
    assert.match(out.link, /param_ExternalId=abc123/);
    assert.equal(out.signed.url, "https://sts.us-east-1.amazonaws.com/");
    assert.equal(out.signed.headers["x-amz-date"], "20150830T123600Z");
    assert.match(out.signed.headers.authorization, /Credential=AKIDEXAMPLE\/20150830\/us-east-1\/sts\/aws4_request/);
    await context.close();
  });

  test("TypeScript declarations cover mount, the handle, the options and every helper", async () => {
    const dts = await fs.readFile(path.join(DIST, "trustline-web.d.ts"), "utf8");
    for (const needle of [
      "export interface TrustlineOptions",
      "export interface TrustlineResult",
      "export interface TrustlineSession",
      "session?: TrustlineSession;",
      'externalIdSource: "session" | "option" | "browser";',
      "export function mount(element: Element, options: TrustlineOptions): WizardHandle;",
      "destroy(): void;",
      "export function generateExternalId(prefix?: string | null): string;",
      "export function parseRoleArn(arn: string): RoleArnParts;",
      "export function trustPolicy(input_: TrustPolicyInput): string;",
      "export function permissionsPolicy(input_: PermissionsPolicyInput): string;",
      "export function roleTemplate(input_: RoleTemplateInput): string;",
      "export function quickCreateLink(input_: QuickCreateInput): string;",
      "export function signGetCallerIdentity(input_: SignInput): SignedRequest;",
    ]) {
      assert.ok(dts.includes(needle), `missing in trustline-web.d.ts: ${needle}`);
    }
    assert.ok(!/verify\?:|headers\?: Record/.test(dts), "no `verify` or `headers` options any more");
    assert.ok(!dts.includes("loadDocuments") && !dts.includes("mountWizard"), "one module: nothing to load separately");
  });
});
