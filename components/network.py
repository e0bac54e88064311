"""`Network`: a private-only VPC for the functions that reach PostgreSQL.

Two private subnets in two AZs, no internet gateway, no NAT gateway and no interface endpoint. The
in-VPC functions reach exactly two things: PostgreSQL (its security group, port 5432) and DynamoDB
through the free gateway endpoint on the private route table. They read no secret (IAM database
authentication signs a token locally) and the migrator runs outside the VPC (RDS Data API), so no
Secrets Manager endpoint is needed; a database function that would call any other AWS service from
inside the VPC is refused (`in_vpc_problems`) rather than left to hang until its timeout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tierspec import FunctionSpec

from .tokens import type_token, with_former_token

POSTGRES_PORT = 5432
HTTPS_PORT = 443


def in_vpc_problems(functions: Iterable[FunctionSpec]) -> list[str]:
    """What an in-VPC (database) function would call that the network cannot reach, one line per function.

    Without a NAT gateway or an interface endpoint such a call hangs until the function times out, so the
    program refuses to build it: give the work to a function outside the VPC, or add an endpoint on purpose.
    """
    problems = []
    for spec in functions:
        if spec.database and spec.queue_actions:
            problems.append(
                f"function {spec.name!r} connects to PostgreSQL (runs in the VPC) and uses SQS "
                f"({', '.join(spec.queue_actions)}): the VPC has no interface endpoint and no NAT gateway, "
                "so it could not reach the queue"
            )
    return problems


@dataclass(frozen=True)
class NetworkArgs:
    """The VPC's address ranges.

    Attributes:
        cidr_block: the VPC's range.
        subnet_cidrs: one private subnet's range per AZ, in the region's first two AZs.
    """

    cidr_block: str = "10.20.0.0/16"
    subnet_cidrs: tuple[str, str] = ("10.20.0.0/20", "10.20.16.0/20")


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    private_subnets: list[aws.ec2.Subnet]
    """Two, in two AZs; no public subnet, no internet or NAT gateway."""
    private_subnet_ids: list[pulumi.Output[str]]
    route_table: aws.ec2.RouteTable
    """Only the local route and the DynamoDB prefix list: no way out."""
    functions_sg: aws.ec2.SecurityGroup
    """In-VPC functions: egress to PostgreSQL and DynamoDB's gateway endpoint only."""
    database_sg: aws.ec2.SecurityGroup
    """PostgreSQL: ingress from the functions on 5432 only."""
    dynamodb_endpoint: aws.ec2.VpcEndpoint
    """The free gateway endpoint on the private route table; the VPC's only endpoint."""
    ingress_rules: list[aws.vpc.SecurityGroupIngressRule]
    egress_rules: list[aws.vpc.SecurityGroupEgressRule]
    function_paths: list[pulumi.Resource]
    """Everything an in-VPC function needs before it can reach its dependencies (rules and the gateway endpoint)."""

    def __init__(self, name: str, args: NetworkArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("network:Network"), name, None, with_former_token("network:Network", opts))
        args = args or NetworkArgs()
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))
        self._private_subnets(name, args, zones)
        self._security_groups(name)
        self.dynamodb_endpoint = self._dynamodb_endpoint(name, region)
        self._rules(name)
        self.private_subnet_ids = [s.id for s in self.private_subnets]
        # what an in-VPC function needs before it can reach PostgreSQL and DynamoDB
        self.function_paths: list[pulumi.Resource] = [*self.ingress_rules, *self.egress_rules, self.dynamodb_endpoint]
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "privateSubnetIds": self.private_subnet_ids,
                "functionsSecurityGroupId": self.functions_sg.id,
                "databaseSecurityGroupId": self.database_sg.id,
            }
        )

    def _private_subnets(self, name: str, args: NetworkArgs, zones: pulumi.Output[aws.GetAvailabilityZonesResult]) -> None:
        """The VPC, a private subnet per AZ, and their route table."""
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # Aurora's endpoints are DNS names the functions resolve
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

    def _security_groups(self, name: str) -> None:
        """The functions' and the database's security groups (their rules in `_rules`)."""
        child = pulumi.ResourceOptions(parent=self)
        self.functions_sg = aws.ec2.SecurityGroup(
            f"{name}-functions", vpc_id=self.vpc.id, description="Lambda functions that reach PostgreSQL", opts=child
        )
        # the description is kept as deployed: changing it would replace the group
        self.database_sg = aws.ec2.SecurityGroup(
            f"{name}-database", vpc_id=self.vpc.id, description="PostgreSQL and its RDS Proxy", opts=child
        )

    def _dynamodb_endpoint(self, name: str, region: pulumi.Output[str]) -> aws.ec2.VpcEndpoint:
        """The DynamoDB gateway endpoint: free, routes DynamoDB traffic from the private route table."""
        return aws.ec2.VpcEndpoint(
            f"{name}-dynamodb",
            vpc_id=self.vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".dynamodb"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[self.route_table.id],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _rules(self, name: str) -> None:
        """PostgreSQL only from the functions; the functions reach only PostgreSQL and DynamoDB."""
        self.ingress_rules = [
            self._ingress(name, "db-from-functions", self.database_sg, POSTGRES_PORT, self.functions_sg, "PostgreSQL from the functions"),
        ]
        self.egress_rules = [
            self._egress(name, "functions-to-db", self.functions_sg, POSTGRES_PORT, "PostgreSQL", to=self.database_sg),
            self._egress(
                name,
                "functions-to-dynamodb",
                self.functions_sg,
                HTTPS_PORT,
                "DynamoDB gateway endpoint",
                prefix_list=self.dynamodb_endpoint.prefix_list_id,
            ),
        ]

    def _ingress(
        self, name: str, rule: str, sg: aws.ec2.SecurityGroup, port: int, source: aws.ec2.SecurityGroup, why: str
    ) -> aws.vpc.SecurityGroupIngressRule:
        return aws.vpc.SecurityGroupIngressRule(
            f"{name}-{rule}",
            security_group_id=sg.id,
            referenced_security_group_id=source.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=why,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _egress(
        self,
        name: str,
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
            opts=pulumi.ResourceOptions(parent=self),
        )
