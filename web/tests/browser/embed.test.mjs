// The "existing dashboard" example (web/examples/dashboard: plain HTML + JS, no Yew) mounts the
// wizard, gets the result as a callback and a DOM event, and destroys it; cancel and bad
// options too. Also checks the TypeScript declarations the build ships.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, test } from "node:test";

import { DIST, EXTERNAL_ID, VENDOR, newPage, screenshot, serverAndBrowser } from "./harness.mjs";

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
    const { page, problems, context } = await dashboard({
      vendorPrincipal: VENDOR,
      vendorName: "Acme",
      externalId: EXTERNAL_ID,
      verify: { url: `${fx.server.base}/api` },
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
    await page.waitForFunction(() => document.querySelectorAll("#events li").length >= 2);
    assert.deepEqual(await events(page), [
      "event trustline:complete cross-account-role",
      "callback onComplete cross-account-role verified=true",
    ]);
    await page.waitForFunction(() => document.getElementById("connect-panel").hidden);
    assert.equal(await page.$$eval(".tl-wizard", (w) => w.length), 0, "destroy() removed the wizard");
    assert.match(await page.textContent("#accounts"), /123456789012 — arn:aws:iam::123456789012:role\/VendorReadOnly/);
    await screenshot(page, "dashboard-completed");
    // Mount again and cancel.
    await page.click("#connect-aws");
    await page.waitForSelector("#connect-panel .tl-wizard");
    await page.click("#tl-cancel");
    await page.waitForFunction(() => document.getElementById("connect-panel").hidden);
    assert.deepEqual((await events(page)).slice(2), ["event trustline:cancel", "callback onCancel"]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("bad options: mount throws an Error naming the option", async () => {
    const { page, context } = await dashboard({ vendorName: "Acme", vendorPrinciple: VENDOR });
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
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", verify: { url: "ftp://x" } }),
        // Parsed by the browser's URL in the wizard's module, checked by core.
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", templateUrl: "http://b.s3.amazonaws.com/t.yaml" }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", templateUrl: "https://example.com/t.yaml" }),
        attempt(el, { vendorPrincipal: "arn:aws:iam::111122223333:root", vendorName: "Acme", templateUrl: "not a url" }),
      ];
    });
    assert.match(messages[0], /option `element`/);
    assert.match(messages[1], /option `vendorPrincipal`: is required/);
    assert.match(messages[2], /option `onComplete`: must be a function/);
    assert.match(messages[3], /option `verify.url`/);
    assert.match(messages[4], /option `templateUrl`: the template URL must use https/);
    assert.match(messages[5], /option `templateUrl`: CloudFormation only reads templates from Amazon S3/);
    assert.match(messages[6], /option `templateUrl`: 'not a url' is not a URL/);
    await context.close();
  });

  test("pure helpers work without mounting", async () => {
    const { page, context } = await dashboard({ vendorPrincipal: VENDOR, vendorName: "Acme" });
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
      // The document helpers live in the documents module, fetched on demand (issue 5's budget).
      const beforeLoad = errorOf(() => m.trustPolicy({ vendorPrincipal: vendor, externalId: "abc123" }));
      await m.loadDocuments();
      return {
        beforeLoad,
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
    assert.match(out.beforeLoad, /trustPolicy is in the documents module: `await loadDocuments\(\)`/);
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
      "export function mount(element: Element, options: TrustlineOptions): WizardHandle;",
      "destroy(): void;",
      "export function generateExternalId(prefix?: string | null): string;",
      "export function parseRoleArn(arn: string): RoleArnParts;",
      "export function trustPolicy(input_: TrustPolicyInput): string;",
      "export function permissionsPolicy(input_: PermissionsPolicyInput): string;",
      "export function roleTemplate(input_: RoleTemplateInput): string;",
      "export function quickCreateLink(input_: QuickCreateInput): string;",
      "export function signGetCallerIdentity(input_: SignInput): SignedRequest;",
      "export function loadDocuments(): Promise<void>;",
    ]) {
      assert.ok(dts.includes(needle), `missing in trustline-web.d.ts: ${needle}`);
    }
  });
});
