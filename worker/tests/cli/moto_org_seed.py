"""Seeds and changes an AWS Organization in moto for the worker's Organization sync test.

usage: moto_org_seed.py ENDPOINT seed|suspend ACCOUNT|remove ACCOUNT
`seed` creates an organization managed from 111111111111 with OUs prod (two accounts) and
sandbox (one account); every account gets the StackSet's member role TrustlineReader (trusting
the vendor 123456789012 with ExternalId ext-org) and one IAM user named after its OU. Prints
{"root", "prod", "sandbox", "accounts": {"prod-1", "prod-2", "sandbox-1"}} as JSON.
"""
import json
import sys

import boto3

MANAGEMENT = "111111111111"
VENDOR = "arn:aws:iam::123456789012:root"


def client(endpoint, account, service):
    c = boto3.client(service, region_name="us-east-1", endpoint_url=endpoint,
                     aws_access_key_id="testing", aws_secret_access_key="testing")

    def add_header(request, **_):
        request.headers["x-moto-account-id"] = account
    c.meta.events.register("before-sign.*.*", add_header)
    return c


def member_role(endpoint, account, user):
    iam = client(endpoint, account, "iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": VENDOR},
             "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "ext-org"}}}]}
    iam.create_role(RoleName="TrustlineReader", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_user(UserName=user)


def seed(endpoint):
    org = client(endpoint, MANAGEMENT, "organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = {name: org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"]
           for name in ("prod", "sandbox")}
    accounts = {}
    for name, ou in (("prod-1", "prod"), ("prod-2", "prod"), ("sandbox-1", "sandbox")):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        account = status["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ous[ou])
        member_role(endpoint, account, f"{ou}-user")
        accounts[name] = account
    member_role(endpoint, MANAGEMENT, "management-user")
    print(json.dumps({"root": root, **ous, "accounts": accounts}))


def main():
    endpoint, command = sys.argv[1], sys.argv[2]
    org = client(endpoint, MANAGEMENT, "organizations")
    if command == "seed":
        seed(endpoint)
    elif command == "suspend":
        org.close_account(AccountId=sys.argv[3])
    elif command == "remove":
        org.remove_account_from_organization(AccountId=sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
