"""Seeds, mutates and lists moto for the worker's sync tests (boto3 from Trustline's venv).

usage: moto_seed.py ENDPOINT seed|mutate|list ACCOUNT...
`list` prints {account: {"kind region": [ids]}} for comparison with Trustline's inventory.
"""
import json
import sys

import boto3

REGIONS = ["us-east-1", "eu-west-1"]
VENDOR = "arn:aws:iam::123456789012:root"


def client(endpoint, account, service, region="us-east-1"):
    c = boto3.client(service, region_name=region, endpoint_url=endpoint,
                     aws_access_key_id="testing", aws_secret_access_key="testing")
    def add_header(request, **_):
        request.headers["x-moto-account-id"] = account
    c.meta.events.register("before-sign.*.*", add_header)
    return c


def seed(endpoint, account):
    iam = client(endpoint, account, "iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": VENDOR},
             "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "ext-" + account}}}]}
    iam.create_role(RoleName="TrustlineReader", AssumeRolePolicyDocument=json.dumps(trust),
                    Tags=[{"Key": "service", "Value": "trustline"}])
    iam.attach_role_policy(RoleName="TrustlineReader", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.create_group(GroupName="admins")
    pol = iam.create_policy(PolicyName="read-s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    for i in range(5):
        name = f"user-{i}"
        iam.create_user(UserName=name, Tags=[{"Key": "service", "Value": "webshop" if i % 2 else "billing"}])
        iam.create_access_key(UserName=name)
        if i == 0:
            iam.add_user_to_group(GroupName="admins", UserName=name)
            iam.attach_user_policy(UserName=name, PolicyArn=pol["Policy"]["Arn"])
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    for region in REGIONS:
        ec2 = client(endpoint, account, "ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "main"}, {"Key": "service", "Value": "webshop"}])
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
        ec2.create_tags(Resources=[sg], Tags=[{"Key": "service", "Value": "webshop"},
                                              {"Key": "team:owner", "Value": "web"}])
        eni = ec2.create_network_interface(SubnetId=subnet, Groups=[sg])["NetworkInterface"]["NetworkInterfaceId"]
        ec2.create_tags(Resources=[eni], Tags=[{"Key": "Name", "Value": "web-eni"},
                                               {"Key": "service", "Value": "webshop"}])
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3, SubnetId=subnet, SecurityGroupIds=[sg],
                          TagSpecifications=[{"ResourceType": "instance",
                                              "Tags": [{"Key": "service", "Value": "webshop"}]}])


def mutate(endpoint, account):
    iam = client(endpoint, account, "iam")
    for key in iam.list_access_keys(UserName="user-4")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="user-4", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="user-4")
    iam.create_role(RoleName="new-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    ec2 = client(endpoint, account, "ec2", "eu-west-1")
    instance = sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"])[0]
    ec2.create_tags(Resources=[instance], Tags=[{"Key": "service", "Value": "checkout"}])
    print(json.dumps({"deleted_user": "user-4", "added_role": "new-role", "retagged_instance": instance}))


def listing(endpoint, account):
    iam = client(endpoint, account, "iam")
    out = {}
    def put(kind, region, ids):
        out[f"{kind} {region}"] = sorted(ids)
    users = [u["UserName"] for u in iam.list_users()["Users"]]
    put("iam-user", "global", users)
    put("iam-group", "global", [g["GroupName"] for g in iam.list_groups()["Groups"]])
    put("iam-role", "global", [r["RoleName"] for r in iam.list_roles()["Roles"]])
    put("iam-policy", "global", [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]])
    put("iam-aws-managed-policy", "global",
        [p["Arn"] for p in iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]])
    put("iam-access-key", "global",
        [k["AccessKeyId"] for u in users for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]])
    for region in REGIONS:
        ec2 = client(endpoint, account, "ec2", region)
        put("ec2-instance", region, [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]])
        put("ec2-vpc", region, [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]])
        put("ec2-subnet", region, [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]])
        put("ec2-security-group", region, [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]])
        put("ec2-network-interface", region,
            [n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]])
    return {k: v for k, v in out.items() if v}


def main():
    endpoint, command, accounts = sys.argv[1], sys.argv[2], sys.argv[3:]
    if command == "seed":
        for a in accounts:
            seed(endpoint, a)
    elif command == "mutate":
        mutate(endpoint, accounts[0])
    elif command == "list":
        print(json.dumps({a: listing(endpoint, a) for a in accounts}))


if __name__ == "__main__":
    main()
