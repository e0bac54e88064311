"""`python -m client load`: a load test against any stack's API, on Locust (used as a library).

    python -m client load [--outputs PATH | --stack NAME] [--users N] [--spawn-rate R] [--duration 60s]
                          [--slo FILE] [--report DIR] [--workers K] [--allow-production]

This module is the command's front: the standard library only (it never imports locust, which monkey-patches
the standard library on import). It finds the target exactly as `python -m client demo` does, refuses a
production stack without --allow-production, reads and checks the SLO file, wakes a paused database with
one unmeasured sign-up (which also proves the API is reachable), then runs the load in a child process that
imports locust before anything else (client/load_runner.py; the simulated users are client/load_users.py),
and turns the child's figures into report.json, a summary table and an exit code:
0 every SLO met (or none given), 1 an SLO breached (each breach named on stderr and in report.json),
2 the run could not start (no outputs, a bad SLO file, an unreachable API, production refused),
130 interrupted (Ctrl-C: the users still delete their accounts, and the partial report is written).

The routes, and how often each is called, come from ONE place: `route_plan()`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import ApiError, Client, ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
REQUEST_MIX = ROOT / "bench" / "prices.json"
# Journeys besides the bench's request mix, which leaves sign-ups and log-ins out as rare: each user signs up,
# logs in and creates a first todo when it starts; then, on this share of its tasks, it logs out and in again.
SESSION_SHARE = 0.01
DEFAULT_USERS = 10
DEFAULT_SPAWN_RATE = 5.0
DEFAULT_DURATION = "60s"
THINK_SECONDS = (0.5, 1.5)  # each user's wait between two tasks, uniformly drawn
ORDER_FOLLOW_SECONDS = 30.0  # how long a user follows its order (GET /orders/{orderId}) until the worker stored it
ACCOUNT_NAME = "load test"  # the name of every account a run creates (its e-mail carries the run's tag)
SLO_KEYS = ("p50_ms", "p95_ms", "p99_ms", "error_rate", "min_rps")
ROUTE_SLO_KEYS = ("p50_ms", "p95_ms", "p99_ms", "error_rate")
EXIT_MET, EXIT_BREACHED, EXIT_CANNOT_START, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class LoadRoute:
    """One declared route as the load test uses it: `name` (the route key, `GET /todos/{todoId}`) names its
    requests; `share` is its weight in the request mix (0: called only as part of a journey)."""

    operation: str
    method: str
    path: str
    share: float

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, **parameters: str) -> str:
        """The path with its {parameters} filled in."""
        from urllib.parse import quote

        return re.sub(r"\{(\w+)\}", lambda m: quote(parameters[m.group(1)], safe=""), self.path)


def route_plan() -> dict[str, LoadRoute]:
    """THE source of routes and weights: the route declaration (todo_app.catalog.ROUTES) and the bench's request
    mix (bench/prices.json -> assumptions.request_mix, route key -> share), by operation name. A mix route that
    is not declared is an error."""
    from todo_app.catalog import ROUTES

    mix: dict[str, float] = json.loads(REQUEST_MIX.read_text())["assumptions"]["request_mix"]
    declared = {route.route_key for route in ROUTES}
    unknown = sorted(set(mix) - declared)
    if unknown:
        raise ValueError(f"{REQUEST_MIX}: request_mix names routes that are not declared: {', '.join(unknown)}")
    return {route.operation: LoadRoute(route.operation, route.method, route.path, float(mix.get(route.route_key, 0))) for route in ROUTES}


# the operations the simulated users call (client/load_users.py has one journey for each route of the mix)
JOURNEY_OPERATIONS = frozenset(
    {"create_user", "log_in", "log_out", "get_user", "create_todo", "list_todos", "get_todo", "update_todo", "get_dashboard"}
    | {"create_order", "get_order"}
)


# ---------------------------------------------------------------------------------------------- arguments
def parse_duration(text: str) -> float:
    """Seconds from `90`, `30s`, `5m`, `1h`, `1m30s`."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90, 30s, 5m, 1m30s)")
        seconds = sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"the duration must be more than 0 seconds: {text!r}")
    return seconds


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--outputs", default=".local/outputs.json", help="the stack outputs file to read the API URL from (default .local/outputs.json)"
    )
    source.add_argument("--stack", metavar="NAME", help="read the outputs of this Pulumi stack instead (needs the Pulumi CLI)")
    parser.add_argument(
        "--users",
        type=_positive_int,
        default=DEFAULT_USERS,
        help=f"simulated users at full load (default {DEFAULT_USERS}); each signs up its own account",
    )
    parser.add_argument(
        "--spawn-rate",
        type=_positive_float,
        default=DEFAULT_SPAWN_RATE,
        help=f"users started per second while ramping up (default {DEFAULT_SPAWN_RATE:g})",
    )
    parser.add_argument(
        "--duration",
        type=parse_duration,
        default=parse_duration(DEFAULT_DURATION),
        metavar="TIME",
        help=f"how long the load runs, ramp-up included: seconds, or 30s, 5m, 1m30s (default {DEFAULT_DURATION})",
    )
    parser.add_argument(
        "--slo",
        type=Path,
        metavar="FILE",
        help="service level objectives, JSON or YAML: top-level p50_ms, p95_ms, p99_ms, error_rate, min_rps for the whole run, "
        'and "routes": {"POST /orders": {"p95_ms": 300}} per route; exit 1 when one is breached',
    )
    parser.add_argument(
        "--report", type=Path, metavar="DIR", help="where report.json and report.html go (default .local/load/<UTC timestamp>/)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="K",
        help="start K `locust --worker` processes on this machine under one master to use more cores (default 0: the users run in "
        "one process); for workers on other machines see the README's Load testing section",
    )
    parser.add_argument(
        "--allow-production", action="store_true", help="allow a stack whose `stack` output is production (refused otherwise)"
    )


# ---------------------------------------------------------------------------------------------- SLOs
class SloError(ValueError):
    """The SLO file cannot be used; the message names the file and the key or route."""


def load_slo(path: Path, routes: dict[str, LoadRoute]) -> dict[str, Any]:
    """The SLO file, checked: known keys, non-negative numbers (error_rate 0..1), routes the load test calls."""
    import yaml

    try:
        text = path.read_text()
    except OSError as error:
        raise SloError(f"cannot read the SLO file {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise SloError(f"{path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {error}") from None
    if not isinstance(data, dict):
        raise SloError(f"{path}: expected a mapping of objectives, got {type(data).__name__}")
    declared = {route.name for route in routes.values()}
    exercised = {route.name for route in routes.values() if route.operation in JOURNEY_OPERATIONS}
    checked: dict[str, Any] = {"routes": {}}
    for key, value in data.items():
        if key == "routes":
            if not isinstance(value, dict):
                raise SloError(f"{path}: routes must map a route (e.g. 'GET /todos/{{todoId}}') to its objectives")
            for route, objectives in value.items():
                if route not in declared:
                    raise SloError(f"{path}: unknown route {route!r} (routes are named METHOD /template, e.g. 'GET /todos/{{todoId}}')")
                if route not in exercised:
                    raise SloError(f"{path}: route {route!r} is not called by the load test's users")
                if not isinstance(objectives, dict):
                    raise SloError(f"{path}: routes.{route}: expected a mapping of objectives")
                checked["routes"][route] = {k: _objective(path, f"routes.{route}.{k}", k, v, ROUTE_SLO_KEYS) for k, v in objectives.items()}
        else:
            checked[key] = _objective(path, key, key, value, SLO_KEYS)
    return checked


def _objective(path: Path, where: str, key: str, value: Any, allowed: tuple[str, ...]) -> float:
    if key not in allowed:
        raise SloError(f"{path}: unknown key {where!r} (allowed: {', '.join(allowed)})")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SloError(f"{path}: {where} must be a number of 0 or more, got {value!r}")
    if key == "error_rate" and value > 1:
        raise SloError(f"{path}: {where} is a fraction of requests, 0..1; got {value!r}")
    return float(value)


def breaches(report: dict[str, Any], slo: dict[str, Any]) -> list[str]:
    """Each objective the run missed, as a sentence naming it."""
    found = []

    def check(label: str, figures: dict[str, Any], objectives: dict[str, float]) -> None:
        requests = figures["requests"]
        for key, goal in objectives.items():
            if key == "error_rate":
                rate = figures["failures"] / requests if requests else 0.0
                if rate > goal:
                    found.append(f"{label}: error rate {rate:.4f} > {goal:g}")
            elif key == "min_rps":
                if figures["rps"] < goal:
                    found.append(f"{label}: {figures['rps']:.1f} requests/s < {goal:g}")
            elif not requests:
                found.append(f"{label}: {key} {goal:g} ms, but no request was made")
            elif figures[key] > goal:
                found.append(f"{label}: {key} {figures[key]:.0f} ms > {goal:g} ms")

    check("whole run", report["total"], {k: v for k, v in slo.items() if k != "routes"})
    by_route = {row["route"]: row for row in report["routes"]}
    empty = {"requests": 0, "failures": 0, "rps": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    for route, objectives in slo.get("routes", {}).items():
        check(route, by_route.get(route, empty), objectives)
    return found


# ---------------------------------------------------------------------------------------------- report
def build_report(raw: dict[str, Any], slo: dict[str, Any] | None, target: dict[str, Any]) -> dict[str, Any]:
    """report.json from the runner's figures (client/load_runner.py writes them in stats.json)."""
    duration = max(raw["duration_s"], 1e-9)
    statuses: dict[str, dict[str, int]] = raw.get("statuses", {})

    def figures(entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "requests": entry["requests"],
            "failures": entry["failures"],
            "p50_ms": float(entry["p50_ms"]),
            "p95_ms": float(entry["p95_ms"]),
            "p99_ms": float(entry["p99_ms"]),
            "rps": round(entry["requests"] / duration, 2),
        }

    routes = [
        {"route": entry["name"], **figures(entry), "statuses": statuses.get(entry["name"], {})}
        for entry in sorted(raw["entries"], key=lambda e: -e["requests"])
    ]
    throttled = sum(count for by_status in statuses.values() for status, count in by_status.items() if status == "429")
    total = figures(raw["total"])
    report: dict[str, Any] = {
        "requests": total["requests"],
        "failures": total["failures"],
        "duration_s": round(raw["duration_s"], 2),
        "users": raw["users"],
        "rps": total["rps"],
        "error_rate": round(total["failures"] / total["requests"], 6) if total["requests"] else 0.0,
        "total": total,
        "routes": routes,
        "target": target,
        "throttled": throttled,
        "errors": raw.get("errors", []),
        "accounts": raw.get("accounts", {}),
        "interrupted": raw.get("interrupted", False),
    }
    if throttled:
        report["throttling_note"] = throttling_note(target.get("stack"), throttled)
    missed = breaches(report, slo) if slo else []
    report["slo"] = {"met": not missed, "breaches": missed, "objectives": slo or {}}
    return report


def throttling(stack: str | None) -> tuple[int, int] | None:
    """The stack's HTTP API stage throttling (apiThrottleRateLimit, apiThrottleBurstLimit), from its Pulumi.<stack>.yaml;
    None for a stack without one (the local runtime does not throttle)."""
    if not stack or not (ROOT / f"Pulumi.{stack}.yaml").exists():
        return None
    from components.config import ConfigError, StackConfig

    try:
        config = StackConfig.from_files(stack)
    except (ConfigError, ValueError, OSError):
        return None
    return config.api_throttle_rate_limit, config.api_throttle_burst_limit


def throttling_note(stack: str | None, throttled: int) -> str:
    limits = throttling(stack)
    where = f"the {stack} stack's stage throttling ({limits[0]} requests/s, burst {limits[1]})" if limits else "the API's throttling"
    return (
        f"{throttled} requests were answered 429 Too Many Requests: the load went beyond {where} "
        "(Pulumi.<stack>.yaml apiThrottleRateLimit / apiThrottleBurstLimit), so these figures measure the throttle, not the functions"
    )


def summary_table(report: dict[str, Any]) -> str:
    header = f"{'route':<30} {'requests':>8} {'fails':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    lines = [header, "-" * len(header)]
    for row in [*report["routes"], {"route": "total", **report["total"]}]:
        lines.append(
            f"{row['route']:<30} {row['requests']:>8} {row['failures']:>6} {row['rps']:>7.1f} {row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f} {row['p99_ms']:>7.0f}"
        )
    lines.append(
        f"{report['users']} users for {report['duration_s']:.0f} s: {report['rps']:.1f} requests/s, error rate {report['error_rate']:.2%}"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- the command
class CannotStart(Exception):
    """Exit 2: the message says why."""


def find_target(args: argparse.Namespace) -> Client:
    """As `python -m client demo` finds it; production refused without --allow-production."""
    try:
        client = Client.from_stack(args.stack) if args.stack else Client.from_outputs(args.outputs)
    except ConfigurationError as error:
        raise CannotStart(str(error)) from None
    stack = client.outputs.get("stack")
    if stack == "production" and not args.allow_production:
        raise CannotStart(
            f"{client.api_url} is the production stack's API: refusing to load-test it without --allow-production "
            "(a load test creates accounts and may be throttled at 1000 requests/s)"
        )
    return client


def wake(client: Client, tag: str) -> float:
    """One unmeasured sign-up (a SQL route: it wakes a paused database, and proves the API answers), then that
    account is deleted. Seconds it took."""
    began = time.monotonic()
    email, password = f"load-{tag}-wake@example.com", f"load-{tag}-password"
    try:
        client.sign_up(ACCOUNT_NAME, email, password)
        client.log_in(email, password)
        client.delete_user()
    except ApiError as error:
        if error.status == 0:
            raise CannotStart(f"the API does not answer: {error.message}") from None
        raise CannotStart(f"the API refused the wake-up sign-up: {error}") from None
    finally:
        client.token = None
    return time.monotonic() - began


def runner_command(plan_path: Path) -> list[str]:
    """The child that runs the load: `import locust` first, so its monkey-patching precedes every other import."""
    boot = "import locust, sys; from client.load_runner import main; sys.exit(main(sys.argv[1]))"
    return [sys.executable, "-c", boot, str(plan_path)]


def run(args: argparse.Namespace, out: Any = print) -> int:
    if args.workers < 0:
        return _fail("--workers must be 0 or more")
    if importlib.util.find_spec("locust") is None:
        return _fail("Locust is not installed: pip install -r requirements-dev.txt (or the project's dev extra)")
    try:
        routes = route_plan()
        slo = load_slo(args.slo, routes) if args.slo else None
        client = find_target(args)
    except (SloError, CannotStart, ValueError) as error:
        return _fail(str(error))
    tag = uuid.uuid4().hex[:10]
    stack = client.outputs.get("stack")
    target = {"api_url": client.api_url, "stack": stack, "source": f"stack {args.stack}" if args.stack else str(args.outputs)}
    _announce(args, client, tag, out)
    try:
        out(f"database awake and API answering ({wake(client, tag):.1f} s, not measured)")
    except CannotStart as error:
        return _fail(str(error))
    report_dir = args.report or Path(".local") / "load" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _fail(f"cannot create the report directory {report_dir}: {error.strerror or error}")
    returncode = _run_runner(_write_plan(args, client.api_url, routes, report_dir, tag))
    stats_path = report_dir / "stats.json"
    if not stats_path.exists():
        return _fail(f"the load runner exited with {returncode} before measuring anything (see its messages above)")
    report = build_report(json.loads(stats_path.read_text()), slo, target)
    (report_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return _conclude(report, report_dir, returncode, has_slo=slo is not None, out=out)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_CANNOT_START


def _announce(args: argparse.Namespace, client: Client, tag: str, out: Any) -> None:
    """What is about to be measured, and the stack's API throttling where it is known."""
    stack = client.outputs.get("stack")
    out(
        f"load test of {client.api_url} (stack {stack or 'unknown'}): {args.users} users, {args.spawn_rate:g}/s, {args.duration:g} s, run {tag}"
    )
    limits = throttling(stack)
    if limits:
        rate, burst = limits
        out(f"note: the {stack} stack throttles its API at {rate} requests/s (burst {burst}); beyond that it answers 429")


def _write_plan(args: argparse.Namespace, host: str, routes: dict[str, LoadRoute], report_dir: Path, tag: str) -> Path:
    """Write the runner's plan.json into the report directory (and remove an earlier run's stats.json); its path."""
    plan = {
        "host": host,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration_s": args.duration,
        "workers": args.workers,
        "report_dir": str(report_dir.resolve()),
        "tag": tag,
        "routes": {name: asdict(route) for name, route in routes.items()},
    }
    plan_path = report_dir / "plan.json"
    plan_path.write_text(json.dumps(plan, indent=1))
    stats_path = report_dir / "stats.json"
    stats_path.unlink(missing_ok=True)  # a reused --report directory: never read an earlier run's figures
    return plan_path


def _run_runner(plan_path: Path) -> int:
    """Run the load runner on the plan; its exit code."""
    # Ctrl-C reaches the child too (same process group): it stops its users, who delete their accounts, and
    # writes what it measured; this process waits for it
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.run(runner_command(plan_path), check=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    return child.returncode


def _conclude(report: dict[str, Any], report_dir: Path, returncode: int, *, has_slo: bool, out: Any) -> int:
    """Print the summary and the verdict; the exit code: interrupted, the runner failed, an SLO breached, or met."""
    out(summary_table(report))
    accounts = report["accounts"]
    out(f"accounts: {accounts.get('created', 0)} created, {accounts.get('deleted', 0)} deleted")
    if report.get("throttling_note"):
        print(f"warning: {report['throttling_note']}", file=sys.stderr)
    out(f"report: {report_dir / 'report.json'}, {report_dir / 'report.html'}")
    if report["interrupted"] or returncode == EXIT_INTERRUPTED:
        print("interrupted: the figures cover the run until Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
    if returncode != 0:
        return _fail(f"the load runner failed (exit {returncode})")
    for breach in report["slo"]["breaches"]:
        print(f"SLO breached: {breach}", file=sys.stderr)
    if report["slo"]["breaches"]:
        return EXIT_BREACHED
    out("SLOs met" if has_slo else "no SLO file: nothing to check")
    return EXIT_MET
