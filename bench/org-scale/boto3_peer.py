"""The org-scale benchmark's peer: the inventory script users write with boto3, run against the
same aws-sim instance as `trustline sync`, to compare wall times under the same latency and
token buckets.

- The vendor's key comes from the environment (AWS_ACCESS_KEY_ID…), as the SDK chain finds it.
- Organizations: sts.assume_role into the management account's discovery role (with the
  ExternalId), the `list_accounts` paginator; every ACTIVE account is read, the management
  account included (Trustline reads the same set).
- One thread per account, `ThreadPoolExecutor(max_workers=min(32, accounts))`, each with its
  own boto3 Session (sessions are not thread-safe). In its thread, one account after the other
  step: sts.assume_role into the account's role with the ExternalId, then
  - IAM: the `get_account_authorization_details` paginator (User, Group, Role,
    LocalManagedPolicy, AWSManagedPolicy), the `list_access_keys` paginator per user, then
    generate_credential_report until COMPLETE and get_credential_report for the keys' last use;
  - per region, in turn: the describe_instances, describe_vpcs, describe_subnets,
    describe_security_groups and describe_network_interfaces paginators (PageSize 1000), then
    the `lookup_events` paginator over the last 7 days (Trustline's first-run lookback), 50 a page.
- Every client: `Config(retries={"mode": "standard", "max_attempts": N})`, N from PEER_MAX_ATTEMPTS,
  default 10, as scripts that meet throttling set it (standard mode's own default is 3, which
  also completed at 10 accounts: 127.3 s against 121.4 s), and `endpoint_url` the simulator's
  (loopback). No client-side pacing: a throttled call waits standard mode's jittered backoff.
- Each account's items are written to OUT/<account>.json (as a script would keep them), and
  counted per kind, classified as Trustline's store does (an AWS-managed policy counts only when
  attached).

Usage: boto3_peer.py STARTED_JSON OUT_DIR   (STARTED_JSON: aws-sim's start line, as a file)
Prints one JSON line: accounts, workers, per-kind counts, failures, seconds.
"""

import csv
import io
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta, timezone

import boto3
from botocore.config import Config

HOME = "us-east-1"
LOOKBACK = timedelta(days=7)
CONFIG = Config(retries={"mode": "standard", "max_attempts": int(os.environ.get("PEER_MAX_ATTEMPTS", "10"))})

EC2_LISTS = [
    ("ec2-instance", "describe_instances", "Reservations"),
    ("ec2-vpc", "describe_vpcs", "Vpcs"),
    ("ec2-subnet", "describe_subnets", "Subnets"),
    ("ec2-security-group", "describe_security_groups", "SecurityGroups"),
    ("ec2-network-interface", "describe_network_interfaces", "NetworkInterfaces"),
]


def assume(session, endpoint, role_arn, external_id, name):
    sts = session.client("sts", region_name=HOME, endpoint_url=endpoint, config=CONFIG)
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName=name, ExternalId=external_id)["Credentials"]
    return boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                 aws_session_token=c["SessionToken"])


def iam_inventory(iam, items):
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    pages = iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"])
    for page in pages:
        for key in details:
            details[key].extend(page.get(key, []))
    items["iam-user"] = details["UserDetailList"]
    items["iam-group"] = details["GroupDetailList"]
    items["iam-role"] = details["RoleDetailList"]
    items["iam-policy"] = [p for p in details["Policies"] if ":iam::aws:policy/" not in p["Arn"]]
    items["iam-aws-managed-policy"] = [
        p for p in details["Policies"] if ":iam::aws:policy/" in p["Arn"] and p.get("AttachmentCount", 0) > 0]

    keys = []
    paginator = iam.get_paginator("list_access_keys")
    for user in details["UserDetailList"]:
        for page in paginator.paginate(UserName=user["UserName"]):
            keys.extend(page["AccessKeyMetadata"])
    for _ in range(20):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.5)
    report = iam.get_credential_report()["Content"].decode()
    rows = {row["user"]: row for row in csv.DictReader(io.StringIO(report))}
    for key in keys:
        row = rows.get(key["UserName"], {})
        for slot in ("1", "2"):
            rotated = row.get(f"access_key_{slot}_last_rotated", "N/A")
            if rotated not in ("N/A", "not_supported") and \
                    datetime.fromisoformat(rotated.replace("Z", "+00:00")) == key["CreateDate"]:
                key["LastUsedDate"] = row.get(f"access_key_{slot}_last_used_date")
    items["iam-access-key"] = keys


def region_inventory(session, endpoint, region, start, end, items):
    ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint, config=CONFIG)
    for kind, operation, key in EC2_LISTS:
        found = []
        for page in ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": 1000}):
            found.extend(page[key])
        if kind == "ec2-instance":
            found = [i for r in found for i in r["Instances"]]
        items.setdefault(kind, []).extend(found)
    trail = session.client("cloudtrail", region_name=region, endpoint_url=endpoint, config=CONFIG)
    for page in trail.get_paginator("lookup_events").paginate(
            StartTime=start, EndTime=end, PaginationConfig={"PageSize": 50}):
        items.setdefault("events", []).extend(page["Events"])


def scan_account(account, started, endpoint, regions, out):
    """One account's inventory, in its own thread and session; returns per-kind counts."""
    session = boto3.session.Session()  # the vendor's key from the environment
    role = f"arn:aws:iam::{account}:role/{started['role_name']}"
    member = assume(session, endpoint, role, started["external_id"], f"inventory-{account}")
    end = datetime.now(timezone.utc)
    start = end - LOOKBACK
    items = {}
    iam_inventory(member.client("iam", region_name=HOME, endpoint_url=endpoint, config=CONFIG), items)
    for region in regions:
        region_inventory(member, endpoint, region, start, end, items)
    with open(os.path.join(out, f"{account}.json"), "w") as f:
        json.dump(items, f, default=str)
    return {kind: len(v) for kind, v in items.items()}


def main():
    started = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    endpoint, regions = started["endpoint"], started["regions"]
    t0 = time.monotonic()

    org = assume(boto3.session.Session(), endpoint, started["org_role_arn"], started["external_id"], "inventory-org")
    organizations = org.client("organizations", region_name=HOME, endpoint_url=endpoint, config=CONFIG)
    accounts = [a["Id"] for page in organizations.get_paginator("list_accounts").paginate()
                for a in page["Accounts"] if a["Status"] == "ACTIVE"]

    workers = min(32, len(accounts))
    counts, failed = Counter(), []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(scan_account, a, started, endpoint, regions, out): a for a in accounts}
        for future in as_completed(futures):
            try:
                counts.update(future.result())
            except Exception as e:  # noqa: BLE001 - reported, and the driver fails the run
                failed.append((futures[future], f"{type(e).__name__}: {e}"))
    print(json.dumps({"accounts": len(accounts), "workers": workers, "counts": dict(sorted(counts.items())),
                      "failed": sorted(failed), "seconds": time.monotonic() - t0}))


if __name__ == "__main__":
    main()
