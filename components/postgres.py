"""PostgreSQL on RDS: `PostgresDatabase` (with an optional `RdsProxy`) and the `SchemaMigration` run on deploy.

- `PostgresDatabase`: the instance in the private subnets, encrypted, TLS forced by its parameter group,
  its master password generated and rotated by RDS in Secrets Manager (never known to Pulumi);
  optionally behind an RDS Proxy that authenticates with that secret.
- `SchemaMigration`: invokes the migration function whenever the SQL files change, once everything
  the function needs to reach PostgreSQL and Secrets Manager exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .compute import DatabaseRef, LambdaFunction, VpcPlacement
from .network import POSTGRES_PORT, Network

POSTGRES_MAJOR = "16"
MASTER_USERNAME = "todo_admin"  # not a secret; the password is RDS-managed


@dataclass(frozen=True)
class InstanceSettings:
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    deletion_protection: bool  # also keeps a final snapshot when the instance is destroyed
    backup_retention_days: int
    performance_insights: bool


@dataclass(frozen=True)
class PostgresDatabaseArgs:
    network: Network
    database_name: str
    physical_prefix: str  # names the proxy and the final snapshot: <prefix>-users
    instance: InstanceSettings
    proxy: bool  # put an RDS Proxy in front (connection pooling for many concurrent functions)
    protect: bool = False  # Pulumi's protect on the instance (its secret is RDS's, deleted only with it)


class PostgresDatabase(pulumi.ComponentResource):
    """RDS PostgreSQL and, where asked, its RDS Proxy. `ref` is what database functions connect to."""

    subnet_group: aws.rds.SubnetGroup
    parameter_group: aws.rds.ParameterGroup
    """`rds.force_ssl=1`: the server refuses connections without TLS."""
    instance: aws.rds.Instance
    secret_arn: pulumi.Output[str]
    """The RDS-managed master user secret ({"username", "password"})."""
    proxy: RdsProxy | None
    """The RDS Proxy, only when `PostgresDatabaseArgs.proxy` is set."""
    endpoint: pulumi.Output[str]
    """The host functions connect to: the proxy's endpoint when there is one, else the instance's address."""
    ref: DatabaseRef
    vpc_placement: VpcPlacement
    """Where a database function runs: the private subnets, in the network's functions security group."""

    def __init__(self, name: str, args: PostgresDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:database:PostgresDatabase", name, None, opts)
        network, settings = args.network, args.instance
        child = pulumi.ResourceOptions(parent=self)

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-users", subnet_ids=network.private_subnet_ids, description="Private subnets for PostgreSQL", opts=child
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-users",
            family=f"postgres{POSTGRES_MAJOR}",
            description="todo-platform PostgreSQL: TLS only",
            parameters=[{"name": "rds.force_ssl", "value": "1"}],
            opts=child,
        )
        self.instance = aws.rds.Instance(
            f"{name}-users",
            engine="postgres",
            engine_version=POSTGRES_MAJOR,
            auto_minor_version_upgrade=True,
            instance_class=settings.instance_class,
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=settings.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=args.database_name,
            username=MASTER_USERNAME,
            manage_master_user_password=True,  # RDS keeps the password in Secrets Manager
            port=POSTGRES_PORT,
            db_subnet_group_name=self.subnet_group.name,
            parameter_group_name=self.parameter_group.name,
            vpc_security_group_ids=[network.database_sg.id],
            publicly_accessible=False,
            multi_az=settings.multi_az,
            deletion_protection=settings.deletion_protection,
            backup_retention_period=settings.backup_retention_days,
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=7 if settings.performance_insights else None,
            copy_tags_to_snapshot=True,
            # a protected database keeps a final snapshot when it is finally destroyed
            skip_final_snapshot=not settings.deletion_protection,
            final_snapshot_identifier=f"{args.physical_prefix}-users-final" if settings.deletion_protection else None,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.secret_arn = self.instance.master_user_secrets.apply(_first_secret_arn)

        self.proxy = None
        self.endpoint = self.instance.address
        if args.proxy:
            self.proxy = RdsProxy(
                f"{name}-proxy",
                RdsProxyArgs(
                    network=network,
                    instance=self.instance,
                    secret_arn=self.secret_arn,
                    resource_prefix=name,
                    physical_prefix=args.physical_prefix,
                ),
                child,
            )
            self.endpoint = self.proxy.proxy.endpoint

        self.ref = DatabaseRef(host=self.endpoint, port=POSTGRES_PORT, name=args.database_name, secret_arn=self.secret_arn)
        self.vpc_placement = VpcPlacement(subnet_ids=network.private_subnet_ids, security_group_ids=[network.functions_sg.id])
        self.register_outputs({"usersDbEndpoint": self.endpoint, "usersDbSecretArn": self.secret_arn})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What must exist before anything connects: the instance, and the proxy's target where there is one."""
        return [self.instance, *([self.proxy.target] if self.proxy else [])]


def _first_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    if not secrets or not secrets[0].secret_arn:
        raise ValueError("RDS reported no managed master user secret although manage_master_user_password is set")
    return secrets[0].secret_arn


@dataclass(frozen=True)
class RdsProxyArgs:
    network: Network
    instance: aws.rds.Instance
    secret_arn: pulumi.Input[str]
    resource_prefix: str  # logical names: <prefix>-users, <prefix>-proxy
    physical_prefix: str  # the proxy's name: <prefix>-users


class RdsProxy(pulumi.ComponentResource):
    """An RDS Proxy in front of one instance, authenticating with the instance's managed secret."""

    role: aws.iam.Role
    """Assumed by RDS; may read exactly the database secret."""
    policy: aws.iam.RolePolicy
    proxy: aws.rds.Proxy
    target_group: aws.rds.ProxyDefaultTargetGroup
    target: aws.rds.ProxyTarget

    def __init__(self, name: str, args: RdsProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:database:RdsProxy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.resource_prefix
        self.role = aws.iam.Role(
            f"{prefix}-proxy",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                }
            ),
            description="RDS Proxy: reads the database secret",
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{prefix}-proxy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DatabaseSecret",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": [args.secret_arn],
                        }
                    ],
                }
            ),
            opts=child,
        )
        self.proxy = aws.rds.Proxy(
            f"{prefix}-users",
            name=f"{args.physical_prefix}-users",
            engine_family="POSTGRESQL",
            require_tls=True,
            role_arn=self.role.arn,
            vpc_subnet_ids=args.network.private_subnet_ids,
            vpc_security_group_ids=[args.network.database_sg.id],
            auths=[
                {
                    "auth_scheme": "SECRETS",
                    "secret_arn": args.secret_arn,
                    "iam_auth": "DISABLED",
                    "client_password_auth_type": "POSTGRES_SCRAM_SHA_256",
                    "description": "RDS-managed master user secret",
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        self.target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{prefix}-users",
            db_proxy_name=self.proxy.name,
            connection_pool_config={"max_connections_percent": 90, "connection_borrow_timeout": 30},
            opts=child,
        )
        self.target = aws.rds.ProxyTarget(
            f"{prefix}-users",
            db_proxy_name=self.proxy.name,
            target_group_name=self.target_group.name,
            db_instance_identifier=args.instance.identifier,
            opts=child,
        )
        self.register_outputs({"endpoint": self.proxy.endpoint})


@dataclass(frozen=True)
class SchemaMigrationArgs:
    function: LambdaFunction  # applies the migrations; answers {"applied": [...], "current": ...}
    migrations_hash: str  # changes exactly when a migration file does
    database: PostgresDatabase
    network: Network


class SchemaMigration(pulumi.ComponentResource):
    """Invokes the migration function on deploy, again only when the migrations change."""

    invocation: aws.lambda_.Invocation

    def __init__(self, name: str, args: SchemaMigrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:database:SchemaMigration", name, None, opts)
        # The function reaches PostgreSQL through the security-group rules and reads its secret
        # through the interface endpoints: all of them, and the database itself, must exist first.
        ready: list[pulumi.Resource] = [*args.database.ready, *args.network.function_paths, args.function, args.function.alias]
        # The hash in `triggers` replaces (re-invokes) the Invocation only when a migration file changes;
        # the same hash in `input` lets the function log which set it applied.
        self.invocation = aws.lambda_.Invocation(
            name,
            function_name=args.function.aws_function.name,
            qualifier=args.function.alias.name,  # the version the alias serves: the one just deployed
            input=json.dumps({"action": "migrate", "migrationsHash": args.migrations_hash}),
            triggers={"migrationsHash": args.migrations_hash},
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        self.register_outputs({"result": self.invocation.result})
