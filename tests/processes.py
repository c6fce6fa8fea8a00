"""Running the site as production runs it: gunicorn with production settings, the task worker,
and waiting for them. Shared by the tests that start real processes and by scripts/stress and
the benchmarks. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval=0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"Gave up waiting {timeout:g} s for {what}")


def http_ok(url: str, timeout: float = 2) -> bool:
    import requests

    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def production_env(var_dir: Path, **env: str) -> dict[str, str]:
    """This process's environment with the production settings (DEBUG off, a fresh secret key,
    127.0.0.1 only, warnings only, local files under ``var_dir``), and ``env`` on top."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hubsite.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "HUB_VAR_DIR": str(var_dir),
        **env,
    }


def become_the_site(env: dict[str, str]) -> None:
    """Run this process as the site with ``env``: Django set up, its database migrated (for a
    script that seeds the database the processes it starts serve)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def gunicorn_command(port: int, *, workers: int) -> list[str]:
    """gunicorn serving the site on 127.0.0.1:``port``, as README "Running it in production"
    runs it."""
    command = [sys.executable, "-m", "gunicorn", "hubsite.wsgi", "--no-control-socket"]
    return [*command, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]


# The task worker, polling often so that tests and stress phases need not wait.
DB_WORKER_COMMAND = [
    *(sys.executable, "manage.py", "db_worker"),
    *("--no-startup-delay", "--no-reload", "--interval", "0.2"),
]


def wait_until_serving(port: int, logfile: Path, timeout: float = 120) -> None:
    """Wait for the site on ``port`` to answer its home page; on giving up, print the end of
    its log (why it did not start). Each try waits long for its answer: a sync worker still
    answers a request whose client gave up, so short tries would queue faster than a worker
    starting on a busy machine answers them."""
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: http_ok(url, timeout=60), timeout, "gunicorn to answer 200", interval=1)
    except TimeoutError:
        tail = logfile.read_text(errors="replace")[-2000:]
        print(f"{logfile.name} ends:\n{tail}", file=sys.stderr, flush=True)
        raise


def spawn(command: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    """Start ``command`` from the repository root with ``env``, its output appended to
    ``logfile``."""
    with logfile.open("ab") as log:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate ``processes`` (SIGTERM, so gunicorn stops its workers), killing any that
    has not ended within 10 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
