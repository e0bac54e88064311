"""The tiers are reusable without the todo app: they import none of it, document every field, check what a
function's kind means, monitor only what a program hands them, and come with their own Pulumi mocks."""

from __future__ import annotations

import ast
import dataclasses
import json
import pydoc
import re
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

import tierspec
from components.config import ROOT

from .mocks import evaluate

TIER_MODULES = (
    "components",
    "components.api",
    "components.compute",
    "components.network",
    "components.observability",
    "components.postgres",
    "components.queue",
    "components.tables",
    "components.web",
    "components.site_rules",
    "components.cors",
    "components.packaging",
    "components.deployment",
    "components.tokens",
    "components.testing",
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_importing_the_tiers_loads_no_module_of_the_todo_app():
    code = (
        "import sys\n"
        f"import {', '.join(TIER_MODULES)}\n"
        "for name in components.__all__: getattr(components, name)\n"
        "print(sorted(m for m in sys.modules if m == 'todo_app' or m.startswith('todo_app.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_tier_module_and_no_example_imports_the_todo_app():
    paths = [ROOT / (m.replace(".", "/") + ("/__init__.py" if m == "components" else ".py")) for m in TIER_MODULES]
    paths += sorted((ROOT / "examples").rglob("*.py"))
    offenders = {str(p.relative_to(ROOT)): sorted(i for i in _imports(p) if i.split(".")[0] == "todo_app") for p in paths}
    assert {p: i for p, i in offenders.items() if i} == {}
    assert len(paths) > len(TIER_MODULES)  # the example was found


def test_tierspec_imports_only_the_standard_library():
    modules = _imports(ROOT / "functions" / "tierspec" / "__init__.py")
    assert {m.split(".")[0] for m in modules} <= set(sys.stdlib_module_names) | {"__future__"}


# --------------------------------------------------------------------------- help()


def _documented_types() -> list[type]:
    import components

    types = [getattr(tierspec, name) for name in tierspec.__all__]
    types += [getattr(components, name) for name in components.__all__]
    from components.compute import GradualDeploymentArgs
    from components.deployment import AliasDeploymentArgs

    types += [GradualDeploymentArgs, AliasDeploymentArgs]
    return [t for t in dict.fromkeys(types) if dataclasses.is_dataclass(t)]


@pytest.mark.parametrize("typ", _documented_types(), ids=lambda t: t.__name__)
def test_help_describes_every_field(typ):
    shown = pydoc.render_doc(typ, renderer=pydoc.plaintext)
    undocumented = [f.name for f in dataclasses.fields(typ) if not re.search(rf"^\W*{f.name}: \S", shown, re.MULTILINE)]
    assert undocumented == [], f"help({typ.__name__}) does not say what these mean"


def test_the_documented_types_are_the_spec_and_args_types():
    names = {t.__name__ for t in _documented_types()}
    assert {"Table", "Index", "TableAccess", "FunctionSpec", "Route", "QueueSpec"} <= names
    assert {"ApiTierArgs", "LambdaFunctionArgs", "ObservabilityArgs", "QueueTierArgs", "DynamoTablesArgs", "WebTierArgs"} <= names


# --------------------------------------------------------------------------- a small program of one's own

NOTES = tierspec.Table(key="notes", env="NOTES_TABLE", hash_key="noteId")


def _spec(kind: str, name: str = "notes") -> tierspec.FunctionSpec:
    return tierspec.FunctionSpec(
        name=name, handler="notes.handler", kind=kind, description="notes", timeout=5, tables=(tierspec.TableAccess("notes", ("GetItem",)),)
    )  # type: ignore[arg-type]


def _function(kind: str, name: str = "notes", **settings):
    from components import (
        DynamoTables,
        DynamoTablesArgs,
        FunctionResources,
        FunctionSettings,
        LambdaFunction,
        LambdaFunctionArgs,
        SharedCode,
    )

    tables = DynamoTables(f"{name}-tables", DynamoTablesArgs(tables=[NOTES]))
    base = {"runtime": "python3.12", "architecture": "arm64", "memory_mb": 128, "reserved_concurrency": -1, "log_retention_days": 1}
    return LambdaFunction(
        name,
        LambdaFunctionArgs(
            spec=_spec(kind, name),
            physical_name=name,
            code=SharedCode(archive=pulumi.AssetArchive({"notes.py": pulumi.StringAsset("def handler(e, c): pass")})),
            settings=FunctionSettings(**{**base, "environment": {}, **settings}),
            resources=FunctionResources(tables=tables.refs),
        ),
    )


def test_a_function_kind_means_something_to_the_tiers():
    from components import ApiTier, ApiTierArgs, Throttling

    with pytest.raises(ValueError, match="kind 'worker': cold_start 'snapstart' is for 'api' and 'authorizer'"):
        _function("worker", cold_start="snapstart")
    with pytest.raises(ValueError, match="kind 'migration': it is invoked on deploy"):
        _function("migration", gradual_deployment=True)

    def program() -> None:
        worker = _function("worker")
        ApiTier(
            "api",
            ApiTierArgs(
                routes=[tierspec.Route("GET", "/notes/{noteId}", "notes", auth=False)],
                functions={"notes": worker},
                authorizer=None,
                physical_name="notes",
                throttling=Throttling(1, 1),
                log_retention_days=1,
            ),
        )

    with pytest.raises(Exception, match="served by functions of kind 'api' only; got notes \\(worker\\)"):
        evaluate("staging", program=program)


def test_observability_watches_only_what_it_is_handed():
    from components import Observability, ObservabilityArgs

    created = {}

    def program() -> None:
        fn = _function("api")
        observability = Observability(
            "observability", ObservabilityArgs(name_prefix="notes", alarm_email="ops@example.com", region="us-east-1")
        )
        created["function"] = observability.monitor_function(fn)
        created["all"] = observability.alarms
        observability.add_dashboard()

    ev = evaluate("staging", program=program)
    alarms = ev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert sorted(a.inputs["name"] for a in alarms) == ["notes-notes-duration", "notes-notes-errors", "notes-notes-throttles"]
    assert created["function"].created == list(created["all"].values())
    assert created["function"].rollback == [created["all"]["notes-errors"], created["all"]["notes-throttles"]]
    (dashboard,) = ev.of_type("aws:cloudwatch/dashboard:Dashboard")
    titles = [w["properties"]["title"] for w in json.loads(dashboard.inputs["dashboardBody"])["widgets"]]
    assert titles == ["Function invocations", "Function errors and throttles", "Function duration (max)"]  # no queue, API or database


def test_a_missing_mock_output_names_the_resource_and_the_output():
    import pulumi_aws as aws

    from components.testing import AwsMocks

    class Forgetful(AwsMocks):
        def resource_outputs(self, args):
            rid, outputs = super().resource_outputs(args)
            if args.typ == "aws:sqs/queue:Queue":
                outputs.pop("arn")
            return rid, outputs

    def program() -> None:
        queue = aws.sqs.Queue("jobs")
        aws.sqs.Queue("later", redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": queue.arn, "maxReceiveCount": 3}))

    with pytest.raises(
        Exception, match=r"aws:sqs/queue:Queue 'later' uses the output aws:sqs/queue:Queue 'jobs'\.arn, which the mocks do not fill"
    ):
        evaluate("staging", program=program, mocks=Forgetful)


def test_the_distribution_holds_the_tiers_and_no_common_top_level_names():
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    top_level = {name.split(".")[0] for name in setuptools["packages"]}
    assert top_level == {"components", "tierspec", "todo_app"}
    assert setuptools["package-dir"] == {"tierspec": "functions/tierspec", "todo_app": "functions/todo_app"}
