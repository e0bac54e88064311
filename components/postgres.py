"""PostgreSQL on Aurora Serverless v2: `PostgresDatabase` and the `SchemaMigration` run on deploy.

- `PostgresDatabase`: an Aurora PostgreSQL cluster in the private subnets, encrypted, TLS forced by its
  cluster parameter group, IAM database authentication on (the serving functions log in as the
  application role with a token: no password), the RDS Data API on (the migrator runs outside the VPC
  and needs no interface endpoint), its master password generated and rotated by RDS in Secrets Manager
  (never known to Pulumi). A `db.serverless` writer and, where asked, readers in other AZs that follow it
  (promotion tier 0/1: they fail over to it, and pause with it). With a minimum of 0 ACU the cluster
  pauses after `seconds_until_auto_pause` without connections. No RDS Proxy: on Serverless v2 it bills a
  minimum of 8 ACUs and cannot be used with auto-pause; the connection budget is in the stack config.
- `SchemaMigration`: invokes the migration function whenever the SQL files change, once the writer exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .compute import DatabaseRef, LambdaFunction, VpcPlacement
from .network import POSTGRES_PORT, Network
from .tokens import type_token, with_former_token

ENGINE = aws.rds.EngineType.AURORA_POSTGRESQL  # "aurora-postgresql"
# 16.3 and later scale to 0 ACU (automatic pause and resume); a minor version, so upgrades stay explicit
ENGINE_VERSION = "16.6"
PARAMETER_GROUP_FAMILY = "aurora-postgresql16"
INSTANCE_CLASS = "db.serverless"
# Readers in promotion tier 0 or 1 scale with the writer and pause with it; a failover promotes them first.
READER_PROMOTION_TIER = 1
WRITER_PROMOTION_TIER = 0


@dataclass(frozen=True)
class ClusterSettings:
    """The Aurora Serverless v2 cluster's size, availability and backups.

    Attributes:
        min_capacity: the least capacity in ACU; 0 lets the cluster pause.
        max_capacity: the most capacity in ACU (at least 1).
        seconds_until_auto_pause: idle time before the cluster pauses; applies only with min_capacity 0.
        reader_instances: readers besides the writer, each in another AZ than the writer's.
        deletion_protection: AWS's deletion protection; also keeps a final snapshot when the cluster is destroyed.
        backup_retention_days: the point-in-time restore window in days.
    """

    min_capacity: float
    max_capacity: float
    seconds_until_auto_pause: int
    reader_instances: int
    deletion_protection: bool
    backup_retention_days: int

    def __post_init__(self) -> None:
        if self.max_capacity < max(self.min_capacity, 1):
            raise ValueError(f"ClusterSettings: max_capacity {self.max_capacity:g} must be at least 1 and at least min_capacity")

    @property
    def pauses(self) -> bool:
        return self.min_capacity == 0

    def scaling(self) -> aws.rds.ClusterServerlessv2ScalingConfigurationArgs:
        """serverlessv2_scaling_configuration: auto-pause only where the minimum is 0 (AWS refuses it elsewhere)."""
        return aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
            min_capacity=self.min_capacity,
            max_capacity=self.max_capacity,
            seconds_until_auto_pause=self.seconds_until_auto_pause if self.pauses else None,
        )


@dataclass(frozen=True)
class PostgresDatabaseArgs:
    """What `PostgresDatabase` builds.

    Attributes:
        network: the VPC whose private subnets and database security group the cluster uses.
        database_name: the database the cluster creates.
        physical_prefix: names the final snapshot: `<prefix>-<label>-final`.
        cluster: the cluster's size, availability and backups.
        master_username: the RDS master user (its password is RDS-managed, in Secrets Manager): the migrator's.
        app_user: the database user that functions with `database` connect as (`DatabaseRef.user`).
        protect: Pulumi's protect on the cluster (its secret is RDS's, deleted only with it).
        label: names the resources (`<name>-<label>`, `<name>-<label>-writer`) and the final snapshot.
        description: the cluster parameter group's description.
    """

    network: Network
    database_name: str
    physical_prefix: str
    cluster: ClusterSettings
    master_username: str
    app_user: str
    protect: bool = False
    label: str = "postgres"
    description: str = "Aurora PostgreSQL: TLS only"


class PostgresDatabase(pulumi.ComponentResource):
    """Aurora PostgreSQL Serverless v2. `ref` is what database functions (and the migrator) are wired to."""

    subnet_group: aws.rds.SubnetGroup
    parameter_group: aws.rds.ClusterParameterGroup
    """`rds.force_ssl=1`: the server refuses connections without TLS."""
    cluster: aws.rds.Cluster
    writer: aws.rds.ClusterInstance
    """The `db.serverless` writer, in the first private subnet's AZ."""
    readers: list[aws.rds.ClusterInstance]
    """`ClusterSettings.reader_instances` readers, each in another AZ than the writer's."""
    secret_arn: pulumi.Output[str]
    """The RDS-managed master user secret ({"username", "password"}): the migrator's, and operators'."""
    endpoint: pulumi.Output[str]
    """The cluster's writer endpoint (a host name, no port)."""
    ref: DatabaseRef
    vpc_placement: VpcPlacement
    """Where a database function runs: the private subnets, in the network's functions security group."""

    def __init__(self, name: str, args: PostgresDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("database:PostgresDatabase"), name, None, with_former_token("database:PostgresDatabase", opts))
        network = args.network
        self._cluster(name, args)
        self.secret_arn = self.cluster.master_user_secrets.apply(_first_secret_arn)
        self._instances(name, args)
        self.endpoint = self.cluster.endpoint
        self.ref = DatabaseRef(
            host=self.endpoint,
            port=POSTGRES_PORT,
            name=args.database_name,
            cluster_arn=self.cluster.arn,
            cluster_resource_id=self.cluster.cluster_resource_id,
            secret_arn=self.secret_arn,
            user=args.app_user,
        )
        self.vpc_placement = VpcPlacement(subnet_ids=network.private_subnet_ids, security_group_ids=[network.functions_sg.id])
        self.register_outputs(
            {"endpoint": self.endpoint, "secretArn": self.secret_arn, "clusterIdentifier": self.cluster.cluster_identifier}
        )

    def _cluster(self, name: str, args: PostgresDatabaseArgs) -> None:
        """The subnet group, the parameter group (TLS forced) and the Aurora Serverless v2 cluster."""
        network, settings, label = args.network, args.cluster, args.label
        child = pulumi.ResourceOptions(parent=self)
        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-{label}", subnet_ids=network.private_subnet_ids, description="Private subnets for PostgreSQL", opts=child
        )
        self.parameter_group = aws.rds.ClusterParameterGroup(
            f"{name}-{label}",
            family=PARAMETER_GROUP_FAMILY,
            description=args.description,
            parameters=[{"name": "rds.force_ssl", "value": "1"}],
            opts=child,
        )
        self.cluster = aws.rds.Cluster(
            f"{name}-{label}",
            engine=ENGINE,
            engine_mode="provisioned",  # Serverless v2 runs in provisioned mode with db.serverless instances
            engine_version=ENGINE_VERSION,
            database_name=args.database_name,
            master_username=args.master_username,
            manage_master_user_password=True,  # RDS keeps the password in Secrets Manager
            iam_database_authentication_enabled=True,  # the application role logs in with IAM tokens
            enable_http_endpoint=True,  # the Data API: the migrator runs outside the VPC
            port=POSTGRES_PORT,
            db_subnet_group_name=self.subnet_group.name,
            db_cluster_parameter_group_name=self.parameter_group.name,
            vpc_security_group_ids=[network.database_sg.id],
            storage_encrypted=True,
            backup_retention_period=settings.backup_retention_days,
            deletion_protection=settings.deletion_protection,
            copy_tags_to_snapshot=True,
            # a protected database keeps a final snapshot when it is finally destroyed
            skip_final_snapshot=not settings.deletion_protection,
            final_snapshot_identifier=f"{args.physical_prefix}-{label}-final" if settings.deletion_protection else None,
            serverlessv2_scaling_configuration=settings.scaling(),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

    def _instances(self, name: str, args: PostgresDatabaseArgs) -> None:
        """The writer in the first subnet's AZ; each reader in an AZ other than the writer's: a failover target
        that survives the writer's AZ."""
        zones = [subnet.availability_zone for subnet in args.network.private_subnets]
        self.writer = self._instance(f"{name}-{args.label}-writer", zones[0], WRITER_PROMOTION_TIER)
        others = zones[1:]
        self.readers = [
            self._instance(f"{name}-{args.label}-reader-{i + 1}", others[i % len(others)], READER_PROMOTION_TIER)
            for i in range(args.cluster.reader_instances)
        ]

    def _instance(self, resource_name: str, zone: pulumi.Input[str], tier: int) -> aws.rds.ClusterInstance:
        return aws.rds.ClusterInstance(
            resource_name,
            cluster_identifier=self.cluster.id,
            engine=ENGINE,
            engine_version=self.cluster.engine_version,
            instance_class=INSTANCE_CLASS,
            availability_zone=zone,
            promotion_tier=tier,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What must exist before anything runs SQL: the cluster and its writer."""
        return [self.cluster, self.writer]


def _first_secret_arn(secrets: Sequence[aws.rds.outputs.ClusterMasterUserSecret]) -> str:
    if not secrets or not secrets[0].secret_arn:
        raise ValueError("RDS reported no managed master user secret although manage_master_user_password is set")
    return secrets[0].secret_arn


@dataclass(frozen=True)
class SchemaMigrationArgs:
    """What `SchemaMigration` invokes, and when.

    Attributes:
        function: the migration function; invoked with {"action": "migrate", "migrationsHash": ...}.
        migrations_hash: changes exactly when a migration file does (`packaging.migrations_hash`): the invocation
            runs again only then.
        database: the database whose writer must exist first.
    """

    function: LambdaFunction
    migrations_hash: str
    database: PostgresDatabase


class SchemaMigration(pulumi.ComponentResource):
    """Invokes the migration function on deploy, again only when the migrations change."""

    invocation: aws.lambda_.Invocation

    def __init__(self, name: str, args: SchemaMigrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("database:SchemaMigration"), name, None, with_former_token("database:SchemaMigration", opts))
        # The function runs outside the VPC and reaches the cluster through the Data API: the cluster's
        # writer must exist (the Data API runs statements on it), and the function and its alias.
        ready: list[pulumi.Resource] = [*args.database.ready, args.function, args.function.alias]
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
