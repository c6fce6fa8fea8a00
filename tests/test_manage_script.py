from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import BASE_DIR

# The variables a developer's shell does not have: scripts/manage must supply what is needed.
UNSET = ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "SITE_URL")


def manage(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    env["HUB_VAR_DIR"] = str(tmp_path)
    return subprocess.run(
        [BASE_DIR / "scripts" / "manage", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.smoke
def test_it_runs_a_command_with_the_development_defaults(tmp_path):
    result = manage("check", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_passes_a_failing_command_s_exit_status_on(tmp_path):
    result = manage("no_such_command", tmp_path=tmp_path)

    assert result.returncode == 1
    assert "Unknown command: 'no_such_command'" in result.stderr
