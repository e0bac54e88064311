"""7. The web app on the local runtime, in Debian's headless Chromium (the browser tests' launcher and flags):

- the time from opening the site to the todo list visible after logging in: from the navigation's start
  to the frame that draws the log-in form, plus from the click on "Log in" to the frame that draws the
  user's todo (config.json, the API calls with their CORS preflights, the rendering all included; the
  typing is not: a person types at their own pace). Measured inside the page with performance.now(),
  so the driver's round trips are not counted; each run in a new browser profile, so nothing is cached;
- the bytes of HTML, JavaScript and CSS that the first load transfers (response bodies as sent, gzip
  where the server compresses, as CloudFront does), and the same uncompressed.
Goals: under 1 s and under 100 KB. The median of the runs is reported.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .core import NotAvailable, Section, median
from .local_runtime import Local

GOAL_SECONDS = 1.0
GOAL_KB = 100.0
FIRST_LOAD_TYPES = ("document", "script", "stylesheet")
PASSWORD = "correct horse battery staple"
TODO = "Benchmark todo"


def run(section: Section, world: Any, quick: bool, shared: dict) -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise NotAvailable("playwright is not installed (requirements-dev.txt)") from None
    from client import Client
    from tests.browser import chromium

    executable = chromium.find()
    if executable is None:
        raise NotAvailable("no chromium on PATH: `apt-get install chromium` (the browser tests install it when run as root)")
    runs = 3 if quick else 7
    local = Local()
    try:
        local.wait_ready()
        client = Client.from_outputs(local.outputs)
        web = client.outputs["webUrl"]
        email = f"bench-web-{time.time_ns()}@example.com"
        client.sign_up("Bench", email, PASSWORD)
        client.log_in(email, PASSWORD)
        client.create_todo(None, TODO)
        samples = [first_visit(executable, web, email) for _ in range(runs + 1)][1:]  # the first run warms the runtime's functions
    finally:
        local.stop()

    total = median(s["total_s"] for s in samples)
    form = median(s["form_s"] for s in samples)
    sent_kb = median(s["sent_bytes"] for s in samples) / 1024
    raw_kb = median(s["raw_bytes"] for s in samples) / 1024
    files = samples[0]["files"]
    section.add(
        f"open the site -> todo list visible after log-in (median of {runs})",
        total,
        "s",
        goal=f"< {GOAL_SECONDS:g} s",
        goal_value=GOAL_SECONDS,
        note=f"of which {form * 1000:.0f} ms to the log-in form; typing excluded; a new browser profile each run",
    )
    section.add(
        "first load: HTML + JS + CSS transferred",
        round(sent_kb, 1),
        "KB",
        goal=f"< {GOAL_KB:g} KB",
        goal_value=GOAL_KB,
        note=f"{len(files)} files, {raw_kb:.1f} KB uncompressed",
    )
    section.notes.append("local runtime over loopback; deployed, add the network's round trips to CloudFront and API Gateway")
    section.notes.append(
        f"load average after the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the log-in's scrypt and the browser share them)"
    )
    section.data.update({"runs": samples, "files": files})
    shared["web"] = {"files": median(s["web_requests"] for s in samples), "transferred_kb": sent_kb}


# Runs in the page before its own scripts: notes (performance.now(), ms since the navigation started) the
# frame in which the log-in form is first drawn, the click on "Log in", and the frame in which the
# first todo is drawn. Measured in the page, so the driver's own round trips are not counted.
OBSERVER = """
window.__bench = {};
const mark = (name) => requestAnimationFrame(() => { window.__bench[name] ??= performance.now(); });
new MutationObserver(() => {
  const b = window.__bench;
  if (!b.formSeen && document.querySelector("input[name=email]")) { b.formSeen = true; mark("form"); }
  if (b.clicked !== undefined && !b.listSeen && document.querySelector("li.todo")) { b.listSeen = true; mark("list"); }
}).observe(document, { subtree: true, childList: true });
document.addEventListener("click", () => { window.__bench.clicked ??= performance.now(); }, true);
"""


def first_visit(executable: str, web: str, email: str) -> dict[str, Any]:
    from tests.browser import chromium

    with chromium.launch(executable, viewport={"width": 1100, "height": 860}) as context:
        page = context.new_page()
        page.add_init_script(OBSERVER)
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto("about:blank")  # the browser is up, as when a person opens the site
        page.goto(web, wait_until="commit")
        page.get_by_label("Email").wait_for()
        first_load = [r for r in responses if r.url.startswith(web) and r.request.resource_type in FIRST_LOAD_TYPES]
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("list", name="List").get_by_text(TODO).wait_for()
        page.wait_for_function("() => window.__bench.list !== undefined")
        marks = page.evaluate("() => window.__bench")
        sent = sum(r.request.sizes()["responseBodySize"] for r in first_load)
        raw = sum(len(r.body()) for r in first_load)
        form_s = marks["form"] / 1000
        return {
            "total_s": form_s + (marks["list"] - marks["clicked"]) / 1000,
            "form_s": form_s,
            "sent_bytes": sent,
            "raw_bytes": raw,
            "files": sorted(r.url.removeprefix(web) or "/" for r in first_load),
            "web_requests": sum(1 for r in responses if r.url.startswith(web)),  # config.json and the icon too
        }
