"""Fixtures of the what-if page's tests: the app on qingyuan and its solved scenarios."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import talentplan as tp
from talentplan.web.app import create_app, form_defaults
from talentplan.web.forms import form_layout

FINAL = ("done", "error", "cancelled")


@pytest.fixture(scope="session")
def qingyuan() -> tp.Instance:
    return tp.load_instance("qingyuan")


@pytest.fixture(scope="session")
def defaults(qingyuan: tp.Instance) -> dict[str, str]:
    """The form as the page first shows it (every program on, every factor 1)."""
    return {**form_defaults(form_layout(qingyuan)), "time_limit": "20", "mip_gap": "0.01"}


def wait(client: TestClient, job: str, seconds: float = 60.0) -> dict[str, Any]:
    """Poll a job's status until it ends; return its last status."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status = client.get(f"/jobs/{job}/status").json()
        if status["state"] in FINAL:
            return dict(status)
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not end in {seconds} s: {status}")


def start(client: TestClient, form: dict[str, str]) -> str:
    """Post the form; return the id of the job it started."""
    response = client.post("/solve", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def solved(
    tmp_path_factory: pytest.TempPathFactory, qingyuan: tp.Instance, defaults: dict[str, str]
) -> Iterator[tuple[TestClient, Path, dict[str, Any], dict[str, Any]]]:
    """The page on qingyuan with two scenarios solved: as given, and every budget x0.6."""
    folder = tmp_path_factory.mktemp("whatif")
    with TestClient(create_app(qingyuan, folder, source="qingyuan")) as client:
        base = wait(client, start(client, {**defaults, "name": "as given"}))
        cut = wait(client, start(client, {**defaults, "name": "budget cut", "budget_scale": "0.6"}))
        yield client, folder, base, cut
