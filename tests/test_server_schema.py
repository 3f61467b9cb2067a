"""schemathesis against `/openapi.json`: generated requests (valid and invalid) for every
route, with an admin key, never get a 500. Bounded: a few examples per route.

Routes that start background jobs (activations, adapters, rebuild) are left out here:
a generated plan could train for minutes after the test ends; tests/test_server.py and
tests/test_client.py run them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from test_server_support import shared_runtime

import memos
from memos.models import Permission
from memos.server.app import create_app
from memos.testing import FakeClock, HashEmbedder

JOB_ROUTES = {
    "/v1/cubes/{cube}/activations",
    "/v1/cubes/{cube}/adapters",
    "/v1/memories/{ref}/rebuild",
}
EXAMPLES = 6  # per route and mode


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    with memos.open(
        tmp_path / "home",
        user="alice",
        embedder=HashEmbedder(dim=64),
        clock=FakeClock(),
        runtime=shared_runtime(),
    ) as mos:
        key = mos.kernel.store.create_api_key("alice", Permission.ADMIN)[1]
        cube = mos.create_cube("work")
        first = cube.add("Launch is on March 3", tags=["launch"])
        cube.link(first.id, cube.add("The cafeteria closes at 3pm").id)
        yield create_app(mos), key


def test_no_server_errors(served_app: tuple[Any, str]) -> None:
    app, key = served_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    checked = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        if operation.path in JOB_ROUTES:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def no_500(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                no_500()
            except Unsatisfiable:  # nothing invalid to send: a route without parameters
                assert mode is GenerationMode.NEGATIVE, operation.path
        checked += 1
    assert checked >= 30
