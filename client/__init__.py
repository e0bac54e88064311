"""A small client for the todo-platform HTTP API: the standard library and the route declaration only.

    client = Client.from_outputs()                # .local/outputs.json, written by `python -m local`
    client = Client.from_stack("staging")         # `pulumi stack output --json --stack staging`
    client.sign_up("Ada", "ada@example.com", "correct horse")
    client.log_in("ada@example.com", "correct horse")   # keeps the token and the user id
    todo = client.create_todo(client.user_id, "write the report")

One method per API route (`OPERATIONS` lists them, derived from the route declaration, catalog.ENDPOINTS). Every failure of a call is an `ApiError` carrying
the HTTP status, a code and a message: the API's own `{"error": {"code", "message", "details"}}`,
API Gateway's `{"message": ...}` (401/403/404/413/500/503, code derived from the status), and a
connection failure (status 0, code "connection_error").

A paused database (Aurora Serverless v2 at 0 ACU, staging) resumes while the first request waits; a resume
after a long pause can outlast the API's 30 s limit, so a 503 or 504 is retried once after `retry_wait`
seconds (`retries` counts them): a 503 always (the function answered without doing the work), a 504 only for
GET, PUT and DELETE, or a POST with an Idempotency-Key (a timed-out POST may have happened; repeating it
without a key could do it twice).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from todo_app.catalog import ENDPOINTS, STATUS_MESSAGES

__all__ = ["ApiError", "Client", "ConfigurationError", "OPERATIONS"]

# method name -> the route it calls, from the route declaration (catalog.ENDPOINTS): each operation under its
# name, or its `client` name (sign_up, dashboard). A declared route without a method below is still callable:
# `client.<operation>(path_parameters, **options)` (see `Client.__getattr__`).
OPERATIONS: dict[str, tuple[str, str]] = {(e.client or e.operation): (e.method, e.path) for e in ENDPOINTS}

# codes for answers that carry no {"error": ...} (API Gateway's own {"message": ...}, a proxy's page), and what
# to say when they carry no message either: the map the web app uses too (catalog.STATUS_MESSAGES)
_GATEWAY_CODES = {status: code for status, (code, _) in STATUS_MESSAGES.items()}


class ApiError(Exception):
    """A call failed: `status` (0 when the API could not be reached), `code`, `message`, `details`, `body`."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details, self.body = status, code, message, details or [], body

    @classmethod
    def from_response(cls, status: int, raw: bytes) -> ApiError:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
            return cls(
                status,
                str(error.get("code") or _GATEWAY_CODES.get(status, "error")),
                str(error.get("message") or ""),
                error.get("details") or [],
                body,
            )
        if isinstance(body, dict) and "message" in body:  # API Gateway's own answer
            return cls(status, _GATEWAY_CODES.get(status, "error"), str(body["message"]), [], body)
        fallback = STATUS_MESSAGES[status][1] if status in STATUS_MESSAGES else f"HTTP {status}"
        return cls(status, _GATEWAY_CODES.get(status, "error"), str(body or fallback)[:500], [], body)


RETRY_WAIT_SECONDS = 2.0
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def retryable(method: str, status: int, headers: dict[str, str] | None = None) -> bool:
    """Whether a failed call may be sent once more: any 503 (nothing was done: e.g. the database is waking),
    a 504 only when repeating cannot do the work twice (an idempotent method, or a POST with an Idempotency-Key)."""
    if status == 503:
        return True
    if status != 504:
        return False
    has_key = any(name.lower() == "idempotency-key" for name in (headers or {}))
    return method.upper() in _IDEMPOTENT_METHODS or (method.upper() == "POST" and has_key)


class ConfigurationError(Exception):
    """The client cannot be set up: no outputs file, no Pulumi CLI, a stack without an apiUrl."""


class Client:
    def __init__(
        self,
        api_url: str,
        *,
        token: str | None = None,
        user_id: str | None = None,
        timeout: float = 30,
        outputs: dict[str, Any] | None = None,
        retry_wait: float = RETRY_WAIT_SECONDS,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token, self.user_id = token, user_id
        self.timeout = timeout
        self.outputs = dict(outputs or {})
        self.retry_wait = retry_wait  # seconds before the one retry of a 503/504
        self.retries = 0  # how many calls were retried (a waking database, a timed-out gateway)
        # each e-mail's device token from its last log-in, sent with the next: the throttle then counts this
        # client's attempts per device, and nobody else's wrong passwords lock it out
        self.device_tokens: dict[str, str] = {}

    # ------------------------------------------------------------------------------ construction
    @classmethod
    def from_outputs(cls, path: str | Path = ".local/outputs.json", **kwargs: Any) -> Client:
        path = Path(path)
        try:
            outputs = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigurationError(f"no outputs file at {path}: start the local runtime (python -m local) or use --stack") from None
        except ValueError as error:
            raise ConfigurationError(f"{path} is not JSON: {error}") from None
        return cls._from(outputs, str(path), **kwargs)

    @classmethod
    def from_stack(cls, name: str, *, cwd: str | Path | None = None, **kwargs: Any) -> Client:
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            raise ConfigurationError(
                "the Pulumi CLI is not installed (no `pulumi` on PATH): install it, or run "
                "`python -m local` and use Client.from_outputs() / --outputs"
            )
        done = subprocess.run([pulumi, "stack", "output", "--json", "--stack", name], cwd=cwd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise ConfigurationError(f"`pulumi stack output --json --stack {name}` failed: {done.stderr.strip() or done.stdout.strip()}")
        try:
            outputs = json.loads(done.stdout)
        except ValueError as error:
            raise ConfigurationError(f"pulumi printed no JSON: {error}") from None
        return cls._from(outputs, f"stack {name}", **kwargs)

    @classmethod
    def _from(cls, outputs: Any, source: str, **kwargs: Any) -> Client:
        if not isinstance(outputs, dict) or not isinstance(outputs.get("apiUrl"), str) or not outputs["apiUrl"]:
            raise ConfigurationError(f"{source} has no apiUrl output")
        return cls(outputs["apiUrl"], outputs=outputs, **kwargs)

    # ------------------------------------------------------------------------------ transport
    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        raw: bytes | None = None,
    ) -> Any:
        """One call; the decoded JSON body (None when empty), or ApiError for any status >= 400. A 503, or a 504
        that is safe to repeat (`retryable`), is sent once more after `retry_wait` seconds."""
        try:
            return self._send(method, path, body=body, query=query, headers=headers, auth=auth, raw=raw)
        except ApiError as error:
            if not retryable(method, error.status, headers):
                raise
        self.retries += 1
        time.sleep(self.retry_wait)
        return self._send(method, path, body=body, query=query, headers=headers, auth=auth, raw=raw)

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any,
        query: dict[str, Any] | None,
        headers: dict[str, str] | None,
        auth: bool,
        raw: bytes | None,
    ) -> Any:
        url = self.api_url + path
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urlencode(params)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth and self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise ApiError.from_response(error.code, error.read()) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(0, "connection_error", f"cannot reach {self.api_url}: {reason}") from None
        if not payload:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return payload.decode("utf-8", "replace")

    def call(self, operation: str, path_parameters: dict[str, str] | None = None, **options: Any) -> Any:
        """The route of `operation` (a key of OPERATIONS), its path parameters filled in (URL-quoted);
        `options` as for `request`."""
        method, template = OPERATIONS[operation]
        path = template.format_map({name: quote(value, safe="") for name, value in (path_parameters or {}).items()})
        return self.request(method, path, **options)

    def __getattr__(self, name: str) -> Any:
        """A declared operation without a method of its own: `client.<operation>(path_parameters, **options)`."""
        if name in OPERATIONS:
            return functools.partial(self.call, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _user(self, user_id: str | None) -> dict[str, str]:
        user_id = user_id or self.user_id
        if not user_id:
            raise ValueError("no user id: log in first or pass one")
        return {"userId": user_id}

    # ------------------------------------------------------------------------------ routes
    def health(self) -> dict:
        return self.call("health", auth=False)

    def sign_up(self, name: str, email: str, password: str, age: int | None = None) -> dict:
        body: dict[str, Any] = {"name": name, "email": email, "password": password}
        if age is not None:
            body["age"] = age
        return self.call("sign_up", body=body, auth=False)

    def log_in(self, email: str, password: str) -> dict:
        """Creates a session and keeps its token (sent as a bearer token from now on) and user id, and the
        device token for this e-mail (sent with its next log-ins)."""
        body = {"email": email, "password": password}
        device_key = email.strip().lower()
        if device_key in self.device_tokens:
            body["deviceToken"] = self.device_tokens[device_key]
        session = self.call("log_in", body=body, auth=False)
        self.token, self.user_id = session["token"], session["userId"]
        if isinstance(session.get("deviceToken"), str):
            self.device_tokens[device_key] = session["deviceToken"]
        return session

    def request_password_reset(self, email: str) -> dict:
        """Ask for a reset link by e-mail: always 202 {status, message}, whether or not the address has an account."""
        return self.call("request_password_reset", body={"email": email}, auth=False)

    def confirm_password_reset(self, token: str, new_password: str) -> None:
        """Set a new password with the mailed token (it works once); every session of the user ends."""
        self.call("confirm_password_reset", body={"token": token, "newPassword": new_password}, auth=False)

    def log_out(self) -> None:
        try:
            self.call("log_out")
        finally:
            self.token = None

    def list_sessions(self) -> dict:
        """My active sessions (devices): {items: [{sessionId, createdAt, expiresAt, userAgent, sourceIp, current}]}."""
        return self.call("list_sessions")

    def revoke_session(self, session_id: str) -> None:
        """Log one of my sessions out (404 for an unknown id or someone else's)."""
        self.call("revoke_session", {"sessionId": session_id})

    def log_out_everywhere(self) -> None:
        """Every one of my sessions, this one included."""
        try:
            self.call("log_out_everywhere")
        finally:
            self.token = None

    def list_users(self, limit: int | None = None, cursor: str | None = None) -> dict:
        return self.call("list_users", query={"limit": limit, "cursor": cursor})

    def get_user(self, user_id: str | None = None) -> dict:
        return self.call("get_user", self._user(user_id))

    def update_user(self, user_id: str | None = None, **fields: Any) -> dict:
        """Fields: name, email, age (None clears the age); changing the e-mail needs currentPassword."""
        return self.call("update_user", self._user(user_id), body=fields)

    def change_password(self, current_password: str, new_password: str, user_id: str | None = None) -> None:
        """My password; my other sessions are revoked, this one stays (403 when current_password is wrong)."""
        self.call("change_password", self._user(user_id), body={"currentPassword": current_password, "newPassword": new_password})

    def delete_user(self, user_id: str | None = None) -> Any:
        return self.call("delete_user", self._user(user_id))

    def create_todo(
        self, user_id: str | None, title: str, *, description: str | None = None, due_date: str | None = None, priority: str | None = None
    ) -> dict:
        body: dict[str, Any] = {"title": title}
        for key, value in (("description", description), ("dueDate", due_date), ("priority", priority)):
            if value is not None:
                body[key] = value
        return self.call("create_todo", self._user(user_id), body=body)

    def list_todos(
        self, user_id: str | None = None, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> dict:
        return self.call("list_todos", self._user(user_id), query={"status": status, "limit": limit, "cursor": cursor})

    def get_todo(self, todo_id: str) -> dict:
        return self.call("get_todo", {"todoId": todo_id})

    def update_todo(self, todo_id: str, **fields: Any) -> dict:
        """Fields: title, description, status ("open"/"done"), dueDate, priority; None removes description/dueDate."""
        return self.call("update_todo", {"todoId": todo_id}, body=fields)

    def delete_todo(self, todo_id: str) -> Any:
        return self.call("delete_todo", {"todoId": todo_id})

    def dashboard(self, user_id: str | None = None) -> dict:
        return self.call("dashboard", self._user(user_id))

    def create_order(
        self, amount: str | int, currency: str, items: list[dict] | None = None, *, idempotency_key: str | None = None
    ) -> dict:
        """Amount as a string ("12.50") or an integer, so it stays exact; 202 {orderId, status: "PENDING"}."""
        body: dict[str, Any] = {"amount": amount, "currency": currency}
        if items is not None:
            body["items"] = items
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.call("create_order", body=body, headers=headers)

    def get_order(self, order_id: str) -> dict:
        return self.call("get_order", {"orderId": order_id})

    # ------------------------------------------------------------------------------ helpers
    def wait_for_order(self, order_id: str, timeout: float = 30, interval: float = 0.25) -> dict:
        """Poll GET /orders/{id} until the worker has stored the order (404 until then); ApiError 404 after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.get_order(order_id)
            except ApiError as error:
                if error.status != 404 or time.monotonic() >= deadline:
                    raise
            time.sleep(interval)

    def iter_pages(self, operation: str, *args: Any, **kwargs: Any) -> Iterator[dict]:
        """Every page of a list operation (list_users, list_todos), following the cursor."""
        cursor = None
        while True:
            page = getattr(self, operation)(*args, cursor=cursor, **kwargs)
            yield page
            cursor = _next_cursor(page)
            if not cursor:
                return

    def all_todos(self, user_id: str | None = None, **kwargs: Any) -> list[dict]:
        """Every todo of a user (optionally of one `status`), all pages."""
        return [item for page in self.iter_pages("list_todos", user_id, **kwargs) for item in page["items"]]

    def all_users(self, **kwargs: Any) -> list[dict]:
        return [item for page in self.iter_pages("list_users", **kwargs) for item in page["items"]]


def _next_cursor(page: Any) -> str | None:
    """List responses are {"items": [...], "nextCursor": str | null}."""
    return page.get("nextCursor") if isinstance(page, dict) else None
