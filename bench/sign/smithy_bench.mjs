// Signs bench/sign's request set with @smithy/signature-v4 (Node's crypto for SHA-256, as the
// AWS SDK for JavaScript does in Node) and prints the cost per request as one JSON line.
// Note: SignatureV4 caches derived signing keys per date/region/service.
import { readFileSync } from "node:fs";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";

const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const credentials = { accessKeyId: doc.access_key, secretAccessKey: doc.secret_key, sessionToken: doc.session_token };
const signingDate = new Date(doc.time * 1000);
const jobs = doc.requests.map((r) => {
  const url = new URL(r.url);
  const headers = Object.fromEntries(r.headers);
  headers.host = url.host;
  const request = new HttpRequest({
    method: r.method, protocol: url.protocol, hostname: url.hostname, path: url.pathname, headers, body: r.body,
  });
  const signer = new SignatureV4({ credentials, region: r.region, service: r.service, sha256: Hash.bind(null, "sha256") });
  return { signer, request };
});

let rounds = 0;
const start = process.hrtime.bigint();
while (Number(process.hrtime.bigint() - start) < 2e9) {
  for (const { signer, request } of jobs) {
    await signer.sign(request, { signingDate });
  }
  rounds++;
}
const elapsed = Number(process.hrtime.bigint() - start);
console.log(JSON.stringify({ impl: "smithy", ns_per_request: elapsed / (rounds * jobs.length) }));
