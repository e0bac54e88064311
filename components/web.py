"""`WebTier`: the web app on a private S3 bucket behind CloudFront, and the API's CORS allow-list.

- The bucket blocks every form of public access, encrypts at rest (SSE-S3), enforces object ownership
  (no ACLs) and denies any request not made over TLS. Its only reader is this distribution: CloudFront
  signs its requests through an Origin Access Control (sigv4, always), and the bucket policy grants
  s3:GetObject to the CloudFront service only for requests whose AWS:SourceArn is this distribution.
- The distribution redirects HTTP to HTTPS and adds the response-headers policy built from
  `site_rules.security_headers` to every response.
- Caching: one cache policy that honours the objects' Cache-Control (minimum TTL 0, so `no-cache`
  really means "ask the origin"); index.html and config.json carry `no-cache` and are never served
  stale, whether the request names them or is `/`; the other files carry a short max-age.
- `publish(api_url)` uploads every file of web/ as one BucketObjectv2 with its content type and a
  SHA-256 `source_hash`, so a changed file is uploaded again. config.json and index.html are rendered
  from the API's URL (an Output): content, not a resource created inside an apply.

The cycle, and how it is broken: the API's CORS allow-list needs the distribution's domain, and a
CSP naming the API inside the distribution's response-headers policy would make the distribution
need the API. So the distribution does not depend on the API (its CSP header allows the region's
API endpoint pattern), the API depends on the distribution (its CORS names the site's https origin),
and the exact API origin reaches the browser through index.html's <meta> CSP, an S3 object created
after the API (see components/site_rules.py). Hence two steps: `WebTier(...)` before the API, and
`publish(api.url)` after it. (A deferred output would read as one step, but any exception between
creating and resolving it leaves `pulumi preview` waiting forever instead of reporting the error.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from . import cors, site_rules
from .config import PROJECT, ConfigError
from .tokens import type_token, with_former_token


@dataclass(frozen=True)
class WebTierArgs:
    """What `WebTier` builds.

    Attributes:
        name_prefix: the stack's prefix: names the CloudFront policies and Origin Access Control.
        region: the API's region: the Content-Security-Policy header allows the region's API origins.
        site_dir: the directory of the web app's static files, read at construction (tests point it elsewhere).
    """

    name_prefix: str
    region: pulumi.Input[str]
    site_dir: Path = field(default_factory=lambda: site_rules.WEB_DIR)  # read at construction: tests point it elsewhere


def cors_configuration(web_origin: pulumi.Input[str] | None, extra_origins: Sequence[str], methods: Sequence[str]) -> dict[str, Any] | None:
    """The HTTP API's `cors_configuration` (components/cors.py, which the local gateway answers with too):
    the site's origin (when there is a site; an Output) and the configured extra origins, the route
    table's `methods`; None when no origin is allowed."""
    if web_origin is None and not extra_origins:
        return None
    try:
        extras = cors.allowed_origins(None, extra_origins)  # a bad entry fails here, naming the key, not inside an apply
    except cors.OriginError as error:
        raise ConfigError(f"{PROJECT}:corsOrigins: {error}") from None
    origins: pulumi.Input[list[str]] = extras
    if web_origin is not None:
        origins = pulumi.Output.from_input(web_origin).apply(lambda origin: cors.allowed_origins(origin, extras))
    return cors.api_configuration(origins, methods)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class WebTier(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    ownership: aws.s3.BucketOwnershipControls
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    origin_access_control: aws.cloudfront.OriginAccessControl
    cache_policy: aws.cloudfront.CachePolicy
    headers_policy: aws.cloudfront.ResponseHeadersPolicy
    distribution: aws.cloudfront.Distribution
    bucket_policy: aws.s3.BucketPolicy
    objects: dict[str, aws.s3.BucketObjectv2]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: WebTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("web:WebTier"), name, None, with_former_token("web:WebTier", opts))
        self._label = name
        self._files = site_rules.site_files(args.site_dir)  # fails before any resource when web/ is not servable
        self.objects = {}
        self._private_bucket(name)
        self._cloudfront_policies(name, args)
        self.headers_policy = self._headers_policy(name, args)
        self.distribution = self._distribution(name, args)
        self.url = pulumi.Output.concat("https://", self.distribution.domain_name)
        self.bucket_policy = self._distribution_reads_bucket(name)
        self.register_outputs({"webUrl": self.url, "bucket": self.bucket.id, "distributionId": self.distribution.id})

    def _private_bucket(self, name: str) -> None:
        """The site's bucket: no public access, no ACLs, encrypted at rest."""
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-site", opts=child)
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-site",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-site", bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-site",
            bucket=self.bucket.id,
            # SSE-S3: CloudFront's OAC reads it without a KMS key grant
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )

    def _cloudfront_policies(self, name: str, args: WebTierArgs) -> None:
        """How CloudFront reads the bucket (origin access control) and what it caches (cache policy)."""
        child = pulumi.ResourceOptions(parent=self)
        self.origin_access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=f"{args.name_prefix}-web",
            description="CloudFront reads the web app's bucket, signing every request",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        self.cache_policy = aws.cloudfront.CachePolicy(
            f"{name}-cache",
            name=f"{args.name_prefix}-web",
            comment="Honours the objects' Cache-Control: no-cache documents are never served from the cache",
            min_ttl=0,
            default_ttl=0,  # an object without Cache-Control is not cached
            max_ttl=24 * 3600,
            parameters_in_cache_key_and_forwarded_to_origin={
                "cookies_config": {"cookie_behavior": "none"},
                "headers_config": {"header_behavior": "none"},
                "query_strings_config": {"query_string_behavior": "none"},
                "enable_accept_encoding_gzip": True,
                "enable_accept_encoding_brotli": True,
            },
            opts=child,
        )

    def _headers_policy(self, name: str, args: WebTierArgs) -> aws.cloudfront.ResponseHeadersPolicy:
        """The security headers on every response: the CSP (naming the region's API origins), HSTS and the rest."""
        csp_header = pulumi.Output.from_input(args.region).apply(
            lambda region: site_rules.content_security_policy([site_rules.api_origin_pattern(region)])
        )
        return aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-headers",
            name=f"{args.name_prefix}-web",
            comment="CSP, HSTS, nosniff, no framing, no referrer",
            security_headers_config={
                "content_security_policy": {"content_security_policy": csp_header, "override": True},
                "strict_transport_security": {
                    "access_control_max_age_sec": site_rules.HSTS_MAX_AGE_SECONDS,
                    "include_subdomains": True,
                    "preload": False,
                    "override": True,
                },
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": site_rules.FRAME_OPTIONS, "override": True},
                "referrer_policy": {"referrer_policy": site_rules.REFERRER_POLICY, "override": True},
            },
            custom_headers_config={
                "items": [{"header": header, "value": value, "override": True} for header, value in site_rules.EXTRA_HEADERS.items()]
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _distribution(self, name: str, args: WebTierArgs) -> aws.cloudfront.Distribution:
        """The CloudFront distribution over the bucket: HTTPS only, GET and HEAD, the cache and headers policies."""
        origin_id = "site"
        return aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"{args.name_prefix} web app",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class="PriceClass_100",
            default_root_object=site_rules.INDEX,
            origins=[
                {
                    "origin_id": origin_id,
                    "domain_name": self.bucket.bucket_regional_domain_name,
                    "origin_access_control_id": self.origin_access_control.id,
                }
            ],
            default_cache_behavior={
                "target_origin_id": origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": self.cache_policy.id,
                "response_headers_policy_id": self.headers_policy.id,
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={"cloudfront_default_certificate": True},
            # The domain name exists as soon as the distribution is created; waiting for the edge
            # rollout would hold the API (whose CORS needs that name) for many minutes.
            wait_for_deployment=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _distribution_reads_bucket(self, name: str) -> aws.s3.BucketPolicy:
        """Who may read the bucket: this distribution only."""
        policy = pulumi.Output.all(self.bucket.arn, self.distribution.arn).apply(lambda arns: json.dumps(bucket_policy(arns[0], arns[1])))
        return aws.s3.BucketPolicy(
            f"{name}-site",
            bucket=self.bucket.id,
            policy=policy,
            # the public access block first: S3 evaluates a new policy against it
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )

    def publish(self, api_url: pulumi.Input[str]) -> dict[str, aws.s3.BucketObjectv2]:
        """Upload the app, config.json and index.html naming `api_url`; once, after the API exists."""
        if self.objects:
            raise RuntimeError(f"{self._label}: the web app is already published")
        url = pulumi.Output.from_input(api_url)
        child = pulumi.ResourceOptions(parent=self)
        for site_file in self._files:
            if site_file.key == site_rules.INDEX:
                page = site_file.path.read_text(encoding="utf-8")
                self.objects[site_file.key] = self._rendered(site_file.key, url.apply(partial(site_rules.render_index, page)))
                continue
            self.objects[site_file.key] = aws.s3.BucketObjectv2(
                f"{self._label}-{site_file.key}",
                bucket=self.bucket.id,
                key=site_file.key,
                source=pulumi.FileAsset(str(site_file.path)),
                source_hash=_sha256(site_file.path.read_bytes()),
                content_type=site_file.content_type,
                cache_control=site_file.cache_control,
                opts=child,
            )
        self.objects[site_rules.CONFIG] = self._rendered(site_rules.CONFIG, url.apply(site_rules.config_json))
        return self.objects

    def _rendered(self, key: str, content: pulumi.Output[str]) -> aws.s3.BucketObjectv2:
        return aws.s3.BucketObjectv2(
            f"{self._label}-{key}",
            bucket=self.bucket.id,
            key=key,
            content=content,
            source_hash=content.apply(lambda text: _sha256(text.encode("utf-8"))),
            content_type=site_rules.content_type(key),
            cache_control=site_rules.cache_control(key),
            opts=pulumi.ResourceOptions(parent=self),
        )


def bucket_policy(bucket_arn: str, distribution_arn: str) -> dict[str, Any]:
    """TLS only for everyone; reads for this one distribution only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AllowCloudFrontRead",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
        ],
    }
