"""The server's floor: the same requests both sides send, replayed over one keep-alive HTTP/1.1
connection with the smallest client there is (http.client; no signing, no parsing beyond the
user names). moto does not check signatures unless told to, and an unsigned request acts in its
default account, the one both sides read. What this takes is what moto needs to answer; no
client can be faster sequentially, and moto's GIL keeps concurrency from helping much.

Usage: floor.py ENDPOINT REGION,REGION [THREADS]
Prints one JSON line: seconds per operation (sum over its calls), calls per operation, and the
ListAccessKeys time again with THREADS connections in parallel (default 8, as Trustline uses).
"""

import http.client
import json
import re
import sys
import time
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse


class Conn:
    def __init__(self, endpoint):
        u = urlparse(endpoint)
        self.conn = http.client.HTTPConnection(u.hostname, u.port)

    def post(self, service, region, params):
        body = urllib.parse.urlencode(params)
        credential = f"testing/20260101/{region}/{service}/aws4_request"
        self.conn.request("POST", "/", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Host": f"{service}.{region}.amazonaws.com" if service == "ec2" else f"{service}.amazonaws.com",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"})
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            sys.exit(f"{params['Action']}: HTTP {response.status}: {data[:300]!r}")
        return data


def main():
    endpoint, regions = sys.argv[1], sys.argv[2].split(",")
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    seconds, calls = defaultdict(float), defaultdict(int)
    conn = Conn(endpoint)

    def call(service, region, action, version, **params):
        start = time.perf_counter()
        data = conn.post(service, region, {"Action": action, "Version": version, **params})
        seconds[action] += time.perf_counter() - start
        calls[action] += 1
        return data

    iam = lambda action, **p: call("iam", "us-east-1", action, "2010-05-08", **p)  # noqa: E731
    call("sts", "us-east-1", "GetCallerIdentity", "2011-06-15")
    details = iam("GetAccountAuthorizationDetails", **{f"Filter.member.{i}": f for i, f in enumerate(
        ["User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"], 1)})
    users = re.findall(rb"<UserDetailList>.*?</UserDetailList>", details, re.S)
    names = [n.decode() for n in re.findall(rb"<member>\s*<Path>[^<]*</Path>\s*<UserName>([^<]+)</UserName>",
                                              users[0] if users else b"")]
    if not names:
        names = sorted(set(n.decode() for n in re.findall(rb"<UserName>([^<]+)</UserName>", details)))
    for name in names:
        iam("ListAccessKeys", UserName=name)
    iam("GenerateCredentialReport")
    iam("GetCredentialReport")
    for region in regions:
        for action in ("DescribeInstances", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
                       "DescribeNetworkInterfaces"):
            call("ec2", region, action, "2016-11-15", MaxResults="1000")

    # ListAccessKeys again, THREADS at a time, each thread on its own connection.
    chunks = [names[i::threads] for i in range(threads)]

    def worker(chunk):
        c = Conn(endpoint)
        for name in chunk:
            c.post("iam", "us-east-1", {"Action": "ListAccessKeys", "Version": "2010-05-08", "UserName": name})

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, chunks))
    parallel = time.perf_counter() - start

    print(json.dumps({"seconds": dict(seconds), "calls": dict(calls), "total": sum(seconds.values()),
                      "gaad_bytes": len(details), "list_access_keys_parallel": {
                          "threads": threads, "seconds": parallel}}))


if __name__ == "__main__":
    main()
