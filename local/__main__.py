"""`python -m local`: the whole application on this machine, until SIGINT (Ctrl-C) or SIGTERM.

Options:
  --port N                 HTTP API port on 127.0.0.1 (default 3000; 0 picks a free one)
  --host H                 address to bind (default 127.0.0.1)
  --web-port N             the web app's port, its own origin (default: the API port + 1; with --port 0 a free one)
  --data-dir DIR           keep PostgreSQL's data (users) and a DynamoDB snapshot (todos, sessions, orders,
                           idempotency records; saved on a clean stop) in DIR between runs; without it
                           everything lives in temporary storage and is gone at stop
  --visibility-timeout N   the orders queue's visibility timeout in seconds; default: the catalog's factor
                           (6) x the worker's timeout (30 s) = 180 s. A failed message is retried after it,
                           so tests shorten it to see retries and the DLQ move within seconds
  --outputs PATH           where to write the stack outputs (default .local/outputs.json in the project);
                           removed again at stop
  --log-level LEVEL        LOG_LEVEL given to the functions (default INFO)
  --function-logs PATH     where the functions' own output goes (Powertools JSON logs, EMF metric lines; on
                           AWS: CloudWatch Logs); default .local/functions.log in the project, "-" for the
                           console. The console shows the runtime's lines: progress, one line per request
                           (METHOD PATH STATUS DURATIONms), one per worker batch, cold starts, tracebacks.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .runtime import DEFAULT_FUNCTION_LOGS, DEFAULT_OUTPUTS, Options, Runtime, default_visibility_timeout


class Shutdown(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM."""


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run todo-platform offline: embedded PostgreSQL, "
                                     "an AWS emulator, the functions behind a local HTTP API, and the SQS worker poller.")
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (default 3000; 0 picks a free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--web-port", type=int, help="web app port (default: the API port + 1; 0 picks a free port)")  # web app hook
    parser.add_argument("--data-dir", type=Path, help="keep PostgreSQL data and a DynamoDB snapshot here between runs")
    parser.add_argument("--visibility-timeout", type=int, metavar="SECONDS",
                        help=f"orders queue visibility timeout (default {default_visibility_timeout()}: 6 x the worker's timeout)")
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="stack outputs file (default .local/outputs.json)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="the functions' LOG_LEVEL")
    parser.add_argument("--function-logs", default=str(DEFAULT_FUNCTION_LOGS),
                        help='file for the functions\' own log and metric lines (default .local/functions.log; "-": the console)')
    args = parser.parse_args(argv)
    if args.visibility_timeout is not None and not 0 <= args.visibility_timeout <= 43200:
        parser.error("--visibility-timeout must be 0..43200 seconds")
    if args.web_port is not None and (not 0 <= args.web_port <= 65535 or (args.web_port == args.port != 0)):  # web app hook
        parser.error("--web-port must be 0..65535 and differ from --port")
    return Options(host=args.host, port=args.port, data_dir=args.data_dir.resolve() if args.data_dir else None,
                   visibility_timeout=args.visibility_timeout, outputs=args.outputs.resolve(), log_level=args.log_level,
                   function_logs=None if args.function_logs == "-" else Path(args.function_logs).resolve(),
                   web_port=args.web_port)  # web app hook


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)

    def on_signal(signum, frame):
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
    except Exception as error:
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
