"""`ApiTier`: an HTTP API (API Gateway v2) in front of functions, from a route table.

One Lambda proxy integration (payload 2.0) per function that serves a route, one route per `Route`,
the REQUEST authorizer on every route whose `auth` is true, and invoke permissions scoped to this
API's execution ARN. Integrations, the authorizer and the permissions all target each function's `live`
alias. The functions are built elsewhere and handed in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tierspec import Route

from . import cors
from .compute import LambdaFunction
from .tokens import type_token, with_former_token
from .web import cors_configuration

STAGE = "$default"
# API Gateway's access log, one JSON object per request: what an operator reads to find a request
# (its id, also the functions' correlation id), who made it and what it cost. The event's own timestamp
# stands in for requestTime and routeKey names the method; a field with no value reads "-".
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "authorizerMs": "$context.authorizer.latency",
        "userId": "$context.authorizer.userId",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class Throttling:
    """The stage's default throttling.

    Attributes:
        rate_limit: steady-state requests per second.
        burst_limit: the most requests at once above the steady rate.
    """

    rate_limit: int
    burst_limit: int


@dataclass(frozen=True)
class ApiTierArgs:
    """What `ApiTier` builds.

    Attributes:
        routes: the route table: one API Gateway route per entry.
        functions: the functions that serve the routes, by the name a route's `function` gives (each of kind "api").
        authorizer: the REQUEST authorizer function (of kind "authorizer"); required when any route has `auth`.
        physical_name: the API's name; its access log group is /aws/apigateway/<name>.
        throttling: the stage's default rate and burst limits.
        log_retention_days: how long the access log keeps its entries.
        cors_origins: extra browser origins allowed to call the API.
        web_origin: a web app's https origin (`WebTier.url`), always allowed; without it and `cors_origins`: no CORS.
        detailed_metrics: per-route CloudWatch metrics (billed per metric once traffic flows); off unless an alarm or
            a dashboard reads them (the stage-level metrics need none).
        description: the API's description.
        authorizer_name: the authorizer's name in API Gateway.
        auth_header: the request header the authorizer reads the credential from; API Gateway answers 401 itself
            when a route with `auth` is called without it.
    """

    routes: Sequence[Route]
    functions: Mapping[str, LambdaFunction]
    authorizer: LambdaFunction | None
    physical_name: str
    throttling: Throttling
    log_retention_days: int
    cors_origins: Sequence[str] = ()
    web_origin: pulumi.Input[str] | None = None
    detailed_metrics: bool = False
    description: str = "HTTP API"
    authorizer_name: str = "token"
    auth_header: str = "authorization"


class ApiTier(pulumi.ComponentResource):
    """An HTTP API with its stage, access log, routes, integrations, authorizer and invoke permissions."""

    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    """`$default`, auto-deployed, with throttling and JSON access logs."""
    access_log_group: aws.cloudwatch.LogGroup
    authorizer: aws.apigatewayv2.Authorizer | None
    """The REQUEST authorizer (simple responses, no caching); None when no route needs it."""
    integrations: dict[str, aws.apigatewayv2.Integration]
    """By function name: one per function that serves a route."""
    routes: dict[str, aws.apigatewayv2.Route]
    """By route key ("GET /users/{userId}")."""
    permissions: dict[str, aws.lambda_.Permission]
    """By function name, the authorizer's included: API Gateway may invoke it from this API only."""
    url: pulumi.Output[str]

    def __init__(self, name: str, args: ApiTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("api:ApiTier"), name, None, with_former_token("api:ApiTier", opts))
        served = _served_functions(args)
        self._api_and_stage(name, args)
        self.permissions = {}
        self.authorizer = None
        if args.authorizer is not None:
            self.authorizer = self._authorizer(name, args)
        self._integrations(name, args, served)
        self._routes(name, args)
        self.url = self.api.api_endpoint
        self.register_outputs({"apiUrl": self.url, "apiId": self.api.id})

    def _api_and_stage(self, name: str, args: ApiTierArgs) -> None:
        """The HTTP API (with its CORS), its access log group and its `$default` stage."""
        child = pulumi.ResourceOptions(parent=self)
        allowed = cors_configuration(args.web_origin, args.cors_origins, methods=cors.methods_for(route.method for route in args.routes))
        self.api = aws.apigatewayv2.Api(
            f"{name}-http",
            name=args.physical_name,
            protocol_type="HTTP",
            description=args.description,
            cors_configuration=allowed,  # type: ignore[arg-type]  # a dict of the Args' shape
            opts=child,
        )
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{args.physical_name}",
            retention_in_days=args.log_retention_days,
            # read with Logs Insights when something is looked into, never turned into metrics or streamed:
            # the Infrequent Access class ingests at half the price (the functions' groups stay Standard for EMF)
            log_group_class="INFREQUENT_ACCESS",
            opts=child,
        )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-default",
            api_id=self.api.id,
            name=STAGE,
            auto_deploy=True,
            default_route_settings={
                "throttling_rate_limit": args.throttling.rate_limit,
                "throttling_burst_limit": args.throttling.burst_limit,
                "detailed_metrics_enabled": args.detailed_metrics,
            },
            access_log_settings={"destination_arn": self.access_log_group.arn, "format": ACCESS_LOG_FORMAT},
            opts=child,
        )

    def _integrations(self, name: str, args: ApiTierArgs, served: list[str]) -> None:
        """Per function that serves a route: its integration (on the live alias) and API Gateway's invoke permission."""
        child = pulumi.ResourceOptions(parent=self)
        self.integrations = {}
        for fn_name in served:
            fn = args.functions[fn_name]
            self.integrations[fn_name] = aws.apigatewayv2.Integration(
                f"{name}-{fn_name}",
                api_id=self.api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=fn.alias.invoke_arn,  # the live alias, never the unqualified function
                payload_format_version="2.0",
                opts=child,
            )
            self.permissions[fn_name] = aws.lambda_.Permission(
                f"{name}-{fn_name}",
                action="lambda:InvokeFunction",
                function=fn.aws_function.name,
                qualifier=fn.alias.name,
                principal="apigateway.amazonaws.com",
                # any stage and route of this API only
                source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
                opts=child,
            )

    def _routes(self, name: str, args: ApiTierArgs) -> None:
        """A route per catalog route, on its function's integration, behind the authorizer where it needs auth."""
        self.routes = {}
        for route in args.routes:
            slug = route.route_key.replace(" ", "").replace("/", "-").replace("{", "").replace("}", "").lower()
            self.routes[route.route_key] = aws.apigatewayv2.Route(
                f"{name}-{slug}",
                api_id=self.api.id,
                route_key=route.route_key,
                target=pulumi.Output.concat("integrations/", self.integrations[route.function].id),
                authorization_type="CUSTOM" if route.auth else "NONE",
                authorizer_id=self.authorizer.id if route.auth and self.authorizer else None,
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _authorizer(self, name: str, args: ApiTierArgs) -> aws.apigatewayv2.Authorizer:
        function = args.authorizer
        assert function is not None
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-token",
            api_id=self.api.id,
            name=args.authorizer_name,
            authorizer_type="REQUEST",
            authorizer_uri=function.alias.invoke_arn,
            authorizer_payload_format_version="2.0",
            enable_simple_responses=True,
            identity_sources=[f"$request.header.{args.auth_header.capitalize()}"],
            # No caching: a cached "allow" would outlive a logout (DELETE /sessions/current) for up to
            # the TTL; with 0 every request is checked against the sessions table.
            authorizer_result_ttl_in_seconds=0,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.permissions[function.spec.name] = aws.lambda_.Permission(
            f"{name}-{function.spec.name}",
            action="lambda:InvokeFunction",
            function=function.aws_function.name,
            qualifier=function.alias.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/authorizers/", authorizer.id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return authorizer


def _served_functions(args: ApiTierArgs) -> list[str]:
    """The functions the routes name, sorted; raises ValueError where a function or the authorizer is missing or
    of the wrong kind."""
    served = sorted({route.function for route in args.routes})
    missing = [f for f in served if f not in args.functions]
    if missing:
        raise ValueError(f"ApiTier: no function given for {', '.join(missing)} (routes name them)")
    if args.authorizer is None and any(route.auth for route in args.routes):
        raise ValueError("ApiTier: routes with auth need an authorizer function")
    wrong_kind = [f"{f} ({args.functions[f].spec.kind})" for f in served if args.functions[f].spec.kind != "api"]
    if wrong_kind:
        raise ValueError(f"ApiTier: routes are served by functions of kind 'api' only; got {', '.join(wrong_kind)}")
    if args.authorizer is not None and args.authorizer.spec.kind != "authorizer":
        raise ValueError(
            f"ApiTier: the authorizer {args.authorizer.spec.name!r} is of kind {args.authorizer.spec.kind!r}, not 'authorizer'"
        )
    return served
