// The key kinds: the browser signs STS GetCallerIdentity with core's SigV4 and sends it to moto
// (which checks the signature after its setup window), shows who the key belongs to, refuses
// root keys, and never lets the secret reach storage, the URL, the DOM or the DOM event.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { SESSION_TOKEN, TENANT, motoIam, newPage, screenshot, serverAndBrowser, startFakeRootSts, startMoto } from "./harness.mjs";

const fx = serverAndBrowser();
let moto;
let key;

before(async () => {
  // Two unauthenticated setup calls, then moto verifies every signature.
  moto = await startMoto({ noAuthActions: 2 });
  await motoIam(moto.url, { Action: "CreateUser", UserName: "vendor-reader" });
  const xml = await motoIam(moto.url, { Action: "CreateAccessKey", UserName: "vendor-reader" });
  key = { id: /<AccessKeyId>(.*?)</.exec(xml)[1], secret: /<SecretAccessKey>(.*?)</.exec(xml)[1] };
});
after(async () => {
  await moto?.stop();
});

async function toConnect(kind, config) {
  fx.server.state.config = { ...fx.server.state.config, ...config };
  const p = await newPage(fx.chrome.browser);
  await p.page.goto(`${fx.server.base}/`);
  await p.page.click(`#tl-kind-${kind}`);
  await p.page.fill("#tl-account-id", "123456789012");
  await p.page.click("#tl-next");
  return p;
}

describe("key kinds", () => {
  test("access key: checked against moto's STS from the browser, verified, secret kept out of storage", async () => {
    fx.server.state.verifyRequests = [];
    const { page, problems, context } = await toConnect("access-key", { stsEndpoint: moto.url });
    assert.match(await page.textContent(".tl-alert.tl-danger"), /long-lived secret/);
    assert.match(await page.textContent("#tl-doc-boundary"), /Boundary/);
    assert.match(await page.textContent(".tl-rotation"), /every 90 days/);
    await screenshot(page, "access-key-access");
    await page.click("#tl-next");
    // Shape errors at the field, before any call.
    await page.fill("#tl-access-key-id", "AKIA123");
    assert.match(await page.textContent("#tl-access-key-id-error"), /20 upper-case letters/);
    await page.fill("#tl-secret", key.id);
    assert.match(await page.textContent("#tl-secret-error"), /this is the access key ID/);
    assert.equal(await page.getAttribute("#tl-secret", "type"), "password");
    // A wrong secret: moto checks the signature and refuses it.
    const wrong = key.secret.slice(0, -1) + (key.secret.endsWith("A") ? "B" : "A");
    await page.fill("#tl-access-key-id", key.id);
    await page.fill("#tl-secret", wrong);
    await page.click("#tl-check-key");
    await page.waitForSelector("#tl-key-result .tl-danger");
    assert.match(await page.textContent("#tl-key-result"), /does not belong to this access key ID/);
    await screenshot(page, "access-key-wrong-secret");
    await page.fill("#tl-secret", key.secret);
    await page.click("#tl-check-key");
    await page.waitForSelector("#tl-identity");
    assert.match(await page.textContent("#tl-identity"), /arn:aws:iam::123456789012:user\/vendor-reader/);
    await screenshot(page, "access-key-identity");
    await page.evaluate(() => {
      document.getElementById("trustline-wizard").addEventListener("trustline:complete", (e) => {
        window.__detail = JSON.stringify(e.detail);
      });
    });
    await page.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-ok");
    await page.click("#tl-next");
    assert.equal(await page.getAttribute(".tl-wizard", "data-step"), "done");
    const request = fx.server.state.verifyRequests.at(-1);
    assert.equal(request.path, `/api/v1/tenants/${TENANT}/verify/keys`);
    assert.equal(request.headers.authorization, `Bearer ${SESSION_TOKEN}`);
    assert.equal(request.body.kind, "access-key");
    assert.equal(request.body.secret_access_key, key.secret, "the secret goes to the verify API only");
    const detail = JSON.parse(await page.evaluate(() => window.__detail));
    assert.equal(detail.accessKeyId, key.id);
    assert.equal(detail.identityArn, "arn:aws:iam::123456789012:user/vendor-reader");
    const leaks = await page.evaluate((secret) => ({
      detail: (window.__detail ?? "").includes(secret),
      local: JSON.stringify(localStorage).includes(secret),
      session: JSON.stringify(sessionStorage).includes(secret),
      cookie: document.cookie.includes(secret),
      url: location.href.includes(secret),
      html: document.documentElement.outerHTML.includes(secret),
    }), key.secret);
    assert.deepEqual(leaks, { detail: false, local: false, session: false, cookie: false, url: false, html: false });
    assert.deepEqual(problems.filter((p) => !p.includes("403")), []);
    await context.close();
  });

  test("STS kind: role ARN plus key, checked with moto", async () => {
    fx.server.state.verifyRequests = [];
    const { page, context } = await toConnect("sts", { stsEndpoint: moto.url });
    assert.match(await page.textContent("#tl-doc-user-policy"), /sts:AssumeRole/);
    await page.click("#tl-next");
    await page.fill("#tl-role-arn", "arn:aws:iam::123456789012:role/VendorReadOnly");
    await page.fill("#tl-access-key-id", key.id);
    await page.fill("#tl-secret", key.secret);
    await page.click("#tl-check-key");
    await page.waitForSelector("#tl-identity");
    await page.click("#tl-verify");
    await page.waitForSelector(".tl-checks.tl-ok");
    assert.equal(fx.server.state.verifyRequests.at(-1).body.role_arn, "arn:aws:iam::123456789012:role/VendorReadOnly");
    await screenshot(page, "sts-verified");
    await context.close();
  });

  test("root keys are refused loudly (FAKE STS answer: moto never reports a root ARN)", async () => {
    const fakeSts = await startFakeRootSts();
    const { page, context } = await toConnect("access-key", { stsEndpoint: fakeSts.url });
    await page.click("#tl-next");
    await page.fill("#tl-access-key-id", "AKIAIOSFODNN7EXAMPLE");
    await page.fill("#tl-secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    await page.click("#tl-check-key");
    await page.waitForSelector("#tl-key-result [role=alert]", { timeout: 5000 }).catch(async (e) => {
      await screenshot(page, "access-key-root-failure");
      throw new Error(`${e.message}: ${await page.textContent(".tl-step")}`);
    });
    assert.match(await page.textContent("#tl-key-result"), /root user's keys/);
    assert.ok(await page.isDisabled("#tl-verify"));
    await screenshot(page, "access-key-root");
    await context.close();
    await fakeSts.close();
  });
});
