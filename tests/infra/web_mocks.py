"""Computed outputs of the web tier's resources under the mocks (S3 and CloudFront), the way AWS fills them."""

from __future__ import annotations

import hashlib
from typing import Any


def _suffix(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:7]


def web_outputs(typ: str, name: str, inputs: dict[str, Any], region: str, account: str) -> tuple[str, dict[str, Any]] | None:
    """(id, outputs) for an S3 or CloudFront resource type, None for any other type."""
    suffix = _suffix(typ + name)
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{suffix}"
        return bucket, {
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "region": region,
        }
    if typ == "aws:s3/bucketObjectv2:BucketObjectv2":
        return f"{inputs['bucket']}/{inputs['key']}", {"etag": suffix, "versionId": ""}
    if typ in (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ):
        return inputs["bucket"], {}
    if typ == "aws:cloudfront/distribution:Distribution":
        distribution_id = f"E{suffix.upper()}MOCK"
        return distribution_id, {
            "arn": f"arn:aws:cloudfront::{account}:distribution/{distribution_id}",
            "domainName": f"d{suffix}mock.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
            "status": "Deployed",
            "etag": suffix,
        }
    if typ in (
        "aws:cloudfront/originAccessControl:OriginAccessControl",
        "aws:cloudfront/cachePolicy:CachePolicy",
        "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    ):
        return f"{suffix}-0000-4000-8000-mock", {"etag": suffix}
    return None
