"""The OPA engine: the catalogue compiled to Rego, evaluated by an OPA server.

`evaluate` checks the server's health, uploads the compiled policies (or relies on the
bundle the server holds), queries `data.zenpolicy.findings` with the normalised input
(engines/normalise.py) and turns the answer into the native engine's findings
(rules/rego_findings.py).

`OpaConnection` is opa-python-client's `OpaClient` with what it cannot express, added
minimally (each says why below): an OPA URL with a path prefix, a CA file, verification
switched off only on request, and HTTP statuses kept for the error message. Every
failure (unreachable, timeout, TLS, HTTP 4xx/5xx, authentication refused, an answer that
is not JSON) becomes one `EngineError` with a one-line message that never contains the
bearer token.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient
from urllib3.exceptions import (
    ConnectTimeoutError,
    InsecureRequestWarning,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)

from zenpolicy.engines.normalise import normalise
from zenpolicy.errors import EngineError, UsageError
from zenpolicy.inventory.model import Inventory
from zenpolicy.model import Finding
from zenpolicy.options import OpaOptions
from zenpolicy.rules.model import Rule
from zenpolicy.rules.rego import FINDINGS_QUERY, compile_catalogue
from zenpolicy.rules.rego_custom import load_custom_modules
from zenpolicy.rules.rego_findings import AnswerError, custom_findings, findings_from_answer
from zenpolicy.rules.timeutil import AsOf

T = TypeVar("T")

RETRIES = 2
"""opa-python-client's default: retry connection failures, and HTTP 500/502/504 on
idempotent requests (the health check, uploads), with a short backoff."""


class OpaConnection(OpaClient):  # type: ignore[misc]  # opa_client is untyped
    """An OPA server, as zenpolicy talks to it."""

    def __init__(self, options: OpaOptions) -> None:
        url = urlsplit(options.url)
        try:
            port = url.port
        except ValueError:
            port = -1
        if url.scheme not in ("http", "https") or not url.hostname or port == -1:
            shown = re.sub(r"//[^/@]*@", "//***@", options.url)  # never echo a password
            raise UsageError(f"--opa-url must be an http:// or https:// URL with a host, not {shown!r}")
        if options.client_key and not options.client_cert:
            raise UsageError("--opa-client-key needs --opa-client-cert")
        https = url.scheme == "https"
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        self.options = options
        # The URL as shown in messages: no user:password part, no trailing slash.
        self.shown = f"{url.scheme}://{host}" + (f":{url.port}" if url.port else "") + url.path.rstrip("/")
        self.last_response: requests.Response | None = None
        cert: str | tuple[str, str] | None = options.client_cert
        if options.client_cert and options.client_key:
            cert = (options.client_cert, options.client_key)
        super().__init__(
            host=host,
            port=port or (443 if https else 80),
            ssl=https,
            cert=cert,
            token=options.token,
            timeout=options.timeout,
            retries=RETRIES,
        )
        # The client builds `scheme://host:port/v1`: an OPA behind a gateway at
        # https://gw/opa needs the path kept.
        self.base_url = f"{self.schema}{host}:{self.port}{url.path.rstrip('/')}"
        self.root_url = f"{self.base_url}/{self.version}"

    def _init_session(self) -> requests.Session:
        configured: requests.Session = super()._init_session()  # headers, token, retries, cert
        session = _OwnVerifySession()
        session.headers.update(configured.headers)
        session.cert = configured.cert
        for prefix, adapter in configured.adapters.items():
            session.mount(prefix, adapter)
        # `ssl=True` only turns verification on against the system CAs; a private CA
        # (ca_file) and an explicit, opt-in `insecure` need the session's own setting.
        if self.ssl:
            session.verify = False if self.options.insecure else (self.options.ca_file or True)
        # Keep the last response: the client turns some HTTP errors into exceptions
        # without their status, and 401/403 must read "authentication refused".
        session.hooks["response"].append(self._remember)
        return session

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_response = response

    # ---- requests, each wrapped so that any failure is one EngineError -------------

    def call(self, action: str, request: Callable[[], T]) -> T:
        """Run one client call; `action` completes "... while {action}" in messages."""
        self.last_response = None
        try:
            with warnings.catch_warnings():
                if self.options.insecure:
                    # Said once by the CLI, not once per request by urllib3.
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                return request()
        except requests.exceptions.SSLError as exc:
            raise self.error(
                f"TLS with the OPA server at {self.shown} failed while {action}: {_reason(exc)}"
            ) from None
        except requests.exceptions.RequestException as exc:
            if _is_timeout(exc):
                raise self.error(
                    f"the OPA server at {self.shown} did not answer within {self.timeout:g}s while {action}"
                ) from None
            if isinstance(exc, requests.exceptions.ConnectionError):
                raise self.error(
                    f"the OPA server at {self.shown} is unreachable while {action}: {_reason(exc)}"
                ) from None
            raise self.http_error(action, exc) from None
        except Exception as exc:  # the client's own exceptions, JSON errors: look at the status
            raise self.http_error(action, exc) from None

    def http_error(self, action: str, exc: BaseException) -> EngineError:
        response = self.last_response
        status = response.status_code if response is not None else None
        if status in (401, 403):
            return self.error(
                f"the OPA server at {self.shown} refused the request (HTTP {status}: authentication "
                f"or authorisation failed) while {action}; check the token"
            )
        if status is not None and status >= 400:
            return self.error(
                f"the OPA server at {self.shown} answered HTTP {status} while {action}{_detail(response)}"
            )
        why = "the answer is not JSON" if isinstance(exc, ValueError) else _reason(exc)
        return self.error(f"malformed answer from the OPA server at {self.shown} while {action}: {why}")

    def error(self, message: str) -> EngineError:
        """One line, and never the token (a server might echo what it was sent)."""
        line = " ".join(message.split())
        if self.options.token:
            line = line.replace(self.options.token, "***")
        return EngineError(line)

    def health(self) -> None:
        """GET /health; with a bundle, `?bundles` also waits for it to be activated."""
        path = "/health?bundles" if self.options.use_bundle else "/health"

        def get() -> None:
            response = self._session.get(self.base_url + path, timeout=self.timeout)
            response.raise_for_status()

        self.call("checking its health", get)

    def post_data(self, path: str, input_value: Mapping[str, Any]) -> dict[str, Any]:
        """POST /v1/data/{path} {"input": ...} -> the answer object."""
        package, _, rule = path.replace("/", ".").rpartition(".")
        body = self.call(
            f"querying data.{path.replace('/', '.')}",
            lambda: self.query_rule(input_data=dict(input_value), package_path=package, rule_name=rule),
        )
        if not isinstance(body, dict):
            raise self.error(
                f"malformed answer from the OPA server at {self.shown} for data.{path.replace('/', '.')}: "
                f"expected a JSON object, got {type(body).__name__}"
            )
        return body

    def replace_policies(self, policies: Mapping[str, str], owned_prefix: str) -> None:
        """Upload `policies` (id -> Rego) in order, after deleting the server's policies
        under `owned_prefix` that are not among them (a rule removed since the last run
        must not keep reporting)."""
        existing = self.call("listing its policies", self.get_policies_list)
        for stale in sorted(set(existing) - set(policies)):
            if isinstance(stale, str) and stale.startswith(owned_prefix):
                self.call(f"deleting stale policy {stale}", _bind(self.delete_policy, stale))
        for policy_id, source in policies.items():
            upload = _bind(self.update_policy_from_string, source, policy_id, rego_compat=False)
            self.call(f"uploading policy {policy_id}", upload)


def _bind(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """`function` with its arguments, called later (a lambda in a loop would late-bind)."""
    return lambda: function(*args, **kwargs)


class _OwnVerifySession(requests.Session):
    """A session whose own `verify` wins over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE.

    requests lets those variables replace a session's CA file, and even its
    `verify = False` (psf/requests#3829, kept until requests 3): --opa-ca-file would be
    silently ignored wherever the variables are set, as in many CI images. With the
    default (`True`), the variables still apply, as for any requests program."""

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings: dict[str, Any] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is not True:
            settings["verify"] = self.verify
        return settings


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    # After retries, urllib3's timeouts arrive wrapped in a ConnectionError; a refused
    # connection is a NewConnectionError, which urllib3 derives from ConnectTimeoutError.
    reason = exc.args[0] if exc.args else None
    if not isinstance(reason, MaxRetryError) or isinstance(reason.reason, NewConnectionError):
        return False
    return isinstance(reason.reason, ReadTimeoutError | ConnectTimeoutError)


def _reason(exc: BaseException) -> str:
    """The innermost cause, briefly (`[Errno 111] Connection refused`)."""
    reason: Any = exc.args[0] if exc.args else exc
    while isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    text = str(reason)
    for marker in ("[Errno", "[SSL"):
        if marker in text:
            text = text[text.index(marker) :]
            break
    text = re.sub(r"\s*\(_ssl\.c:\d+\)?$", "", text.rstrip(")'\"").strip())  # OpenSSL's source line
    return text[:200] or type(exc).__name__


def _detail(response: requests.Response | None) -> str:
    """OPA's own error message, when the body has one."""
    if response is None:
        return ""
    try:
        body = json.loads(response.text)
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message).splitlines()[0][:200]}" if message else ""


# ---- the engine ---------------------------------------------------------------------


def evaluate(
    rules: Sequence[Rule],
    inventory: Inventory,
    *,
    as_of: AsOf,
    params: Mapping[str, Any],
    display_params: Mapping[str, Any] | None = None,
    options: OpaOptions,
    rego_modules: Sequence[Path] = (),
) -> list[Finding]:
    """Every finding of `rules` (and of the user's Rego modules), evaluated by the OPA
    server of `options`: the same findings as the native engine's `evaluate`.

    Without `use_bundle`, the compiled catalogue is uploaded first (replacing what an
    earlier run uploaded); with it, the server's bundle must hold this very catalogue,
    which the answer is checked against. Raises EngineError (server), InputError (a
    user module), UsageError (options)."""
    custom = load_custom_modules(rego_modules, [rule.id for rule in rules])
    # The normalised input, plus the rule IDs wanted: a bundle may hold more rules
    # than were selected (--select/--skip), and only these must answer.
    payload = {**normalise(inventory, as_of, params), "rules": [rule.id for rule in rules]}
    with OpaConnection(options) as opa:
        opa.health()
        if not options.use_bundle:
            modules = compile_catalogue(rules)
            # zenpolicy.lib first: OPA compiles each upload against what it holds, and a
            # rule that calls an undefined function is refused.
            ordered = sorted(modules, key=lambda m: (m.package != "zenpolicy.lib", m.path))
            policies = {m.policy_id: m.source for m in ordered} | {c.policy_id: c.source for c in custom}
            opa.replace_policies(policies, owned_prefix="zenpolicy/")
        answer = opa.post_data(FINDINGS_QUERY, payload)
        custom_answer = opa.post_data("zenpolicy/custom", payload) if custom else {}
    shown = display_params if display_params is not None else params
    try:
        if "result" not in answer:
            raise AnswerError(
                "data.zenpolicy.findings is undefined: the server holds no zenpolicy policies"
                + (" (has it activated the bundle?)" if options.use_bundle else "")
            )
        findings = findings_from_answer(rules, inventory, answer["result"], shown)
        findings += custom_findings(custom, custom_answer.get("result", {}), inventory)
    except AnswerError as exc:
        raise opa.error(f"unexpected answer from the OPA server at {opa.shown}: {exc}") from None
    return findings
