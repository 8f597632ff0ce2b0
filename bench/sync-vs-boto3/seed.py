"""Seeds moto with the benchmark's account (common.FULL, times SCALE): users with one key each, roles, groups, local policies and
instances in two regions (5 per launch). Threads make it quick; seeding is not measured.

Usage: seed.py ENDPOINT SCALE REGION,REGION
Prints one JSON line: the seeded counts, calls and seconds.
"""

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

from common import AWS_MANAGED, CREDENTIALS, sizes

THREADS = 8
_local = threading.local()
_calls = [0]
_calls_lock = threading.Lock()


def client(endpoint, service, region="us-east-1"):
    """One client per thread and (service, region): botocore clients are not meant to be shared."""
    cache = getattr(_local, "clients", None)
    if cache is None:
        cache = _local.clients = {}
    key = (service, region)
    if key not in cache:
        c = boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint, **CREDENTIALS)

        def count(**_):
            with _calls_lock:
                _calls[0] += 1

        c.meta.events.register("before-send", count)
        cache[key] = c
    return cache[key]


def policy_document(i):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::bucket-{i:03d}", f"arn:aws:s3:::bucket-{i:03d}/*"],
        }],
    })


def trust_document(i):
    if i % 2:
        principal = {"Service": "ec2.amazonaws.com"}
        condition = {}
    else:
        principal = {"AWS": "arn:aws:iam::111122223333:root"}
        condition = {"Condition": {"StringEquals": {"sts:ExternalId": f"ext-{i:03d}"}}}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **condition}]})


def parallel(fn, items):
    with ThreadPoolExecutor(THREADS) as pool:
        # list() re-raises the first exception from a worker thread.
        list(pool.map(fn, items))


def seed(endpoint, n, regions):
    iam = lambda: client(endpoint, "iam")  # noqa: E731
    account = "123456789012"

    def policy(i):
        iam().create_policy(PolicyName=f"policy-{i:03d}", Path="/bench/", PolicyDocument=policy_document(i),
                            Description=f"bench policy {i}")

    parallel(policy, range(n["policies"]))
    local = lambda i: f"arn:aws:iam::{account}:policy/bench/policy-{i % n['policies']:03d}"  # noqa: E731

    def group(i):
        name = f"group-{i:02d}"
        iam().create_group(GroupName=name, Path="/bench/")
        iam().attach_group_policy(GroupName=name, PolicyArn=local(i))
        if i < len(AWS_MANAGED):
            iam().attach_group_policy(GroupName=name, PolicyArn=AWS_MANAGED[i])

    parallel(group, range(n["groups"]))

    def user(i):
        name = f"user-{i:04d}"
        iam().create_user(UserName=name, Path=f"/team-{i % 7}/", Tags=[
            {"Key": "service", "Value": ["webshop", "billing", "search"][i % 3]},
            {"Key": "owner", "Value": f"team-{i % 7}"}])
        iam().create_access_key(UserName=name)
        iam().add_user_to_group(GroupName=f"group-{i % n['groups']:02d}", UserName=name)
        if i % 10 == 0:
            iam().attach_user_policy(UserName=name, PolicyArn=local(i))
        if i % 50 == 0:
            iam().put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=policy_document(i))

    parallel(user, range(n["users"]))

    # One thread creates the roles: moto finds a role by scanning all of them, and a scan that
    # meets another thread's insert fails with HTTP 500 ("dictionary changed size").
    for i in range(n["roles"]):
        iam().create_role(RoleName=f"role-{i:03d}", Path="/bench/", AssumeRolePolicyDocument=trust_document(i),
                          Tags=[{"Key": "service", "Value": ["webshop", "billing"][i % 2]}])

    def role(i):
        name = f"role-{i:03d}"
        iam().attach_role_policy(RoleName=name, PolicyArn=local(i + 20))
        if i % 10 == 0:
            iam().attach_role_policy(RoleName=name, PolicyArn=AWS_MANAGED[i // 10 % len(AWS_MANAGED)])
        if i % 25 == 0:
            iam().put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy_document(i))

    parallel(role, range(n["roles"]))

    def launch(job):
        region, k = job
        client(endpoint, "ec2", region).run_instances(
            ImageId="ami-12c6146b", MinCount=5, MaxCount=5, InstanceType=["t3.micro", "m5.large"][k % 2],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": "Name", "Value": f"web-{region}-{k:03d}"},
                {"Key": "service", "Value": ["webshop", "billing", "search"][k % 3]}]}])

    parallel(launch, [(r, k) for r in regions for k in range(n["launches_per_region"])])

    # AWS keeps a credential report for four hours; make one exist, as it would in a real
    # account, so neither side's first measured run is the one that waits for it to be built.
    iam().generate_credential_report()


def main():
    endpoint, scale, regions = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(",")
    n = sizes(scale, len(regions))
    start = time.perf_counter()
    seed(endpoint, n, regions)
    print(json.dumps({"sizes": n, "calls": _calls[0], "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
