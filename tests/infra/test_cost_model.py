"""The cost model leaves nothing out: every resource type either stack creates is in bench/prices.json,
priced or listed as free or usage-only with its reason, and the bill of materials reads what it prices."""

from __future__ import annotations

import copy

from bench.cost import load_prices, unknown_resource_types
from bench.infra import bill_of_materials

COSTS = {"priced", "usage", "free"}


def test_every_resource_type_of_the_stack_is_priced_or_listed(stack):
    types = {r.type for r in stack.resources}
    assert unknown_resource_types(types) == [], "add each new type to bench/prices.json resource_types, with why"


def test_a_type_missing_from_the_price_table_is_reported(production):
    prices = copy.deepcopy(load_prices())
    del prices["resource_types"]["aws:rds/clusterInstance:ClusterInstance"]
    assert unknown_resource_types({r.type for r in production.resources}, prices) == ["aws:rds/clusterInstance:ClusterInstance"]


def test_each_listed_type_says_how_it_is_billed_and_why():
    prices = load_prices()
    for typ, entry in prices["resource_types"].items():
        assert entry["cost"] in COSTS, typ
        assert entry["why"].strip(), typ
        assert set(entry.get("prices", [])) <= set(prices["prices"]), typ
        if entry["cost"] == "priced":
            assert entry.get("prices"), f"{typ}: priced, but names no price"


def test_the_bill_of_materials_has_the_cluster_and_no_secret_reader_but_the_migrator(stack):
    bom = bill_of_materials(stack)
    (cluster,) = bom["aurora"]
    assert cluster["instance_classes"] == ["db.serverless"]
    assert cluster["data_api"] and cluster["managed_secret"]
    assert bom["secrets"] == 1  # the RDS-managed master secret
    assert bom["secret_readers"] == ["migrate"]
    assert not bom["rds"] and not bom["proxies"] and not bom["interface_endpoints"]
    if stack.stack == "production":
        assert cluster["min_acu"] >= 0.5 and cluster["readers"] >= 1 and cluster["backup_days"] >= 7
        assert bom["autoscaling_policies"] > 0  # each creates 4 alarms of its own, which the model prices
        # the status table stays on demand: no minimum, no autoscaling target, priced by its requests
        assert bom["on_demand_tables"] == ["dependencyStatus", "resetOutbox", "resetTokens"]
        assert not any(t["resource"].startswith("table/dependencyStatus") for t in bom["autoscaling_targets"])
        # the model prices 2 cached versions (live and previous) only for functions the deployment trigger prunes
        assert bom["snap_start_functions"] and set(bom["snap_start_functions"]) <= set(bom["pruned_functions"])
    else:
        assert cluster["min_acu"] == 0 and cluster["seconds_until_auto_pause"]
        assert bom["kms_keys"] == 0 and bom["alarms"] == 0


def test_the_readme_cost_table_renders_from_the_cost_section():
    import json

    from bench.readme import RESULTS, cost_table

    results = json.loads(RESULTS.read_text())
    if "cost" not in results["sections"] or results["sections"]["cost"]["na"]:
        return
    table = cost_table(results)
    for scale in ("0", "1M", "10M", "100M"):
        assert f"| **{scale} requests a month** |" in table
    assert "before issue 17" in table and "provisioned DynamoDB beats on-demand" in table
