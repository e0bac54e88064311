"""The AWS account the local runtime stands in for: one region, moto's account id, fake credentials.

The emulator, the events (their ARNs and domain names) and the SDK settings given to the functions all
read these, so a local ARN names the same account and region wherever it is built.
"""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account: the ARNs the emulator returns carry it
# moto accepts any credentials; fixed fake ones keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


def sdk_environment(emulator_url: str) -> dict[str, str]:
    """boto3's settings for a process that must reach the emulator and never a real account."""
    return {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": emulator_url, "AWS_EC2_METADATA_DISABLED": "true"}
