"""`DynamoTables`: DynamoDB tables from table specs (keys, GSIs, TTL, stream), with PITR and KMS encryption.

Point-in-time recovery is always on; deletion protection (AWS's) and `protect` (Pulumi's) where asked.
Capacity is on demand (PAY_PER_REQUEST), or PROVISIONED with target-tracking autoscaling on reads and
writes of every table and every GSI; Pulumi then ignores the capacities autoscaling changes. A table
whose spec says `always_on_demand` is PAY_PER_REQUEST in every stack (no minimum, no autoscaling and
none of autoscaling's alarms for traffic too small and bursty to pay for them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tierspec import Table

from .compute import TableRef
from .tokens import type_token, with_former_token

# Pulumi property paths (camelCase, as the engine sees them) that autoscaling changes behind our back.
CAPACITY_IGNORE_CHANGES = [
    "readCapacity",
    "writeCapacity",
    "globalSecondaryIndexes[*].readCapacity",
    "globalSecondaryIndexes[*].writeCapacity",
]
# direction -> (capacity unit, the predefined metric autoscaling tracks)
SCALING = {
    "read": ("ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    "write": ("WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
}


@dataclass(frozen=True)
class ProvisionedCapacity:
    """Autoscaled capacity units, the same bounds for every table and index.

    Attributes:
        min_units: the least read (and write) capacity units autoscaling keeps.
        max_units: the most read (and write) capacity units autoscaling may set.
        target_utilization: the consumed share of the capacity, in percent, that autoscaling aims at.
    """

    min_units: int
    max_units: int
    target_utilization: int


@dataclass(frozen=True)
class DynamoTablesArgs:
    """What `DynamoTables` builds.

    Attributes:
        tables: the table specs, one table each.
        provisioned: autoscaled provisioned capacity for every table and index; None: on demand (PAY_PER_REQUEST).
        deletion_protection: AWS's deletion protection: AWS refuses to delete a protected table.
        protect: Pulumi's protect: `pulumi destroy` (or a replacement) stops before each table.
    """

    tables: Sequence[Table]
    provisioned: ProvisionedCapacity | None = None
    deletion_protection: bool = False
    protect: bool = False


def capacity_of(spec: Table, provisioned: ProvisionedCapacity | None) -> ProvisionedCapacity | None:
    """The table's capacity: the stack's, except for a table that is always on demand (None)."""
    return None if spec.always_on_demand else provisioned


class DynamoTables(pulumi.ComponentResource):
    """One DynamoDB table per spec, each a child named by its spec's key."""

    tables: dict[str, aws.dynamodb.Table]
    """Table resources by spec key."""
    refs: dict[str, TableRef]
    """What functions are wired to: name, ARN and index ARNs by spec key."""
    scaling_targets: list[aws.appautoscaling.Target]
    """Empty on demand; otherwise a read and a write target per table and per GSI."""
    scaling_policies: list[aws.appautoscaling.Policy]

    def __init__(self, name: str, args: DynamoTablesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("database:DynamoTables"), name, None, with_former_token("database:DynamoTables", opts))
        self.tables, self.scaling_targets, self.scaling_policies = {}, [], []
        for spec in args.tables:
            provisioned = capacity_of(spec, args.provisioned)
            table = self._table(spec, provisioned, args)
            self.tables[spec.key] = table
            if provisioned:
                self._autoscale(spec.key, pulumi.Output.concat("table/", table.name), "table", provisioned, table)
                for index in spec.indexes:
                    resource_id = pulumi.Output.concat("table/", table.name, "/index/", index.name)
                    self._autoscale(f"{spec.key}-{index.name}", resource_id, "index", provisioned, table)
        self.refs = {
            spec.key: TableRef(
                spec=spec,
                name=self.tables[spec.key].name,
                arn=self.tables[spec.key].arn,
                index_arns={i.name: pulumi.Output.concat(self.tables[spec.key].arn, "/index/", i.name) for i in spec.indexes},
                stream_arn=self.tables[spec.key].stream_arn if spec.stream else None,
            )
            for spec in args.tables
        }
        self.register_outputs({f"{key}TableName": table.name for key, table in self.tables.items()})

    def _table(self, spec: Table, provisioned: ProvisionedCapacity | None, args: DynamoTablesArgs) -> aws.dynamodb.Table:
        units = provisioned.min_units if provisioned else None  # autoscaling takes over from the minimum
        indexes = [
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index.name,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=attribute, key_type=key_type)
                    for attribute, key_type in index.key_schema
                ],
                projection_type=index.projection,
                read_capacity=units,
                write_capacity=units,
            )
            for index in spec.indexes
        ]
        return aws.dynamodb.Table(
            spec.key,
            billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            hash_key=spec.hash_key,
            range_key=spec.range_key,
            attributes=[aws.dynamodb.TableAttributeArgs(name=a, type=spec.attribute_type) for a in spec.key_attributes],
            global_secondary_indexes=indexes or None,
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True) if spec.ttl_attribute else None,
            stream_enabled=True if spec.stream else None,
            stream_view_type=spec.stream,
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=args.deletion_protection,
            server_side_encryption={"enabled": True},  # KMS (AWS-managed key) rather than the default owned key
            read_capacity=units,
            write_capacity=units,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=CAPACITY_IGNORE_CHANGES if provisioned else None, protect=args.protect),
        )

    def _autoscale(
        self,
        name: str,
        resource_id: pulumi.Input[str],
        scalable: str,  # "table" or "index": part of the scalable dimension
        capacity: ProvisionedCapacity,
        table: aws.dynamodb.Table,
    ) -> None:
        for direction, (unit, metric) in SCALING.items():
            target = aws.appautoscaling.Target(
                f"{name}-{direction}",
                service_namespace="dynamodb",
                resource_id=resource_id,
                scalable_dimension=f"dynamodb:{scalable}:{unit}",
                min_capacity=capacity.min_units,
                max_capacity=capacity.max_units,
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
                    "target_value": capacity.target_utilization,
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.scaling_targets.append(target)
            self.scaling_policies.append(policy)
