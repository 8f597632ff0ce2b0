"""Verifies recorded webhook deliveries with the Standard Webhooks reference library (PyPI
`standardwebhooks`), as a receiver would.

Reads JSON on stdin: {"secret": "whsec_...", "other_secret": "whsec_...", "deliveries":
[{"id", "timestamp", "signature", "body"}]}. Prints one JSON object per delivery: whether the
delivery verifies, whether a tampered body is rejected, and whether another secret is rejected.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verifies(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def main():
    request = json.load(sys.stdin)
    results = []
    for d in request["deliveries"]:
        headers = {
            "webhook-id": d["id"],
            "webhook-timestamp": d["timestamp"],
            "webhook-signature": d["signature"],
        }
        body = d["body"]
        tampered = body.replace('"data":{', '"data":{"injected":1,', 1)
        assert tampered != body, "the body has a data object to tamper with"
        results.append(
            {
                "id": d["id"],
                "valid": verifies(request["secret"], body, headers),
                "tampered_rejected": not verifies(request["secret"], tampered, headers),
                "wrong_secret_rejected": not verifies(request["other_secret"], body, headers),
            }
        )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
