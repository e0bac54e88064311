"""The web tier: a private bucket read only by its CloudFront distribution, HTTPS, security headers,
caching that never serves a stale index.html or config.json, every file uploaded, and the API's CORS."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from components import site_rules
from components.config import ConfigError
from components.cors import MAX_AGE_SECONDS, CorsRules
from todo_app import catalog

from .mocks import Evaluation, Resource, evaluate

BUCKET = "aws:s3/bucket:Bucket"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
WEB_TYPES = (
    BUCKET,
    OBJECT,
    DISTRIBUTION,
    HEADERS_POLICY,
    CACHE_POLICY,
    OAC,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
)


def one(stack: Evaluation, typ: str) -> Resource:
    found = stack.of_type(typ)
    assert len(found) == 1, f"expected one {typ}, found {len(found)}"
    return found[0]


def objects(stack: Evaluation) -> dict[str, Resource]:
    return {o.inputs["key"]: o for o in stack.of_type(OBJECT)}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice in {policy}"
        parsed[name] = values
    return parsed


def meta_csp(page: str) -> str:
    found = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert len(found) == 1, "index.html must carry exactly one <meta> CSP"
    return found[0].replace("&#x27;", "'").replace("&amp;", "&")


def api_origin(stack: Evaluation) -> str:
    return site_rules.origin_of(stack.outputs["apiUrl"])


# --------------------------------------------------------------------------- the bucket


def test_every_web_resource_belongs_to_the_web_tier(stack):
    for typ in WEB_TYPES:
        assert stack.of_type(typ), typ
        for resource in stack.of_type(typ):
            assert resource.parent_types == ["serverless:web:WebTier"], (typ, resource.name, resource.parent_types)


def test_the_bucket_is_private_encrypted_and_takes_no_acls(stack):
    bucket = one(stack, BUCKET)
    name = bucket.outputs["bucket"]
    block = one(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block == {
        "bucket": name,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    ownership = one(stack, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership == {"bucket": name, "rule": {"objectOwnership": "BucketOwnerEnforced"}}
    encryption = one(stack, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs
    assert encryption["bucket"] == name
    assert encryption["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    assert "website" not in bucket.inputs and "acl" not in bucket.inputs  # no website endpoint, no public ACL


def test_the_bucket_policy_denies_plain_http_and_lets_only_this_distribution_read(stack):
    bucket = one(stack, BUCKET)
    distribution = one(stack, DISTRIBUTION)
    policy_resource = one(stack, "aws:s3/bucketPolicy:BucketPolicy")
    assert policy_resource.inputs["bucket"] == bucket.outputs["bucket"]
    arn = bucket.outputs["arn"]
    deny, allow = json.loads(policy_resource.inputs["policy"])["Statement"]
    assert deny == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert allow == {
        "Sid": "AllowCloudFrontRead",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"{arn}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}},
    }
    assert distribution.outputs["arn"].startswith("arn:aws:cloudfront::")
    # S3 checks a new policy against the bucket's public access block: that must exist first
    block = one(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.urn in policy_resource.dependencies


# --------------------------------------------------------------------------- CloudFront


def test_cloudfront_reaches_the_bucket_only_through_an_origin_access_control(stack):
    distribution = one(stack, DISTRIBUTION).inputs
    oac = one(stack, OAC)
    (origin,) = distribution["origins"]
    assert origin["domainName"] == one(stack, BUCKET).outputs["bucketRegionalDomainName"]
    assert origin["originAccessControlId"] == oac.outputs["id"]
    assert not origin.get("s3OriginConfig", {}).get("originAccessIdentity")  # no legacy OAI
    assert "customOriginConfig" not in origin  # not the public website endpoint
    assert {k: oac.inputs[k] for k in ("originAccessControlOriginType", "signingBehavior", "signingProtocol")} == {
        "originAccessControlOriginType": "s3",
        "signingBehavior": "always",
        "signingProtocol": "sigv4",
    }


def test_https_only(stack):
    distribution = one(stack, DISTRIBUTION).inputs
    behaviors = [distribution["defaultCacheBehavior"], *distribution.get("orderedCacheBehaviors", [])]
    for behavior in behaviors:
        assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
        assert sorted(behavior["allowedMethods"]) == ["GET", "HEAD"]
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert distribution["enabled"] is True and distribution["defaultRootObject"] == "index.html"


def test_every_response_gets_the_security_headers(stack):
    policy = one(stack, HEADERS_POLICY)
    headers = policy.inputs["securityHeadersConfig"]
    for behavior in [
        one(stack, DISTRIBUTION).inputs["defaultCacheBehavior"],
        *one(stack, DISTRIBUTION).inputs.get("orderedCacheBehaviors", []),
    ]:
        assert behavior["responseHeadersPolicyId"] == policy.outputs["id"]
    hsts = headers["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 365 * 24 * 3600 and hsts["includeSubdomains"] is True and hsts["override"] is True
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert headers["referrerPolicy"] == {"referrerPolicy": "no-referrer", "override": True}
    assert headers["contentSecurityPolicy"]["override"] is True
    custom = {item["header"]: item["value"] for item in policy.inputs["customHeadersConfig"]["items"]}
    assert custom == site_rules.EXTRA_HEADERS


def test_the_csp_header_allows_only_the_site_and_the_regions_api_endpoints(stack):
    csp = directives(one(stack, HEADERS_POLICY).inputs["securityHeadersConfig"]["contentSecurityPolicy"]["contentSecurityPolicy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["connect-src"] == ["'self'", f"https://*.execute-api.{stack.outputs['region']}.amazonaws.com"]
    for name, sources in csp.items():
        if name != "connect-src":
            assert set(sources) <= {"'self'", "'none'", "'script'"}, (name, sources)  # no host, no 'unsafe-*'
    assert "require-trusted-types-for" in csp  # HTML-string sinks throw: user data can only be text


def test_index_html_narrows_connect_src_to_exactly_this_api(stack):
    index = objects(stack)["index.html"].inputs
    page = index["content"]
    csp = directives(meta_csp(page))
    assert csp["connect-src"] == ["'self'", api_origin(stack)]
    assert csp["default-src"] == ["'none'"] and csp["script-src"] == ["'self'"]
    assert "frame-ancestors" not in csp  # not allowed in <meta>; the header carries it
    head = page.index("<head>")
    assert head < page.index("Content-Security-Policy") < page.index("<script") and page.index("Content-Security-Policy") < page.index(
        "<link"
    )
    # the rest of the page is the file in web/, untouched
    assert (
        page.replace(re.search(r"\n<meta http-equiv=\"Content-Security-Policy\"[^>]*>", page).group(0), "")
        == (site_rules.WEB_DIR / "index.html").read_text()
    )


def test_config_json_is_written_from_the_api_url(stack):
    config = objects(stack)["config.json"].inputs
    assert json.loads(config["content"]) == {"apiUrl": stack.outputs["apiUrl"]}
    assert config["contentType"] == "application/json"
    assert config["sourceHash"] == hashlib.sha256(config["content"].encode()).hexdigest()
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    assert api.urn in objects(stack)["config.json"].dependencies


def test_documents_are_never_served_stale(stack):
    cache = one(stack, CACHE_POLICY)
    distribution = one(stack, DISTRIBUTION).inputs
    assert distribution["defaultCacheBehavior"]["cachePolicyId"] == cache.outputs["id"]
    assert not distribution.get("orderedCacheBehaviors")  # nothing overrides the policy for some path
    # minimum TTL 0: CloudFront honours `no-cache` (a minimum above 0 would cache it anyway)
    assert cache.inputs["minTtl"] == 0 and cache.inputs["defaultTtl"] == 0
    found = objects(stack)
    for key in ("index.html", "config.json"):
        assert found[key].inputs["cacheControl"] == "no-cache", key
    assets = [o for k, o in found.items() if k not in ("index.html", "config.json")]
    assert assets and all(o.inputs["cacheControl"] == f"public, max-age={site_rules.ASSET_MAX_AGE_SECONDS}" for o in assets)
    assert site_rules.ASSET_MAX_AGE_SECONDS <= cache.inputs["maxTtl"]
    keyed = cache.inputs["parametersInCacheKeyAndForwardedToOrigin"]
    assert keyed["enableAcceptEncodingGzip"] and keyed["enableAcceptEncodingBrotli"]


def test_every_file_of_web_is_uploaded_with_its_type_and_content_hash(stack):
    found = objects(stack)
    files = {f.key: f for f in site_rules.site_files()}
    assert set(found) == set(files) | {"config.json"}
    assert {"index.html", "app.css", "favicon.svg", "js/app.js"} <= set(found)
    bucket = one(stack, BUCKET).outputs["bucket"]
    for key, resource in found.items():
        inputs = resource.inputs
        assert inputs["bucket"] == bucket and inputs["contentType"] == site_rules.content_type(key), key
        if key in ("index.html", "config.json"):
            assert inputs["sourceHash"] == hashlib.sha256(inputs["content"].encode()).hexdigest()
            continue
        path = files[key].path
        assert Path(inputs["source"].path) == path, key
        assert inputs["sourceHash"] == hashlib.sha256(path.read_bytes()).hexdigest(), key


def test_a_changed_file_is_uploaded_again_and_only_that_one(tmp_path, monkeypatch, staging):
    site = tmp_path / "web"
    shutil.copytree(site_rules.WEB_DIR, site)
    (site / "app.css").write_text((site / "app.css").read_text() + "\n/* changed */\n")
    monkeypatch.setattr(site_rules, "WEB_DIR", site)
    changed = evaluate("staging")
    before = {k: o.inputs["sourceHash"] for k, o in objects(staging).items()}
    after = {k: o.inputs["sourceHash"] for k, o in objects(changed).items()}
    assert before.keys() == after.keys()
    assert [k for k in before if before[k] != after[k]] == ["app.css"]


# --------------------------------------------------------------------------- outputs, CORS, the cycle


def test_web_url_is_the_distributions_https_origin(stack):
    distribution = one(stack, DISTRIBUTION)
    assert stack.outputs["webUrl"] == f"https://{distribution.outputs['domainName']}"
    assert stack.resolve(stack.program.web.url) == stack.outputs["webUrl"]
    assert "webUrl" in catalog.OUTPUT_KEYS


def test_the_api_allows_the_site_with_the_methods_and_headers_the_app_uses(stack):
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    cors = api.inputs["corsConfiguration"]
    assert cors["allowOrigins"] == [stack.outputs["webUrl"], *stack.program.config.cors_origins]
    assert sorted(cors["allowMethods"]) == sorted({r.method for r in catalog.ROUTES} | {"OPTIONS"})
    # what web/js sends: a bearer token, JSON bodies, and the orders' Idempotency-Key (the browser tests
    # run the app against the local gateway, which answers preflights from this same list)
    assert sorted(cors["allowHeaders"]) == ["authorization", "content-type", "idempotency-key"]
    assert cors["maxAge"] == MAX_AGE_SECONDS


def test_the_local_gateway_answers_with_the_apis_own_cors_configuration(stack):
    """One computation (components/cors.py): the rules the local gateway applies are the deployed API's."""
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    cors = api.inputs["corsConfiguration"]
    rules = CorsRules.for_site(stack.outputs["webUrl"], stack.program.config.cors_origins, [r.method for r in catalog.ROUTES])
    assert (list(rules.origins), list(rules.methods), list(rules.headers), rules.max_age) == (
        cors["allowOrigins"],
        cors["allowMethods"],
        cors["allowHeaders"],
        cors["maxAge"],
    )


def test_no_cycle_the_distribution_comes_before_the_api_and_the_files_after_it(stack):
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    distribution = one(stack, DISTRIBUTION)
    headers = one(stack, HEADERS_POLICY)
    assert distribution.urn in api.dependencies  # CORS names the site's origin
    assert api.urn not in distribution.dependencies and api.urn not in headers.dependencies
    for key in ("index.html", "config.json"):
        assert api.urn in objects(stack)[key].dependencies


def test_a_bad_extra_cors_origin_fails_naming_the_key():
    with pytest.raises(ConfigError, match=r"todo-platform:corsOrigins: 'https://app.example.com/' is not an origin"):
        evaluate("staging", overrides={"corsOrigins": ["https://app.example.com/"]})


def test_a_wrong_web_expectation_fails(staging):
    """The checks above resolve real values: a wrong one raises."""
    with pytest.raises(AssertionError):
        staging.check(staging.program.web.url, lambda url: _equal(url, "https://wrong.cloudfront.net"))
    with pytest.raises(AssertionError):
        assert directives(meta_csp(objects(staging)["index.html"].inputs["content"]))["connect-src"] == [
            "'self'",
            "https://other.example.com",
        ]


def _equal(actual, expected):
    assert actual == expected, f"{actual!r} != {expected!r}"


# --------------------------------------------------------------------------- what the site is made of


def test_the_site_refuses_files_it_cannot_serve_correctly(tmp_path):
    (tmp_path / "index.html").write_text("<html><head></head></html>")
    assert [f.key for f in site_rules.site_files(tmp_path)] == ["index.html", "openapi.json"]  # the API's document ships with the app
    (tmp_path / ".hidden").write_text("not part of the site")
    assert [f.key for f in site_rules.site_files(tmp_path, api_document=None)] == ["index.html"]
    (tmp_path / "notes.md").write_text("# no content type for this")
    with pytest.raises(ValueError, match=r"web/notes\.md: no content type for \.md"):
        site_rules.site_files(tmp_path)
    (tmp_path / "notes.md").unlink()
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="config.json is generated"):
        site_rules.site_files(tmp_path)
    with pytest.raises(ValueError, match="has no index.html"):
        site_rules.site_files(tmp_path / "missing")


def test_render_index_needs_one_head_and_an_absolute_api_url():
    with pytest.raises(ValueError, match="exactly one <head>"):
        site_rules.render_index("<html><body></body></html>", "https://api.example.com")
    with pytest.raises(ValueError, match="not an absolute http"):
        site_rules.render_index("<html><head></head></html>", "api.example.com")
    with pytest.raises(ValueError, match="not an absolute http"):
        site_rules.config_json("ftp://api.example.com")
    page = site_rules.render_index("<html><HEAD><title>x</title></HEAD></html>", "http://127.0.0.1:3000/")
    assert directives(meta_csp(page))["connect-src"] == ["'self'", "http://127.0.0.1:3000"]


def test_the_app_loads_nothing_from_another_host():
    for site_file in site_rules.site_files():
        if site_file.content_type.startswith(("text/", "image/svg")):
            text = site_file.path.read_text()
            # the SVG namespace is a name, not a request
            hosts = set(re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", text)) - {"http://www.w3.org"}
            assert not hosts, (site_file.key, hosts)
