"""Test harness: a PostgreSQL the suite starts itself, a fixed cast of users, and Chromium.

``HUB_TEST_DATABASE=sqlite`` runs against the SQLite development default instead (the smoke set).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pytest_postgresql import factories

from tests import processes
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytest_plugins = ["tests.object_store"]

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"
USE_SQLITE = os.environ.get("HUB_TEST_DATABASE") == "sqlite"

postgresql_server = factories.postgresql_proc(
    executable=str(BASE_DIR / "scripts" / "pg_ctl_as_postgres"),
    host="127.0.0.1",
    postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request: pytest.FixtureRequest) -> None:
    from django.conf import settings

    if USE_SQLITE:
        # A file, as scripts/serve uses: an in-memory test database is one connection shared by
        # every thread, so the live server's concurrent requests would not be real.
        folder = request.getfixturevalue("tmp_path_factory").mktemp("sqlite")
        settings.DATABASES["default"]["TEST"]["NAME"] = str(folder / "test.sqlite3")
        return
    server = request.getfixturevalue("postgresql_server")
    settings.DATABASES["default"].update(
        ENGINE="hubsite.postgresql",  # as hubsite.settings makes it
        NAME="hub",
        HOST=server.host,
        PORT=server.port,
        USER=server.user,
        PASSWORD=server.password or "",
        CONN_MAX_AGE=0,
        # As hubsite.settings sets for PostgreSQL (the SQLite ones do not apply).
        OPTIONS={"prepare_threshold": 5},
    )
    # Something at start-up may already have opened the SQLite wrapper; start afresh.
    from django.db import connections

    connections.close_all()
    for alias in list(connections.settings):
        if hasattr(connections._connections, alias):
            delattr(connections._connections, alias)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


# Caches ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with nothing cached: ids repeat between tests on SQLite."""
    from django.core.cache import cache

    cache.clear()


def start_redis(folder: Path, port: int) -> subprocess.Popen:
    """A real redis-server (Debian's package) on 127.0.0.1 and ``port``, answering; skips
    where redis-server is not installed (scripts/test installs it)."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    command = [executable, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "log")]
    process = subprocess.Popen(command)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.terminate()
    pytest.fail(f"redis-server did not answer on port {port}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> str:
    """A real redis-server for the whole run; its URL."""
    port = processes.free_port()
    process = start_redis(tmp_path_factory.mktemp("redis"), port)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings) -> str:
    """Run a test with each cache backend the site supports: each process's local memory (the
    default) and Redis (``CACHE_URL``), against a real redis-server."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "hubsite.redis_cache.RedisCache",
                "LOCATION": request.getfixturevalue("redis_server"),
                "KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            }
        }
    from django.core.cache import cache

    cache.clear()
    return request.param


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", full_name="Alice Liddell")


@pytest.fixture
def stranger(db):
    return UserFactory(username="mallory", full_name="Mallory Stranger")


@pytest.fixture
def org(owner):
    organization = OrganizationFactory(namespace__name="wonderland")
    MembershipFactory(organization=organization, user=owner, role="admin")
    return organization


@pytest.fixture
def writer(org):
    user = UserFactory(username="bob", full_name="Bob Writer")
    MembershipFactory(organization=org, user=user, role="write")
    return user


@pytest.fixture
def reader(org):
    user = UserFactory(username="carol", full_name="Carol Reader")
    MembershipFactory(organization=org, user=user, role="read")
    return user


@pytest.fixture
def staff(db):
    return UserFactory(username="staffer", full_name="Stef Staff", is_staff=True, is_superuser=True)


@pytest.fixture
def view_only_staff(db):
    """A staff account that may look at everything in the admin and change nothing."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="viewer", full_name="Vera Viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def support_staff(db):
    """A staff account in the ready-made "Support staff" group, and nothing else."""
    from django.contrib.auth.models import Group

    user = UserFactory(username="helper", full_name="Hal Helper", is_staff=True)
    user.groups.add(Group.objects.get(name="Support staff"))
    return user


# Browser -------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


# Reports every Content-Security-Policy violation in every page to Python (an init script runs
# before the page's own scripts and is not subject to the page's policy).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__hubCspCount = (window.__hubCspCount || 0) + 1;
  window.__hubReportCsp(
    `${location.pathname}: ${e.effectiveDirective} blocked ${e.blockedURI || "?"}` +
    ` (${e.sourceFile || "?"}:${e.lineNumber}) ${e.sample || ""}`
  );
});
"""


@pytest.fixture
def csp_violations() -> list[str]:
    """The Content-Security-Policy violations the ``page`` saw; none may be left at the end."""
    return []


@pytest.fixture
def page(browser, live_server, request, csp_violations):
    """A fresh browser context pointed at the live server; a screenshot is kept on failure.
    Every test that uses it also proves its pages break no rule of the Content-Security-Policy."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.expose_function("__hubReportCsp", lambda text: csp_violations.append(text))
    context.add_init_script(CSP_LISTENER)
    pg = context.new_page()
    yield pg
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=ARTIFACTS / f"FAILED-{request.node.name}.png", full_page=True)
    elif not pg.is_closed():
        pg.evaluate("0")  # a round trip, so reports already sent are received
    context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/screenshots/ to look at."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None) -> Path:
        path = folder / f"{name}.png"
        (target or page).screenshot(path=path, full_page=True)
        return path

    return take


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_collection_modifyitems(config, items):
    if USE_SQLITE:
        return
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
