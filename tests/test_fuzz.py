"""Schemathesis sends every operation generated requests, valid and invalid, as a signed-in user:
no answer is ever a 5xx, and each status, media type, header and body is the documented one.

The app is the real one (its own pool, its lifespan) on a database of its own, reached
in-process through schemathesis' ASGI transport; the cases come from the committed OpenAPI
document, which tests/test_openapi.py holds equal to the app's. `make test` walks each operation
briefly with a fixed seed; `make fuzz` (DIARIST_FUZZ_EXAMPLES) walks long, counting what goes
wrong instead of stopping at it, and prints the tally.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from diarist.app import create_app
from diarist.config import DatabaseSettings, MailSettings
from diarist.db.embedded import RunningCluster
from tests.conftest import make_settings
from tests.fixtures.database import clone_database, drop_database
from tests.test_openapi import SNAPSHOT

# Examples per operation for the fuzzing phase (the examples and coverage phases add their own).
LONG_RUN = int(os.environ.get("DIARIST_FUZZ_EXAMPLES", "0"))
EXAMPLES = LONG_RUN or 8
SEED = 20_260_611

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Operations that can end the caller's session or account run as a second user, replaced by a
# new one whenever one of them succeeds: the main user's token lives for the whole walk.
ENDS_A_SESSION = {
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/sessions/revoke-others",
    "DELETE /api/v1/auth/sessions/{session_id}",
    "DELETE /api/v1/me",
    "POST /api/v1/me/deactivate",
    "POST /api/v1/me/password",
}


def load_schema() -> schemathesis.BaseSchema:
    document = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config(seed=SEED))
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        database="none",  # no examples replayed from earlier runs: each run is the same
    )
    return schema


schema = load_schema()
GeneratedCase = schemathesis.Case[Any]


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    server_errors: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def record(self, kind: str, case: GeneratedCase, answer: str = "") -> None:
        self.failures[kind] += 1
        self.examples.setdefault(
            kind, case.as_curl_command() + (f"\n    -> {answer}" if answer else "")
        )

    def report(self) -> str:
        lines = [
            f"fuzz: {self.requests} requests, {self.server_errors} answered 5xx, "
            f"{sum(self.failures.values())} failed checks, {time.monotonic() - self.started:.0f} s"
        ]
        lines += [f"{count:8} {kind}" for kind, count in self.failures.most_common()]
        lines += [f"e.g. {kind}:\n    {example}" for kind, example in self.examples.items()]
        return "\n".join(lines)


@dataclass
class Walk:
    app: FastAPI
    token: str = ""
    ender_token: str = ""
    tally: Tally = field(default_factory=Tally)

    def sign_up(self) -> str:
        """A throwaway user, registered and signed in through the API: its bearer token."""
        email = f"fuzz-{secrets.token_hex(6)}@example.org"
        password = secrets.token_urlsafe(18)
        register = schema["/api/v1/auth/register"]["POST"].Case(
            body={"email": email, "name": "Fuzz", "password": password}
        )
        registered = register.call(app=self.app)
        assert registered.status_code == 201, registered.text
        login = schema["/api/v1/auth/login"]["POST"].Case(
            body={"email": email, "password": password}
        )
        response = login.call(app=self.app)
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        assert isinstance(token, str)
        # UTC+14: local dates differ from UTC's most of the day, and reach furthest east.
        zone = schema["/api/v1/me"]["PATCH"].Case(
            body={"preferences": {"timezone": "Pacific/Kiritimati"}}
        )
        patched = zone.call(app=self.app, headers={"Authorization": f"Bearer {token}"})
        assert patched.status_code == 200, patched.text
        return token


@pytest.fixture(scope="module")
def walk(
    cluster: RunningCluster,
    template: None,
    db_settings: DatabaseSettings,
    tmp_path_factory: pytest.TempPathFactory,
    embedder_url: str,
    smtp_server: tuple[int, Any],
    request: pytest.FixtureRequest,
) -> Iterator[Walk]:
    """The app over a database of its own (it commits, as in production) and two users."""
    urls = clone_database(cluster, db_settings)
    assert urls.app.database is not None
    settings = make_settings(urls, tmp_path_factory.mktemp("fuzz"))
    settings.analysis = settings.analysis.model_copy(update={"embedder_url": embedder_url})
    settings.mail = MailSettings(
        backend="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server[0], smtp_security="none"
    )
    # Every request comes from one address: its failed logins must not lock out sign_up.
    settings.auth = settings.auth.model_copy(update={"ip_free_failures": 10_000})
    walk = Walk(app=create_app(settings))
    try:
        walk.token = walk.sign_up()
        walk.ender_token = walk.sign_up()
        yield walk
    finally:
        asgi.shutdown_lifespans()  # the app's pool closes before its database is dropped
        drop_database(cluster, urls.app.database)
        plugins = request.config.pluginmanager
        capture = plugins.get_plugin("capturemanager")
        reporter = plugins.get_plugin("terminalreporter")
        assert capture is not None
        assert reporter is not None
        with capture.global_and_fixture_disabled():  # printed even when the tests pass
            reporter.write_line(walk.tally.report())
    # A long run counts instead of stopping; what it counted still fails it.
    assert not walk.tally.server_errors, "answers were 5xx: see the tally above"
    assert not walk.tally.failures, "answers were not as documented: see the tally above"


@schema.parametrize()
def test_every_operation_answers_as_documented(case: GeneratedCase, walk: Walk) -> None:
    ends_a_session = case.operation.label in ENDS_A_SESSION
    token = walk.ender_token if ends_a_session else walk.token
    walk.tally.requests += 1
    try:
        response = case.call(app=walk.app, headers={"Authorization": f"Bearer {token}"})
    except Exception as exc:  # the app raised: the client got a 500
        walk.tally.server_errors += 1
        if not LONG_RUN:
            raise
        walk.tally.record(f"{case.operation.label}: raised {type(exc).__name__}", case)
        return
    if response.status_code >= 500:
        walk.tally.server_errors += 1
    if ends_a_session and response.status_code < 300:
        walk.ender_token = walk.sign_up()
    try:
        case.validate_response(response, checks=CHECKS)
    except (Failure, FailureGroup) as exc:
        if not LONG_RUN:
            raise
        for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
            walk.tally.record(
                f"{case.operation.label}: {failure.title} ({response.status_code})",
                case,
                response.text[:300] if response.status_code >= 500 else "",
            )


@pytest.mark.parametrize("too_long", ["query", "headers"])
def test_an_over_long_request_head_is_a_documented_answer(walk: Walk, too_long: str) -> None:
    """Found by the walk: a request target over 8 KiB is a 414 on any operation, and a header
    section over 16 KiB a 431; the document listed neither."""
    operation = schema["/api/v1/entries"]["GET"]
    if too_long == "query":
        case = operation.Case(query={"raw_data_contains": "x" * 9000})
    else:
        case = operation.Case(headers={"X-Padding": "x" * 17_000})
    response = case.call(app=walk.app, headers={"Authorization": f"Bearer {walk.token}"})
    assert response.status_code == (414 if too_long == "query" else 431)
    case.validate_response(response, checks=CHECKS)
    document = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for operations in document["paths"].values():
        for documented in operations.values():
            assert {"414", "431"} <= documented["responses"].keys()
