"""`ApiTier`: the HTTP API (API Gateway v2), its routes and the functions behind them.

One Lambda proxy integration (payload 2.0) per API function, one route per `catalog.ROUTES` entry,
the REQUEST authorizer on every route whose `auth` is true, and invoke permissions scoped to this
API's execution ARN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_app import catalog

from .compute import FunctionContext, LambdaFunction, LambdaFunctionArgs, build_functions
from .config import StackConfig
from .web import cors_configuration  # web app hook: the site's origin + corsOrigins

STAGE = "$default"
# API Gateway's own access log fields, one JSON object per request.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationLatencyMs": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "userId": "$context.authorizer.userId",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class ApiTierArgs:
    config: StackConfig
    function_context: FunctionContext  # with tables, queue and database
    web_origin: pulumi.Input[str] | None = None  # web app hook: the site's https origin, allowed by CORS


class ApiTier(pulumi.ComponentResource):
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    access_log_group: aws.cloudwatch.LogGroup
    authorizer_function: LambdaFunction
    authorizer: aws.apigatewayv2.Authorizer
    functions: dict[str, LambdaFunction]
    integrations: dict[str, aws.apigatewayv2.Integration]
    routes: dict[str, aws.apigatewayv2.Route]
    permissions: dict[str, aws.lambda_.Permission]

    def __init__(self, name: str, args: ApiTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:api:ApiTier", name, None, opts)
        config, ctx = args.config, args.function_context
        child = pulumi.ResourceOptions(parent=self)

        cors = cors_configuration(args.web_origin, config.cors_origins)  # web app hook
        self.api = aws.apigatewayv2.Api(
            f"{name}-http",
            name=f"{ctx.name_prefix}-http",
            protocol_type="HTTP",
            description="todo-platform HTTP API",
            cors_configuration=cors,
            opts=child,
        )
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{ctx.name_prefix}-http",
            retention_in_days=config.log_retention_days,
            opts=child,
        )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-default",
            api_id=self.api.id,
            name=STAGE,
            auto_deploy=True,
            default_route_settings={
                "throttling_rate_limit": config.api_throttle_rate_limit,
                "throttling_burst_limit": config.api_throttle_burst_limit,
                "detailed_metrics_enabled": True,
            },
            access_log_settings={"destination_arn": self.access_log_group.arn, "format": ACCESS_LOG_FORMAT},
            opts=child,
        )

        # ------------------------------------------------------------------ authorizer
        authorizer_spec = next(f for f in catalog.FUNCTIONS.values() if f.kind == "authorizer")
        self.authorizer_function = LambdaFunction(authorizer_spec.name, LambdaFunctionArgs(spec=authorizer_spec, context=ctx), child)
        self.authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-token",
            api_id=self.api.id,
            name="session-token",
            authorizer_type="REQUEST",
            authorizer_uri=self.authorizer_function.function.invoke_arn,
            authorizer_payload_format_version="2.0",
            enable_simple_responses=True,
            identity_sources=[f"$request.header.{catalog.AUTH_HEADER.capitalize()}"],
            # No caching: a cached "allow" would outlive a logout (DELETE /sessions/current) for up to
            # the TTL; with 0 every request is checked against the sessions table.
            authorizer_result_ttl_in_seconds=0,
            opts=child,
        )
        self.authorizer_permission = aws.lambda_.Permission(
            f"{name}-{authorizer_spec.name}",
            action="lambda:InvokeFunction",
            function=self.authorizer_function.function.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/authorizers/", self.authorizer.id),
            opts=child,
        )

        # ------------------------------------------------------------------ functions, integrations, routes
        self.functions = build_functions(self, catalog.api_functions(), ctx)
        self.integrations = {}
        self.permissions = {}
        for fn_name, fn in self.functions.items():
            self.integrations[fn_name] = aws.apigatewayv2.Integration(
                f"{name}-{fn_name}",
                api_id=self.api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=fn.function.invoke_arn,
                payload_format_version="2.0",
                opts=child,
            )
            self.permissions[fn_name] = aws.lambda_.Permission(
                f"{name}-{fn_name}",
                action="lambda:InvokeFunction",
                function=fn.function.name,
                principal="apigateway.amazonaws.com",
                # any stage and route of this API only
                source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
                opts=child,
            )

        self.routes = {}
        for route in catalog.ROUTES:
            slug = route.route_key.replace(" ", "").replace("/", "-").replace("{", "").replace("}", "").lower()
            self.routes[route.route_key] = aws.apigatewayv2.Route(
                f"{name}-{slug}",
                api_id=self.api.id,
                route_key=route.route_key,
                target=pulumi.Output.concat("integrations/", self.integrations[route.function].id),
                authorization_type="CUSTOM" if route.auth else "NONE",
                authorizer_id=self.authorizer.id if route.auth else None,
                opts=child,
            )

        self.url: pulumi.Output[str] = self.api.api_endpoint
        self.register_outputs({"apiUrl": self.url, "apiId": self.api.id})
