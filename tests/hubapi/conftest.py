"""The real ``huggingface_hub`` client against the site on a live server.

``hub_api(token)`` is an ``HfApi(endpoint=live_server.url, token=token)``; ``token_for(user)``
issues an access token through the model and returns its secret. The client reads its settings
(``HF_ENDPOINT``, ``HF_HOME``, …) once, when first imported: the ``hf_home`` fixture sets them in
the environment and in the client's ``constants`` for each test, so its cache, token files and
endpoint are the test's own. No test may reach past 127.0.0.1: while the client is in use, any
connection or name lookup elsewhere fails the test.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from accounts.models import AccessToken
from tests.datacite_server import datacite  # noqa: F401  (the fixture)

LOCAL = {"127.0.0.1", "::1", "localhost"}


def _local_only(monkeypatch) -> None:
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in LOCAL:
            raise AssertionError(f"A test tried to connect to {address!r}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL and host is not None:
            raise AssertionError(f"A test tried to look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def hf_home(live_server, tmp_path: Path, monkeypatch) -> Path:
    """The client's home for this test, with the live server as its endpoint."""
    from huggingface_hub import constants

    home = tmp_path / "hf-home"
    values = {
        "HF_ENDPOINT": live_server.url,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    patched = {
        "ENDPOINT": live_server.url,
        "HUGGINGFACE_CO_URL_TEMPLATE": live_server.url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_UPDATE_CHECK": True,
        "HF_HUB_DISABLE_XET": True,
    }
    for name, value in patched.items():
        monkeypatch.setattr(constants, name, value)
    _local_only(monkeypatch)
    return home


@pytest.fixture
def hub_api(live_server, hf_home):
    """``hub_api(token)``: the real client pointed at the live server, with that token (or
    none: ``hub_api(None)`` sends no token at all)."""
    from huggingface_hub import HfApi

    def connect(token: str | None) -> HfApi:
        return HfApi(endpoint=live_server.url, token=token if token is not None else False)

    return connect


@pytest.fixture
def token_for(db):
    """``token_for(user, scope="write")``: a new access token's secret."""

    def issue(user, scope: str = AccessToken.Scope.WRITE, name: str = "test") -> str:
        return AccessToken.issue(user=user, name=name, scope=scope)[1]

    return issue
