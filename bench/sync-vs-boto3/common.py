"""What the seed, the boto3 inventory and the driver share: sizes, credentials, resource kinds."""

# Both sides use these: an access key of moto's default account (123456789012), no AssumeRole.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# AWS-managed policies the seed attaches (moto knows them with MOTO_IAM_LOAD_MANAGED_POLICIES).
AWS_MANAGED = [
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",
]

# The benchmark's account at SCALE 1: 2,000 users with a key each, 500 roles, 20 groups, 300 local
# policies and 1,000 instances in two regions, a mid-sized company's account.
FULL = {"users": 2000, "roles": 500, "groups": 20, "policies": 300, "instances": 1000}
PER_LAUNCH = 5


def sizes(scale, regions):
    """Counts at `scale` (at least one of each; instances a whole number of 5-instance launches
    per region)."""
    n = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    n["launches_per_region"] = max(1, round(n["instances"] / PER_LAUNCH / regions))
    n["instances"] = n["launches_per_region"] * PER_LAUNCH * regions
    return n


# Trustline's resource kinds, as `trustline export` names them; the boto3 script uses the same.
IAM_KINDS = ["iam-user", "iam-group", "iam-role", "iam-policy", "iam-aws-managed-policy", "iam-access-key"]
EC2_KINDS = ["ec2-instance", "ec2-vpc", "ec2-subnet", "ec2-security-group", "ec2-network-interface"]
