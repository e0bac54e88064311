"""`Network`: a private-only VPC for the functions that reach PostgreSQL.

Two private subnets in two AZs, no internet gateway and no NAT gateway. The in-VPC functions reach
AWS services only through VPC endpoints: a DynamoDB gateway endpoint (free) on the private route
table, and interface endpoints for the services an in-VPC function calls (Secrets Manager always, for
the database secret; SQS only if the catalog ever gives a database function queue actions).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_app import catalog

POSTGRES_PORT = 5432
HTTPS_PORT = 443


def interface_endpoint_services() -> tuple[str, ...]:
    """The AWS services an in-VPC (database) function calls, besides DynamoDB (gateway endpoint).

    There is no NAT gateway, so without an endpoint these calls would hang until the function times out.
    Every database function reads the database secret from Secrets Manager at cold start.
    """
    in_vpc = [f for f in catalog.FUNCTIONS.values() if f.database]
    services = []
    if in_vpc:
        services.append("secretsmanager")
    if any(f.queue_actions for f in in_vpc):
        services.append("sqs")
    return tuple(services)


@dataclass(frozen=True)
class NetworkArgs:
    cidr_block: str = "10.20.0.0/16"  # the VPC's range
    subnet_cidrs: tuple[str, str] = ("10.20.0.0/20", "10.20.16.0/20")  # one private subnet per AZ, in the first two AZs


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    private_subnets: list[aws.ec2.Subnet]
    """Two, in two AZs; no public subnet, no internet or NAT gateway."""
    private_subnet_ids: list[pulumi.Output[str]]
    route_table: aws.ec2.RouteTable
    """Only the local route and the DynamoDB prefix list: no way out."""
    functions_sg: aws.ec2.SecurityGroup
    """In-VPC functions: egress to PostgreSQL, the interface endpoints and DynamoDB only."""
    database_sg: aws.ec2.SecurityGroup
    """PostgreSQL and its RDS Proxy: ingress from the functions (and the proxy) on 5432 only."""
    endpoints_sg: aws.ec2.SecurityGroup
    """Interface endpoints: HTTPS from the functions only."""
    dynamodb_endpoint: aws.ec2.VpcEndpoint
    """The free gateway endpoint on the private route table."""
    interface_endpoints: dict[str, aws.ec2.VpcEndpoint]
    """By service, only those an in-VPC function calls (see `interface_endpoint_services`)."""
    ingress_rules: list[aws.vpc.SecurityGroupIngressRule]
    egress_rules: list[aws.vpc.SecurityGroupEgressRule]
    function_paths: list[pulumi.Resource]
    """Everything an in-VPC function needs before it can reach its dependencies (rules and endpoints)."""

    def __init__(self, name: str, args: NetworkArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:network:Network", name, None, opts)
        args = args or NetworkArgs()
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # interface endpoints' private DNS needs both
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        self.private_subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zones.names[i],
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{i}"},
                opts=child,
            )
            for i, cidr in enumerate(args.subnet_cidrs)
        ]
        # A route table with only the local route (and the DynamoDB prefix list): no way out.
        self.route_table = aws.ec2.RouteTable(f"{name}-private", vpc_id=self.vpc.id, tags={"Name": f"{name}-private"}, opts=child)
        self.route_table_associations = [
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=self.route_table.id, opts=child)
            for i, subnet in enumerate(self.private_subnets)
        ]

        self.functions_sg = aws.ec2.SecurityGroup(
            f"{name}-functions", vpc_id=self.vpc.id, description="Lambda functions that reach PostgreSQL", opts=child
        )
        self.database_sg = aws.ec2.SecurityGroup(
            f"{name}-database", vpc_id=self.vpc.id, description="PostgreSQL and its RDS Proxy", opts=child
        )
        self.endpoints_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=self.vpc.id, description="Interface VPC endpoints", opts=child
        )

        # The DynamoDB gateway endpoint: free, routes DynamoDB traffic from the private route table.
        self.dynamodb_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-dynamodb",
            vpc_id=self.vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".dynamodb"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[self.route_table.id],
            opts=child,
        )
        # Interface endpoints: the in-VPC functions read the database secret from Secrets Manager and
        # there is no NAT gateway, so without this endpoint they could not reach it at all.
        self.interface_endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=self.vpc.id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.private_subnets],
                security_group_ids=[self.endpoints_sg.id],
                opts=child,
            )
            for service in interface_endpoint_services()
        }

        # ---- rules: PostgreSQL only from the functions (and the proxy, which shares the database SG)
        def ingress(
            rule: str, sg: aws.ec2.SecurityGroup, port: int, source: aws.ec2.SecurityGroup, why: str
        ) -> aws.vpc.SecurityGroupIngressRule:
            return aws.vpc.SecurityGroupIngressRule(
                f"{name}-{rule}",
                security_group_id=sg.id,
                referenced_security_group_id=source.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=why,
                opts=child,
            )

        def egress(
            rule: str,
            sg: aws.ec2.SecurityGroup,
            port: int,
            why: str,
            *,
            to: aws.ec2.SecurityGroup | None = None,
            prefix_list: pulumi.Input[str] | None = None,
        ) -> aws.vpc.SecurityGroupEgressRule:
            return aws.vpc.SecurityGroupEgressRule(
                f"{name}-{rule}",
                security_group_id=sg.id,
                referenced_security_group_id=to.id if to is not None else None,
                prefix_list_id=prefix_list,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=why,
                opts=child,
            )

        self.ingress_rules = [
            ingress("db-from-functions", self.database_sg, POSTGRES_PORT, self.functions_sg, "PostgreSQL from the functions"),
            ingress("db-from-proxy", self.database_sg, POSTGRES_PORT, self.database_sg, "PostgreSQL from the RDS Proxy"),
            ingress(
                "endpoints-from-functions", self.endpoints_sg, HTTPS_PORT, self.functions_sg, "HTTPS to the endpoints from the functions"
            ),
        ]
        self.egress_rules = [
            egress("functions-to-db", self.functions_sg, POSTGRES_PORT, "PostgreSQL", to=self.database_sg),
            egress("functions-to-endpoints", self.functions_sg, HTTPS_PORT, "Interface endpoints", to=self.endpoints_sg),
            egress(
                "functions-to-dynamodb",
                self.functions_sg,
                HTTPS_PORT,
                "DynamoDB gateway endpoint",
                prefix_list=self.dynamodb_endpoint.prefix_list_id,
            ),
            egress("proxy-to-db", self.database_sg, POSTGRES_PORT, "RDS Proxy to PostgreSQL", to=self.database_sg),
        ]

        self.private_subnet_ids = [s.id for s in self.private_subnets]
        # what an in-VPC function needs before it can reach PostgreSQL, DynamoDB and the interface endpoints
        self.function_paths: list[pulumi.Resource] = [
            *self.ingress_rules,
            *self.egress_rules,
            self.dynamodb_endpoint,
            *self.interface_endpoints.values(),
        ]
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "privateSubnetIds": self.private_subnet_ids,
                "functionsSecurityGroupId": self.functions_sg.id,
                "databaseSecurityGroupId": self.database_sg.id,
            }
        )
