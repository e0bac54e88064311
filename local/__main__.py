"""`python -m local`: the whole application on this machine, until SIGINT (Ctrl-C) or SIGTERM.

Options:
  --port N                 HTTP API port on 127.0.0.1 (default 3000; 0 picks a free one)
  --host H                 address to bind (default 127.0.0.1)
  --web-port N             the web app's port, its own origin (default: the API port + 1; with --port 0 a free one)
  --data-dir DIR           keep PostgreSQL's data (users) and a DynamoDB snapshot (todos, sessions, orders,
                           idempotency records; saved on a clean stop) in DIR between runs; without it
                           everything lives in temporary storage and is gone at stop
  --visibility-timeout N   the orders queue's visibility timeout in seconds; default: the catalog's factor x
                           the worker's timeout, as on AWS (--help shows the figure). A failed message is retried
                           after it, so tests shorten it to see retries and the DLQ move within seconds
  --outputs PATH           where to write the stack outputs (default .local/outputs.json in the project);
                           removed again at stop
  --log-level LEVEL        LOG_LEVEL given to the functions (default INFO)
  --function-logs PATH     where the functions' own output goes (Powertools JSON logs, EMF metric lines; on
                           AWS: CloudWatch Logs); default .local/functions.log in the project, "-" for the
                           console. The console shows the runtime's lines: progress, one line per request
                           (METHOD PATH STATUS DURATIONms), one per worker batch, cold starts, tracebacks.
  --pause-database-after SECONDS
                           emulate Aurora Serverless v2's auto-pause: PostgreSQL really stops once no connection has
                           been open for SECONDS (a proxy in front of it, local/pause.py); off by default
  --resume-seconds SECONDS with --pause-database-after: how long a new connection to the paused database is held
                           while it starts again (Aurora: ~15 s); default 0
  --concurrency N          execution environments per function (default 4), each started like a cold start when
                           the ones already started are busy; never more than the function's reserved concurrency
                           in the staging stack (sqlFunctionConcurrency for the SQL functions)
  --snapstart              SnapStart mode: each function's before-snapshot hooks run right after its init and
                           its after-restore hooks before its first request, as on a SnapStart version
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from components.config import ConfigError, StackConfig, stack_values
from todo_app.catalog import FUNCTIONS, ORDERS_QUEUE

from .containers import DEFAULT_CONCURRENCY
from .runtime import CONFIG_STACK, DEFAULT_FUNCTION_LOGS, DEFAULT_OUTPUTS, Options, Runtime, default_visibility_timeout

MAX_VISIBILITY_TIMEOUT = 43200  # SQS's limit: 12 hours


class Shutdown(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM."""


def parse(argv: list[str] | None = None) -> Options:
    parser = _parser()
    args = parser.parse_args(argv)
    _refuse_invalid(parser, args)
    return Options(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir.resolve() if args.data_dir else None,
        visibility_timeout=args.visibility_timeout,
        outputs=args.outputs.resolve(),
        log_level=args.log_level,
        function_logs=None if args.function_logs == "-" else Path(args.function_logs).resolve(),
        snapstart=args.snapstart,
        web_port=args.web_port,
        pause_database_after=args.pause_database_after,
        resume_seconds=args.resume_seconds,
        concurrency=args.concurrency,
        config_overrides=dict(args.config),
    )


def _parser() -> argparse.ArgumentParser:
    """The options: where it listens and keeps its state, then how it runs the functions (`_add_runtime_arguments`)."""
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="Run todo-platform offline: embedded PostgreSQL, "
        "an AWS emulator, the functions behind a local HTTP API, and the SQS worker poller.",
    )
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (default 3000; 0 picks a free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--web-port", type=int, help="web app port (default: the API port + 1; 0 picks a free port)")
    parser.add_argument("--data-dir", type=Path, help="keep PostgreSQL data and a DynamoDB snapshot here between runs")
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        metavar="SECONDS",
        help=f"orders queue visibility timeout (default {default_visibility_timeout()}: "
        f"{ORDERS_QUEUE.visibility_timeout_factor} x the worker's timeout of {FUNCTIONS['worker'].timeout} s)",
    )
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="stack outputs file (default .local/outputs.json)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="the functions' LOG_LEVEL")
    _add_runtime_arguments(parser)
    return parser


def _add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    """How the functions and the database run: concurrency, SnapStart hooks, pausing, the functions' log file."""
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"execution environments per function, each started like a cold start when the others are busy (default "
        f"{DEFAULT_CONCURRENCY}; capped by the function's reserved concurrency in the staging stack)",
    )
    parser.add_argument(
        "--snapstart",
        action="store_true",
        help="run each function's SnapStart hooks as Lambda does: before-snapshot after its init, after-restore before its first request",
    )
    parser.add_argument(
        "--pause-database-after",
        type=float,
        metavar="SECONDS",
        help="pause PostgreSQL once no connection has been open for SECONDS, as Aurora Serverless v2 at 0 ACU does (off by default)",
    )
    parser.add_argument(
        "--resume-seconds",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="with --pause-database-after: hold a new connection this long while the database resumes (default 0)",
    )
    parser.add_argument(
        "--config",
        action="append",
        type=_config_value,
        default=[],
        metavar="KEY=VALUE",
        help="set a stack config key for this run over the staging stack's (repeatable; the value as JSON, else as text), "
        "e.g. --config loginIpMaxFailures=1000",
    )
    parser.add_argument(
        "--function-logs",
        default=str(DEFAULT_FUNCTION_LOGS),
        help='file for the functions\' own log and metric lines (default .local/functions.log; "-": the console)',
    )


def _config_value(text: str) -> tuple[str, Any]:
    """KEY=VALUE of --config: the value parsed as JSON where it is JSON (numbers, booleans, lists), else kept as text."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _refuse_invalid(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit through `parser.error` on an out-of-range value or a combination that does not go together."""
    if args.visibility_timeout is not None and not 0 <= args.visibility_timeout <= MAX_VISIBILITY_TIMEOUT:
        parser.error(f"--visibility-timeout must be 0..{MAX_VISIBILITY_TIMEOUT} seconds")
    try:
        StackConfig.parse({**stack_values(CONFIG_STACK), **dict(args.config)})
    except ConfigError as error:
        parser.error(f"--config: {error}")
    if args.pause_database_after is not None and args.pause_database_after <= 0:
        parser.error("--pause-database-after must be more than 0 seconds")
    if args.resume_seconds < 0 or (args.resume_seconds and args.pause_database_after is None):
        parser.error("--resume-seconds must be 0 or more, and needs --pause-database-after")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.web_port is not None and (not 0 <= args.web_port <= 65535 or (args.web_port == args.port != 0)):
        parser.error("--web-port must be 0..65535 and differ from --port")


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # once: a second signal must not interrupt the clean-up that the first one started
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    runtime = Runtime(options)
    try:
        runtime.start()
    except Shutdown as reason:
        runtime.log(f"[local] {reason} during start-up")
        return 130
    except Exception as error:  # noqa: BLE001 - the program's boundary: any start-up failure is reported in one line; start() has stopped what it started
        runtime.log(f"[local] could not start: {error}")
        return 1
    try:
        threading.Event().wait()  # until a signal raises Shutdown here
    except Shutdown as reason:
        runtime.log(f"[local] {reason}: stopping")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
