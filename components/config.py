"""The stack configuration: read once, validated once, handed to the components as plain typed values.

Defaults live in `Pulumi.yaml`'s `config:` schema (the Pulumi CLI applies them); this model has none,
so a key missing from both files is an error rather than a silent second default. `from_files` applies
the same defaults itself, for the tests, the local runtime and the benchmarks, which run without the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from tierspec import FunctionSpec
from tierspec.email_address import EMAIL_PATTERN

if TYPE_CHECKING:
    from todo_app.catalog import LoginThrottle

PROJECT = "todo-platform"
ROOT = Path(__file__).resolve().parent.parent

MIGRATION_MEMORY_MB = 256  # applying a handful of SQL files needs little memory

# How a new function version reaches the `live` alias: "none" lets Pulumi point the alias at it at once;
# the others are CodeDeploy's predefined Lambda configs (traffic shifted by CodeDeploy, rolled back on alarm).
DeploymentConfig = Literal[
    "none",
    "CodeDeployDefault.LambdaAllAtOnce",
    "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
]
ColdStartMitigation = Literal["none", "snapstart", "provisioned"]
# The function kinds that serve requests synchronously: cold-start mitigation applies to them. The
# authorizer runs before every protected request, so its cold start adds to theirs.
COLD_START_KINDS = ("api", "authorizer")
# The function kinds that serve traffic: a new version reaches them through CodeDeploy when the stack
# asks for it. The migration function is invoked by the deploy itself, so its alias simply follows.
TRAFFIC_KINDS = ("api", "authorizer", "worker")
SNAPSTART_MIN_PYTHON = (3, 12)

# PostgreSQL connections (see StackConfig.db_*): a resume takes ~15 s after a pause of under a day (~30 s
# after a longer one); the API's integration limit is 30 s, so the connect timeout stays well under it.
DB_RESUME_CONNECT_TIMEOUT = 20
DB_CONNECT_TIMEOUT = 5
DB_IDLE_TIMEOUT = 60
# Where the database pauses, a SQL function's Lambda timeout covers a resume (the connect timeout above, then
# the query) and stays under the HTTP API's 30 s integration limit, so the API answers with the function's
# own response, never its own 503/504.
API_INTEGRATION_LIMIT_SECONDS = 30
SQL_TIMEOUT_WHERE_PAUSED = 28

# The connection budget: max_connections of Aurora PostgreSQL (Serverless v2) at a maximum capacity, AWS's
# documented defaults ("Maximum connections for Aurora Serverless v2", by max ACU); the largest documented
# point at or under the configured maximum applies. With a minimum of 0 or 0.5 ACU AWS caps it at 2000.
AURORA_MAX_CONNECTIONS = ((1.0, 189), (4.0, 823), (8.0, 1669), (16.0, 3360), (32.0, 5000))
AURORA_LOW_MIN_CAPACITY_CAP = 2000
# Connections kept outside the SQL functions' budget: the migrator's (through the Data API) and an operator's.
CONNECTION_RESERVE = 10

# The values CloudWatch Logs accepts for retentionInDays.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


class ConfigError(ValueError):
    """A stack config value is missing or invalid; the message names the key and what is allowed."""


class StackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, alias_generator=to_camel)

    dynamodb_billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"]
    dynamodb_min_capacity: int = Field(ge=1, le=40000)
    dynamodb_max_capacity: int = Field(ge=1, le=40000)
    dynamodb_target_utilization: int = Field(ge=20, le=90)
    architecture: Literal["arm64", "x86_64"]
    python_runtime: Literal["python3.12", "python3.13"]
    api_memory_mb: int = Field(ge=128, le=10240)
    authorizer_memory_mb: int = Field(ge=128, le=10240)
    api_reserved_concurrency: int = Field(ge=-1, le=10000)
    worker_memory_mb: int = Field(ge=128, le=10240)
    worker_batch_size: int = Field(ge=1, le=10000)
    worker_batch_window_seconds: int = Field(ge=0, le=300)
    worker_max_concurrency: int = Field(ge=2, le=1000)
    db_min_capacity: float = Field(ge=0, le=256, multiple_of=0.5)
    db_max_capacity: float = Field(ge=1, le=256, multiple_of=0.5)
    db_seconds_until_auto_pause: int = Field(ge=300, le=86400)
    db_reader_instances: int = Field(ge=0, le=15)
    db_deletion_protection: bool
    db_backup_retention_days: int = Field(ge=1, le=35)
    sql_function_concurrency: int = Field(ge=1, le=10000)
    dashboard: bool
    snapstart_functions: tuple[str, ...]
    log_retention_days: int
    api_throttle_rate_limit: int = Field(ge=1)
    api_throttle_burst_limit: int = Field(ge=1)
    cors_origins: tuple[str, ...]
    alarm_email: str = Field(pattern=f"^$|{EMAIL_PATTERN}")
    # the SES sender identity (an address, verified outside the program) of password-reset mail
    mail_from: str = Field(pattern=EMAIL_PATTERN)
    session_ttl_hours: int = Field(ge=1, le=720)
    deployment_config: DeploymentConfig
    cold_start_mitigation: ColdStartMitigation
    provisioned_concurrency: int = Field(ge=0, le=10000)
    dynamodb_deletion_protection: bool
    protect_stateful_resources: bool
    xray_sampling_rate: float = Field(ge=0, le=1)
    xray_sampling_reservoir: int = Field(ge=0, le=1000)
    authorizer_tracing: Literal["Active", "PassThrough"]
    lambda_application_log_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    lambda_system_log_level: Literal["DEBUG", "INFO", "WARN"]
    login_max_failures: int = Field(ge=1, le=100)
    login_window_minutes: int = Field(ge=1, le=1440)
    login_ip_max_failures: int = Field(ge=1, le=10000)

    @model_validator(mode="after")
    def _consistent(self) -> StackConfig:
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(f"logRetentionDays: {self.log_retention_days} is not one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        if self.dynamodb_max_capacity < self.dynamodb_min_capacity:
            raise ValueError("dynamodbMaxCapacity: must be at least dynamodbMinCapacity")
        if self.db_max_capacity < self.db_min_capacity:
            raise ValueError(f"dbMaxCapacity: {self.db_max_capacity:g} ACU is less than dbMinCapacity {self.db_min_capacity:g} ACU")
        if self.worker_batch_size > 10 and self.worker_batch_window_seconds < 1:
            raise ValueError("workerBatchWindowSeconds: must be at least 1 when workerBatchSize is over 10")
        for problem in cold_start_problems(self.cold_start_mitigation, self.provisioned_concurrency, self.python_runtime):
            raise ValueError(problem)
        for problem in snapstart_problems(self.cold_start_mitigation, self.snapstart_functions):
            raise ValueError(problem)
        if 0 <= self.api_reserved_concurrency < self.provisioned_concurrency:
            # Lambda refuses provisioned concurrency above the function's reserved concurrency
            raise ValueError(
                f"provisionedConcurrency: {self.provisioned_concurrency} is more than apiReservedConcurrency {self.api_reserved_concurrency}"
            )
        if self.cold_start_mitigation == "provisioned" and self.sql_function_concurrency < self.provisioned_concurrency:
            raise ValueError(
                f"provisionedConcurrency: {self.provisioned_concurrency} is more than sqlFunctionConcurrency {self.sql_function_concurrency}"
                " (the SQL functions' reserved concurrency)"
            )
        return self

    # -- derived values -----------------------------------------------------------------------
    @property
    def provisioned(self) -> bool:
        return self.dynamodb_billing_mode == "PROVISIONED"

    @property
    def session_ttl_seconds(self) -> int:
        return self.session_ttl_hours * 3600

    @property
    def gradual_deployment(self) -> bool:
        """CodeDeploy shifts traffic to each new version of the traffic-serving functions."""
        return self.deployment_config != "none"

    @property
    def login_throttle(self) -> LoginThrottle:
        from todo_app.catalog import LoginThrottle  # the application's, imported where its settings are made

        return LoginThrottle(
            max_failures=self.login_max_failures, window_seconds=self.login_window_minutes * 60, ip_max_failures=self.login_ip_max_failures
        )

    # -- the database's derived settings (the stack and the local runtime both read these) -------
    @property
    def db_pauses(self) -> bool:
        """Aurora Serverless v2 at a minimum of 0 ACU pauses after `db_seconds_until_auto_pause` without connections."""
        return self.db_min_capacity == 0

    @property
    def db_connect_timeout_seconds(self) -> int:
        """Long enough for a paused database to resume (~15 s after a short pause) where it can pause; short
        elsewhere, so that a dead database answers 503 quickly."""
        return DB_RESUME_CONNECT_TIMEOUT if self.db_pauses else DB_CONNECT_TIMEOUT

    @property
    def db_idle_timeout_seconds(self) -> int:
        """Where the database pauses, connections idle this long are closed (it pauses only without any); 0: kept."""
        return DB_IDLE_TIMEOUT if self.db_pauses else 0

    @property
    def db_health(self) -> str:
        """`last-known` where the database pauses (a health check's connection would wake it), else `connect`."""
        return "last-known" if self.db_pauses else "connect"

    def sql_function_timeout(self, catalog_timeout: int) -> int:
        """The Lambda timeout of a function that connects to PostgreSQL: where the database pauses, long enough
        for a resume and under the API's integration limit; elsewhere its catalog timeout."""
        return SQL_TIMEOUT_WHERE_PAUSED if self.db_pauses else catalog_timeout

    def max_connections(self) -> int:
        """Aurora PostgreSQL's default max_connections at `db_max_capacity` (see AURORA_MAX_CONNECTIONS)."""
        return aurora_max_connections(self.db_min_capacity, self.db_max_capacity)

    def connection_budget(self, sql_functions: int) -> int:
        """The most connections the stack can open: each SQL function at its reserved concurrency (one
        connection per execution environment), plus the reserve for the migrator and operators."""
        return sql_functions * self.sql_function_concurrency + CONNECTION_RESERVE

    def check_connection_budget(self, sql_functions: int) -> None:
        """Raise ConfigError when the SQL functions could open more connections than the database accepts."""
        budget, limit = self.connection_budget(sql_functions), self.max_connections()
        if budget > limit:
            raise ConfigError(
                f"invalid stack config:\n  {PROJECT}:sqlFunctionConcurrency: {sql_functions} SQL functions x "
                f"{self.sql_function_concurrency} + {CONNECTION_RESERVE} reserved = {budget} connections, more than "
                f"max_connections {limit} of Aurora PostgreSQL at dbMaxCapacity {self.db_max_capacity:g} ACU; "
                f"lower sqlFunctionConcurrency or raise dbMaxCapacity"
            )

    def reserved_concurrency(self, spec: FunctionSpec) -> int:
        """A function's reserved concurrency (-1: unreserved). SQL functions: the connection budget's share (both
        stacks); other API functions: the stack's setting; the rest: unreserved. The local runtime caps its
        environments per function by it too."""
        if spec.database:
            return self.sql_function_concurrency
        return self.api_reserved_concurrency if spec.kind == "api" else -1

    def function_memory_mb(self, kind: str) -> int:
        """Memory of a function of a catalog kind."""
        if kind == "api":
            return self.api_memory_mb
        if kind == "authorizer":
            return self.authorizer_memory_mb
        if kind == "worker":
            return self.worker_memory_mb
        return MIGRATION_MEMORY_MB

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def parse(cls, values: dict[str, Any]) -> StackConfig:
        """Validate raw values keyed by their config names; raise ConfigError naming each bad key."""
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            raise ConfigError(_describe(e)) from None

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read every key from the running stack's config (the CLI has applied Pulumi.yaml's defaults)."""
        import pulumi

        config = pulumi.Config(PROJECT)
        values: dict[str, Any] = {}
        for key, field in zip(cls.config_keys(), cls.model_fields.values(), strict=True):
            # The CLI hands every value over as a string: plain for strings, JSON for the rest.
            raw = config.get(key)
            if raw is None:
                continue
            if _is_text(field.annotation):
                values[key] = raw
            else:
                try:
                    values[key] = json.loads(raw)
                except ValueError:
                    values[key] = raw  # validation then names the key and what it expects
        return cls.parse(values)

    @classmethod
    def from_files(cls, stack: str, root: Path = ROOT) -> StackConfig:
        """Pulumi.yaml's defaults overlaid with Pulumi.<stack>.yaml, as the Pulumi CLI would combine them."""
        return cls.parse(stack_values(stack, root))

    @classmethod
    def config_keys(cls) -> list[str]:
        """The config keys, in declaration order: each field's camelCase alias."""
        return [field.alias or to_camel(name) for name, field in cls.model_fields.items()]


def python_version(runtime: str) -> tuple[int, int]:
    """(3, 12) for "python3.12"."""
    major, _, minor = runtime.removeprefix("python").partition(".")
    return int(major), int(minor)


def cold_start_problems(mitigation: str, provisioned_concurrency: int, runtime: str) -> list[str]:
    """What is wrong with a cold-start setting, each naming its keys; empty when it is consistent."""
    problems = []
    if mitigation == "snapstart" and python_version(runtime) < SNAPSTART_MIN_PYTHON:
        problems.append(f"coldStartMitigation: snapstart needs pythonRuntime python3.12 or newer; got {runtime!r}")
    if mitigation == "provisioned" and provisioned_concurrency < 1:
        problems.append("provisionedConcurrency: must be at least 1 when coldStartMitigation is 'provisioned'")
    if mitigation != "provisioned" and provisioned_concurrency > 0:
        # SnapStart cannot be combined with provisioned concurrency (Lambda refuses it), and with "none" it would be ignored
        problems.append(
            f"provisionedConcurrency: {provisioned_concurrency} needs coldStartMitigation 'provisioned'; "
            f"got {mitigation!r} (provisioned concurrency and SnapStart cannot be combined)"
        )
    return problems


def aurora_max_connections(min_capacity: float, max_capacity: float) -> int:
    """max_connections at `max_capacity`: the largest documented point at or under it; capped at 2000 when the
    minimum is 0 or 0.5 ACU (AWS sizes the default for the minimum's memory then)."""
    found = max(connections for acu, connections in AURORA_MAX_CONNECTIONS if acu <= max_capacity)
    return min(found, AURORA_LOW_MIN_CAPACITY_CAP) if min_capacity <= 0.5 else found


def snapstart_problems(mitigation: str, functions: tuple[str, ...]) -> list[str]:
    """What is wrong with `snapstartFunctions`: names outside the catalog's request-serving functions, a
    list without `coldStartMitigation: snapstart`, or SnapStart asked for with no function."""

    from todo_app.catalog import FUNCTIONS  # the todo app's functions; the tiers never import this module's callers' app

    eligible = sorted(name for name, spec in FUNCTIONS.items() if spec.kind in COLD_START_KINDS)
    problems = []
    unknown = [name for name in functions if name not in eligible]
    if unknown:
        problems.append(f"snapstartFunctions: {', '.join(unknown)} not among the API functions and the authorizer ({', '.join(eligible)})")
    if len(set(functions)) != len(functions):
        problems.append("snapstartFunctions: a function is listed twice")
    if functions and mitigation != "snapstart":
        problems.append(f"snapstartFunctions: needs coldStartMitigation 'snapstart'; got {mitigation!r}")
    if mitigation == "snapstart" and not functions:
        problems.append("snapstartFunctions: coldStartMitigation 'snapstart' needs at least one function")
    return problems


def _is_text(annotation: Any) -> bool:
    """A str field or a Literal of strings: its config value is taken verbatim, not parsed as JSON."""
    if annotation is str:
        return True
    return get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation))


def stack_values(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The raw project config of a stack: schema defaults, then the stack file's values."""
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    values = {k: v["default"] for k, v in project.get("config", {}).items() if ":" not in k and "default" in v}
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise ConfigError(
            f"no stack file {stack_file.name}; stacks: {', '.join(sorted(p.name.split('.')[1] for p in root.glob('Pulumi.*.yaml')))}"
        )
    for key, value in (yaml.safe_load(stack_file.read_text()).get("config") or {}).items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            values[name] = value
    return values


def stack_region(stack: str, root: Path = ROOT) -> str:
    return (yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()).get("config") or {}).get("aws:region", "us-east-1")


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "config"
        message = item["msg"]
        if item["type"] == "literal_error":
            message = f"got {item['input']!r}; allowed: {item['ctx']['expected']}"
        elif item["type"] == "missing":
            message = "missing: set it in Pulumi.<stack>.yaml or give it a default in Pulumi.yaml"
        elif item["type"] == "extra_forbidden":
            message = f"unknown key; known keys: {', '.join(StackConfig.config_keys())}"
        elif "input" in item and item["type"] != "value_error":
            message = f"got {item['input']!r}: {message}"
        if item["type"] == "value_error":
            lines.append(f"{PROJECT}:{message.removeprefix('Value error, ')}")
        else:
            lines.append(f"{PROJECT}:{key}: {message}")
    return "invalid stack config:\n  " + "\n  ".join(lines)
