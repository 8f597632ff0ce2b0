"""Seeds moto for the verify test (exactly 5 unauthenticated calls; signature checking starts after).

Prints {"vendor_key", "vendor_secret", "role_arn"}. The vendor is an IAM user allowed
sts:AssumeRole; the customer's role (same account: moto checks ExternalId only there) trusts that
user with the ExternalId given as the second argument and allows the IAM list calls but no EC2 calls.
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
external_id = sys.argv[2]  # the ExternalId Trustline issued to the test's tenant
iam = boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint,
                   aws_access_key_id="seed", aws_secret_access_key="seed")
iam.create_user(UserName="vendor")                                                     # 1
iam.put_user_policy(UserName="vendor", PolicyName="assume", PolicyDocument=json.dumps(  # 2
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
trust = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/vendor"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]}
role = iam.create_role(RoleName="CustomerReader", AssumeRolePolicyDocument=json.dumps(trust))  # 3
iam.put_role_policy(RoleName="CustomerReader", PolicyName="read-iam", PolicyDocument=json.dumps({  # 4
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "iam:ListUsers", "iam:ListRoles", "iam:ListGroups", "iam:ListPolicies",
        "iam:GetAccountAuthorizationDetails", "sts:GetCallerIdentity"]}]}))
key = iam.create_access_key(UserName="vendor")["AccessKey"]                            # 5
print(json.dumps({"vendor_key": key["AccessKeyId"], "vendor_secret": key["SecretAccessKey"],
                  "role_arn": role["Role"]["Arn"]}))
