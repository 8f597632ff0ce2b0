"""Signs a corpus of requests with botocore's SigV4Auth, for the cross-implementation test.

Reads a JSON list of cases on stdin (method, url, headers, body_b64, service, region,
access_key, secret_key, session_token, time as epoch seconds) and writes a JSON list of the
Authorization headers botocore computes, in the same order. Test credentials only.
"""

import base64
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    now = datetime.datetime.fromtimestamp(case["time"], tz=datetime.timezone.utc).replace(tzinfo=None)
    # botocore reads the clock through this function; pin it to the test's time.
    botocore.auth.get_current_datetime = lambda: now
    request = AWSRequest(
        method=case["method"],
        url=case["url"],
        headers=dict(case["headers"]),
        data=base64.b64decode(case["body_b64"]),
    )
    creds = Credentials(case["access_key"], case["secret_key"], case.get("session_token"))
    botocore.auth.SigV4Auth(creds, case["service"], case["region"]).add_auth(request)
    return {
        "authorization": request.headers["Authorization"],
        "x-amz-date": request.headers["X-Amz-Date"],
    }


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
