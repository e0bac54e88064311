"""`DatabaseTier`: the catalog's DynamoDB tables and the users' PostgreSQL database.

- DynamoDB: one table per `catalog.TABLES` entry (keys, GSIs, TTL from the catalog), PITR and
  server-side encryption on; PAY_PER_REQUEST, or PROVISIONED with target-tracking autoscaling on
  reads and writes of the table and of every GSI (Pulumi then ignores the capacity it sets).
- RDS PostgreSQL in the private subnets, encrypted, TLS forced by the parameter group, its master
  password generated and rotated by RDS in Secrets Manager (never known to Pulumi), optionally
  behind an RDS Proxy that authenticates with that secret.
- The migration function (catalog "migrate"), invoked on deploy whenever the SQL files change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_app import catalog

from . import packaging
from .compute import DatabaseRef, FunctionContext, LambdaFunction, LambdaFunctionArgs, TableRef, VpcPlacement
from .config import StackConfig
from .network import POSTGRES_PORT, Network

POSTGRES_MAJOR = "16"
MASTER_USERNAME = "todo_admin"  # not a secret; the password is RDS-managed

# Pulumi property paths (camelCase, as the engine sees them) that autoscaling changes behind our back.
CAPACITY_IGNORE_CHANGES = [
    "readCapacity",
    "writeCapacity",
    "globalSecondaryIndexes[*].readCapacity",
    "globalSecondaryIndexes[*].writeCapacity",
]

SCALING = {
    "read": ("ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    "write": ("WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
}


@dataclass(frozen=True)
class DatabaseTierArgs:
    config: StackConfig
    network: Network
    function_context: FunctionContext  # code, naming; tables/database/vpc are filled in here


class DatabaseTier(pulumi.ComponentResource):
    tables: dict[str, aws.dynamodb.Table]
    scaling_targets: list[aws.appautoscaling.Target]
    scaling_policies: list[aws.appautoscaling.Policy]
    instance: aws.rds.Instance
    proxy: aws.rds.Proxy | None
    migrate: LambdaFunction
    migration: aws.lambda_.Invocation

    def __init__(self, name: str, args: DatabaseTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:database:DatabaseTier", name, None, opts)
        config, network = args.config, args.network
        child = pulumi.ResourceOptions(parent=self)

        # ------------------------------------------------------------------ DynamoDB
        self.tables = {}
        self.scaling_targets = []
        self.scaling_policies = []
        for key, spec in catalog.TABLES.items():
            self.tables[key] = self._table(key, spec, config)
        self.table_refs = {
            key: TableRef(
                name=table.name,
                arn=table.arn,
                index_arns={i.name: pulumi.Output.concat(table.arn, "/index/", i.name) for i in catalog.TABLES[key].indexes},
            )
            for key, table in self.tables.items()
        }

        # ------------------------------------------------------------------ PostgreSQL
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
            instance_class=config.db_instance_class,
            allocated_storage=config.db_allocated_storage_gb,
            max_allocated_storage=config.db_max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=catalog.DATABASE_NAME,
            username=MASTER_USERNAME,
            manage_master_user_password=True,  # RDS keeps the password in Secrets Manager
            port=POSTGRES_PORT,
            db_subnet_group_name=self.subnet_group.name,
            parameter_group_name=self.parameter_group.name,
            vpc_security_group_ids=[network.database_sg.id],
            publicly_accessible=False,
            multi_az=config.db_multi_az,
            deletion_protection=config.db_deletion_protection,
            backup_retention_period=config.db_backup_retention_days,
            performance_insights_enabled=config.db_performance_insights,
            performance_insights_retention_period=7 if config.db_performance_insights else None,
            copy_tags_to_snapshot=True,
            # a protected database keeps a final snapshot when it is finally destroyed
            skip_final_snapshot=not config.db_deletion_protection,
            final_snapshot_identifier=f"{args.function_context.name_prefix}-users-final" if config.db_deletion_protection else None,
            opts=child,
        )
        self.secret_arn: pulumi.Output[str] = self.instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)

        self.proxy = None
        self.proxy_target = None
        host: pulumi.Output[str] = self.instance.address
        if config.db_proxy:
            self.proxy_role = aws.iam.Role(
                f"{name}-proxy",
                assume_role_policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                    }
                ),
                description="RDS Proxy: reads the database secret",
                opts=child,
            )
            self.proxy_policy = aws.iam.RolePolicy(
                f"{name}-proxy",
                role=self.proxy_role.id,
                policy=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DatabaseSecret",
                                "Effect": "Allow",
                                "Action": ["secretsmanager:GetSecretValue"],
                                "Resource": [self.secret_arn],
                            }
                        ],
                    }
                ),
                opts=child,
            )
            self.proxy = aws.rds.Proxy(
                f"{name}-users",
                name=f"{args.function_context.name_prefix}-users",
                engine_family="POSTGRESQL",
                require_tls=True,
                role_arn=self.proxy_role.arn,
                vpc_subnet_ids=network.private_subnet_ids,
                vpc_security_group_ids=[network.database_sg.id],
                auths=[
                    {
                        "auth_scheme": "SECRETS",
                        "secret_arn": self.secret_arn,
                        "iam_auth": "DISABLED",
                        "client_password_auth_type": "POSTGRES_SCRAM_SHA_256",
                        "description": "RDS-managed master user secret",
                    }
                ],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.proxy_policy]),
            )
            self.proxy_target_group = aws.rds.ProxyDefaultTargetGroup(
                f"{name}-users",
                db_proxy_name=self.proxy.name,
                connection_pool_config={"max_connections_percent": 90, "connection_borrow_timeout": 30},
                opts=child,
            )
            self.proxy_target = aws.rds.ProxyTarget(
                f"{name}-users",
                db_proxy_name=self.proxy.name,
                target_group_name=self.proxy_target_group.name,
                db_instance_identifier=self.instance.identifier,
                opts=child,
            )
            host = self.proxy.endpoint

        self.endpoint: pulumi.Output[str] = host  # host only, what DB_HOST and usersDbEndpoint carry
        self.database_ref = DatabaseRef(host=host, port=POSTGRES_PORT, name=catalog.DATABASE_NAME, secret_arn=self.secret_arn)
        self.function_context = args.function_context.with_(
            tables=self.table_refs,
            database=self.database_ref,
            vpc=VpcPlacement(subnet_ids=network.private_subnet_ids, security_group_ids=[network.functions_sg.id]),
        )

        # ------------------------------------------------------------------ migrations on deploy
        spec = catalog.FUNCTIONS["migrate"]
        self.migrate = LambdaFunction(spec.name, LambdaFunctionArgs(spec=spec, context=self.function_context), child)
        self.migrations_hash = packaging.migrations_hash()
        # The hash in `triggers` replaces (re-invokes) the Invocation only when a migration file
        # changes; the same hash in `input` lets the function log which set it applied.
        ready: list[pulumi.Resource] = [self.instance, *network.interface_endpoints.values()]
        if self.proxy_target is not None:
            ready.append(self.proxy_target)
        self.migration = aws.lambda_.Invocation(
            f"{name}-migrate",
            function_name=self.migrate.function.name,
            input=json.dumps({"action": "migrate", "migrationsHash": self.migrations_hash}),
            triggers={"migrationsHash": self.migrations_hash},
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )

        self.register_outputs(
            {
                **{f"{key}TableName": table.name for key, table in self.tables.items()},
                "usersDbEndpoint": self.endpoint,
                "usersDbSecretArn": self.secret_arn,
            }
        )

    # ---------------------------------------------------------------------- helpers
    def _table(self, key: str, spec: catalog.Table, config: StackConfig) -> aws.dynamodb.Table:
        provisioned = config.provisioned
        capacity = {"read_capacity": config.dynamodb_min_capacity, "write_capacity": config.dynamodb_min_capacity} if provisioned else {}
        indexes = []
        for index in spec.indexes:
            key_schemas = [{"attribute_name": name, "key_type": key_type} for name, key_type in index.key_schema]
            indexes.append({"name": index.name, "key_schemas": key_schemas, "projection_type": index.projection, **capacity})
        table = aws.dynamodb.Table(
            key,
            billing_mode=config.dynamodb_billing_mode,
            hash_key=spec.hash_key,
            range_key=spec.range_key,
            attributes=[{"name": a, "type": spec.attribute_type} for a in spec.key_attributes],
            global_secondary_indexes=indexes or None,
            ttl={"attribute_name": spec.ttl_attribute, "enabled": True} if spec.ttl_attribute else None,
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},  # KMS (AWS-managed key) rather than the default owned key
            **capacity,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=CAPACITY_IGNORE_CHANGES if provisioned else None),
        )
        if provisioned:
            self._autoscale(key, pulumi.Output.concat("table/", table.name), "table", config, table)
            for index in spec.indexes:
                resource_id = pulumi.Output.concat("table/", table.name, "/index/", index.name)
                self._autoscale(f"{key}-{index.name}", resource_id, "index", config, table)
        return table

    def _autoscale(self, name: str, resource_id: pulumi.Input[str], kind: str, config: StackConfig, table: aws.dynamodb.Table) -> None:
        for direction, (unit, metric) in SCALING.items():
            target = aws.appautoscaling.Target(
                f"{name}-{direction}",
                service_namespace="dynamodb",
                resource_id=resource_id,
                scalable_dimension=f"dynamodb:{kind}:{unit}",
                min_capacity=config.dynamodb_min_capacity,
                max_capacity=config.dynamodb_max_capacity,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[table]),
            )
            policy = aws.appautoscaling.Policy(
                f"{name}-{direction}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration={
                    "predefined_metric_specification": {"predefined_metric_type": metric},
                    "target_value": config.dynamodb_target_utilization,
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.scaling_targets.append(target)
            self.scaling_policies.append(policy)
