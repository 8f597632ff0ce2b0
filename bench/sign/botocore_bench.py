"""Signs bench/sign's request set with botocore's SigV4Auth and prints the cost per request.

Usage: botocore_bench.py REQUESTS_JSON  (written by `cargo bench -p trustline-core --bench sign`)
Prints one JSON line: {"impl": "botocore", "ns_per_request": ...}.
"""

import datetime
import json
import sys
import time

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    doc = json.load(open(sys.argv[1]))
    now = datetime.datetime.fromtimestamp(doc["time"], tz=datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda: now
    creds = Credentials(doc["access_key"], doc["secret_key"], doc["session_token"])
    signers = []
    for r in doc["requests"]:
        request = AWSRequest(method=r["method"], url=r["url"], headers=dict(r["headers"]), data=r["body"].encode())
        signers.append((botocore.auth.SigV4Auth(creds, r["service"], r["region"]), request))
    rounds = 0
    start = time.perf_counter()
    # Run for about two seconds, as criterion does per sample set.
    while time.perf_counter() - start < 2.0:
        for auth, request in signers:
            auth.add_auth(request)
        rounds += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"impl": "botocore", "ns_per_request": elapsed * 1e9 / (rounds * len(signers))}))


if __name__ == "__main__":
    main()
