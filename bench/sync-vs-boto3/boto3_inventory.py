"""The baseline: a plain, sequential boto3 inventory of one account, collecting what Trustline's
sync stores for the data sets `iam` and `ec2-network`, held in memory as a list of dicts.

- STS GetCallerIdentity (the account ID).
- IAM: GetAccountAuthorizationDetails (users, groups, roles, local and AWS-managed policies; an
  AWS-managed policy counts only when attached), ListAccessKeys per user, and the credential
  report (GenerateCredentialReport until COMPLETE, GetCredentialReport) for each key's last use.
- EC2, per region in turn: DescribeInstances, DescribeVpcs, DescribeSubnets,
  DescribeSecurityGroups, DescribeNetworkInterfaces, with Trustline's page size (1,000).

Usage: boto3_inventory.py ENDPOINT REGION,REGION
Prints one JSON line: seconds, calls and time in calls (total and per operation), and per
"kind region" the count and a digest of the sorted IDs, for the driver to compare with
Trustline's store.
"""

import csv
import hashlib
import io
import json
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime

import boto3

from common import CREDENTIALS

PAGE_SIZE = 1000
calls = Counter()
seconds = Counter()
_started = {}


def count(event_name, **_):
    # before-send.<service>.<Operation>: once per HTTP request, retries included.
    calls[event_name.split(".", 1)[1]] += 1


def call_started(event_name, **_):
    _started[event_name.split(".", 1)[1]] = time.perf_counter()


def call_finished(event_name, **_):
    # From before-call to after-call: building, signing, sending, waiting for and parsing one page.
    operation = event_name.split(".", 1)[1]
    seconds[operation] += time.perf_counter() - _started.pop(operation)


def make_client(session, endpoint, service, region):
    c = session.client(service, region_name=region, endpoint_url=endpoint)
    c.meta.events.register("before-send", count)
    c.meta.events.register("before-call", call_started)
    c.meta.events.register("after-call", call_finished)
    return c


def tags(items):
    return {t["Key"]: t["Value"] for t in items or []}


def iam_inventory(iam):
    inventory = []

    def add(kind, id_, name, arn=None, tag_list=None, **attributes):
        inventory.append({"kind": kind, "region": "global", "id": id_, "name": name, "arn": arn,
                          "tags": tags(tag_list), "attributes": attributes})

    details = defaultdict(list)
    pages = iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"])
    for page in pages:
        for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
            details[key].extend(page.get(key, []))

    for u in details["UserDetailList"]:
        add("iam-user", u["UserName"], u["UserName"], u["Arn"], u.get("Tags"), user_id=u["UserId"],
            path=u["Path"], created=u["CreateDate"], groups=u.get("GroupList", []),
            attached_policies=[p["PolicyArn"] for p in u.get("AttachedManagedPolicies", [])],
            inline_policies=[p["PolicyName"] for p in u.get("UserPolicyList", [])],
            permissions_boundary=u.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"))
    for g in details["GroupDetailList"]:
        add("iam-group", g["GroupName"], g["GroupName"], g["Arn"], group_id=g["GroupId"], path=g["Path"],
            created=g["CreateDate"],
            attached_policies=[p["PolicyArn"] for p in g.get("AttachedManagedPolicies", [])],
            inline_policies=[p["PolicyName"] for p in g.get("GroupPolicyList", [])])
    for r in details["RoleDetailList"]:
        add("iam-role", r["RoleName"], r["RoleName"], r["Arn"], r.get("Tags"), role_id=r["RoleId"],
            path=r["Path"], created=r["CreateDate"], trust_policy=r.get("AssumeRolePolicyDocument"),
            attached_policies=[p["PolicyArn"] for p in r.get("AttachedManagedPolicies", [])],
            inline_policies=[p["PolicyName"] for p in r.get("RolePolicyList", [])],
            permissions_boundary=r.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
            last_used=r.get("RoleLastUsed", {}).get("LastUsedDate"))
    for p in details["Policies"]:
        is_aws = ":iam::aws:policy/" in p["Arn"]
        if is_aws and p.get("AttachmentCount", 0) == 0:
            continue
        add("iam-aws-managed-policy" if is_aws else "iam-policy", p["Arn"], p.get("PolicyName"), p["Arn"],
            path=p["Path"], default_version=p.get("DefaultVersionId"),
            attachment_count=p.get("AttachmentCount"), created=p.get("CreateDate"))

    keys = []
    paginator = iam.get_paginator("list_access_keys")
    for u in details["UserDetailList"]:
        for page in paginator.paginate(UserName=u["UserName"]):
            for k in page["AccessKeyMetadata"]:
                keys.append({"kind": "iam-access-key", "region": "global", "id": k["AccessKeyId"],
                             "name": k.get("UserName", u["UserName"]), "arn": None, "tags": {},
                             "attributes": {"user": u["UserName"], "active": k["Status"] == "Active",
                                            "created": k["CreateDate"]}})

    # The same polling Trustline does: ask until the report is COMPLETE, half a second apart.
    for _ in range(20):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.5)
    report = iam.get_credential_report()["Content"].decode()
    rows = {row["user"]: row for row in csv.DictReader(io.StringIO(report))}
    for key in keys:
        row = rows.get(key["attributes"]["user"])
        if row is None:
            continue
        created = key["attributes"]["created"]
        for slot in ("1", "2"):
            rotated = row.get(f"access_key_{slot}_last_rotated")
            if rotated and rotated not in ("N/A", "not_supported") and _same_time(rotated, created):
                key["attributes"]["last_used"] = row.get(f"access_key_{slot}_last_used_date")
                key["attributes"]["last_used_region"] = row.get(f"access_key_{slot}_last_used_region")
                key["attributes"]["last_used_service"] = row.get(f"access_key_{slot}_last_used_service")
                break
    return inventory + keys


def _same_time(text, when):
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return abs((parsed - when).total_seconds()) < 1


def ec2_inventory(ec2, region):
    inventory = []

    def add(kind, id_, name, tag_list, **attributes):
        inventory.append({"kind": kind, "region": region, "id": id_, "name": name, "arn": None,
                          "tags": tags(tag_list), "attributes": attributes})

    def pages(operation, key):
        for page in ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
            yield from page[key]

    for reservation in pages("describe_instances", "Reservations"):
        for i in reservation["Instances"]:
            add("ec2-instance", i["InstanceId"], tags(i.get("Tags")).get("Name"), i.get("Tags"),
                instance_type=i.get("InstanceType"), state=i.get("State", {}).get("Name"),
                vpc_id=i.get("VpcId"), subnet_id=i.get("SubnetId"), private_ip=i.get("PrivateIpAddress"),
                public_ip=i.get("PublicIpAddress"), image_id=i.get("ImageId"),
                instance_profile_arn=i.get("IamInstanceProfile", {}).get("Arn"),
                security_group_ids=[g["GroupId"] for g in i.get("SecurityGroups", [])],
                launch_time=i.get("LaunchTime"))
    for v in pages("describe_vpcs", "Vpcs"):
        add("ec2-vpc", v["VpcId"], tags(v.get("Tags")).get("Name"), v.get("Tags"),
            cidr_block=v.get("CidrBlock"), is_default=v.get("IsDefault"), state=v.get("State"))
    for s in pages("describe_subnets", "Subnets"):
        add("ec2-subnet", s["SubnetId"], tags(s.get("Tags")).get("Name"), s.get("Tags"), vpc_id=s.get("VpcId"),
            cidr_block=s.get("CidrBlock"), availability_zone=s.get("AvailabilityZone"),
            map_public_ip_on_launch=s.get("MapPublicIpOnLaunch"))
    for g in pages("describe_security_groups", "SecurityGroups"):
        add("ec2-security-group", g["GroupId"], g.get("GroupName"), None, description=g.get("Description"),
            vpc_id=g.get("VpcId"), ingress=g.get("IpPermissions", []), egress=g.get("IpPermissionsEgress", []))
    for n in pages("describe_network_interfaces", "NetworkInterfaces"):
        add("ec2-network-interface", n["NetworkInterfaceId"], None, None,
            type=n.get("InterfaceType"), status=n.get("Status"), vpc_id=n.get("VpcId"),
            subnet_id=n.get("SubnetId"), private_ip=n.get("PrivateIpAddress"),
            public_ip=n.get("Association", {}).get("PublicIp"),
            instance_id=n.get("Attachment", {}).get("InstanceId"),
            security_group_ids=[g["GroupId"] for g in n.get("Groups", [])])
    return inventory


def summary(inventory):
    ids = defaultdict(list)
    for r in inventory:
        ids[f"{r['kind']} {r['region']}"].append(r["id"])
    return {k: {"count": len(v), "digest": hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest()[:16]}
            for k, v in sorted(ids.items())}


def main():
    endpoint, regions = sys.argv[1], sys.argv[2].split(",")
    start = time.perf_counter()
    session = boto3.session.Session(**CREDENTIALS)
    account = make_client(session, endpoint, "sts", "us-east-1").get_caller_identity()["Account"]
    inventory = iam_inventory(make_client(session, endpoint, "iam", "us-east-1"))
    for region in regions:
        inventory.extend(ec2_inventory(make_client(session, endpoint, "ec2", region), region))
    elapsed = time.perf_counter() - start
    print(json.dumps({"account": account, "seconds": elapsed, "calls": sum(calls.values()),
                      "calls_by_operation": dict(calls), "seconds_by_operation": dict(seconds),
                      "resources": len(inventory),
                      "kinds": summary(inventory)}))


if __name__ == "__main__":
    main()
