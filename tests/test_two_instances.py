"""Two web servers, as README "Several web servers" sets them up: two gunicorn processes with
production settings on their own ports, sharing the test PostgreSQL database, one folder of the
SeaweedFS bucket, one Redis and the DataCite-like server, with one task worker. Each visitor's
requests go to the two in turn (round-robin, redirects included), so every step of every flow is
served by the other instance than the one before it.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
import redis
import requests
from django.db import connection

from tests import object_store as object_store_module
from tests import processes
from tests.datacite_server import PASSWORD, REPOSITORY_ID, FakeDataCite
from tests.processes import BASE_DIR

pytestmark = pytest.mark.django_db(transaction=True)

# The page's form, not the header's "Log out".
MAIN_FORM = "//form[@method='post'][not(contains(@action, '/logout'))]"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
USER_PASSWORD = "correct horse battery staple"
LIMITS = {
    "LOGIN_FAILURE_LIMIT": "3",
    "SIGNUPS_PER_IP_PER_HOUR": "3",
    "DOI_QUOTA_PER_REPO_PER_DAY": "1",
    "SUPPORT_REQUESTS_PER_USER_PER_DAY": "1",
}


@dataclass
class Hub:
    bases: list[str]
    datacite: FakeDataCite
    folder: str
    cache_url: str
    var_dirs: list[Path]


@pytest.fixture(scope="module")
def hub(django_db_setup, object_store, redis_server, tmp_path_factory):
    """The two instances and their task worker, for the module's tests."""
    folder = tmp_path_factory.mktemp("two-instances")
    database = connection.settings_dict
    datacite = FakeDataCite(slow_seconds=1.0).start()
    bucket_folder = object_store.new_folder()
    cache_url = redis_server.rsplit("/", 1)[0] + "/1"  # a database of its own in the Redis
    ports = [processes.free_port(), processes.free_port()]
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SITE_", "S3_", "DATABASE_", "CACHE_", "DOI_", "DATACITE_"))
    }
    env = {
        **inherited,
        **LIMITS,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{ports[0]}",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "S3_BUCKET": object_store_module.BUCKET,
        "S3_LOCATION": bucket_folder,
        "S3_ENDPOINT_URL": object_store.endpoint_url,
        "S3_ACCESS_KEY_ID": object_store_module.ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": object_store_module.SECRET_KEY,
        "CACHE_URL": cache_url,
        "TASKS_BACKEND": "database",
        "DOI_REGISTRAR": "datacite",
        "DATACITE_API_URL": datacite.url,
        "DATACITE_REPOSITORY_ID": REPOSITORY_ID,
        "DATACITE_PASSWORD": PASSWORD,
        "LOG_LEVEL": "WARNING",
    }
    collect_static(env, folder)
    started = []
    var_dirs = []
    try:
        for n, port in enumerate(ports):
            # Each instance's own folder for local files: nothing may be written there.
            var = folder / f"instance-{n}"
            var.mkdir()
            var_dirs.append(var)
            command = processes.gunicorn_command(port, workers=1)
            started.append(
                processes.spawn(command, {**env, "HUB_VAR_DIR": str(var)}, folder / f"web-{n}.log")
            )
        worker_env = {**env, "HUB_VAR_DIR": str(folder / "worker")}
        started.append(
            processes.spawn(processes.DB_WORKER_COMMAND, worker_env, folder / "worker.log")
        )
        for n, port in enumerate(ports):
            processes.wait_until_serving(port, folder / f"web-{n}.log")
        yield Hub(
            bases=[f"http://127.0.0.1:{port}" for port in ports],
            datacite=datacite,
            folder=bucket_folder,
            cache_url=cache_url,
            var_dirs=var_dirs,
        )
    finally:
        processes.stop(started)
        datacite.stop()


def collect_static(env: dict[str, str], folder: Path) -> None:
    """The static files' manifest the production storage reads, without compressing every file
    (which takes the better part of a minute on a busy machine and changes nothing here)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env={
            **env,
            "HUB_VAR_DIR": str(folder / "collectstatic"),
            "DJANGO_SETTINGS_MODULE": "tests.collectstatic_settings",
        },
        check=True,
    )


@pytest.fixture
def datacite(hub) -> FakeDataCite:
    """The DataCite-like server, empty: the database starts empty for each test too, so DOI
    numbers start again."""
    with hub.datacite.lock:
        hub.datacite.records.clear()
        hub.datacite.requests.clear()
    return hub.datacite


# A visitor whose requests go to the instances in turn -----------------------------------------


@dataclass
class Visitor:
    bases: list[str]
    session: requests.Session = field(default_factory=requests.Session)
    served: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._turns = itertools.cycle(self.bases)
        # A person's browser: the usage counts leave out python-requests, a robot by COUNTER.
        self.session.headers["User-Agent"] = BROWSER

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """``method`` ``path`` at the next instance, then each redirect at the one after."""
        base = next(self._turns)
        response = self.session.request(
            method, base + path, allow_redirects=False, timeout=60, **kwargs
        )
        self.served[base] += 1
        assert response.status_code < 500, f"{method} {path} at {base}: {response.status_code}"
        if response.is_redirect:
            location = urlsplit(urljoin(response.url, response.headers["Location"]))
            return self.request(
                "GET", location.path + (f"?{location.query}" * bool(location.query))
            )
        response.path = urlsplit(response.url).path  # type: ignore[attr-defined]
        return response

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def submit(
        self, page: requests.Response, data: dict, *, form: str = MAIN_FORM, files=None
    ) -> requests.Response:
        """Fill in the first form ``form`` (XPath) finds on ``page`` as a browser would: its
        own fields (hidden ones, the CSRF token, what is preselected) with ``data`` over them."""
        found = lxml.html.fromstring(page.text).xpath(form)
        assert found, f"no {form} on {page.path}"
        element = found[0]
        values = dict(element.form_values())
        values.update(data)
        action = element.get("action") or page.path
        return self.request(
            "POST", urljoin(page.path, action), data=values, files=files, headers={}
        )


def text(response: requests.Response) -> str:
    """The page's text as a person reads it (tags dropped, whitespace squeezed)."""
    return " ".join(lxml.html.fromstring(response.text).text_content().split())


def link(response: requests.Response, name: str) -> str:
    """The address of the first link whose text is ``name``."""
    document = lxml.html.fromstring(response.text)
    for anchor in document.iter("a"):
        if " ".join(anchor.text_content().split()) == name:
            return urljoin(response.path, anchor.get("href"))
    raise AssertionError(f"no link {name!r} on {response.path}")


def sign_up(visitor: Visitor, username: str) -> requests.Response:
    form = visitor.get("/join")
    return visitor.submit(
        form,
        {
            "username": username,
            "email": f"{username}@example.org",
            "full_name": "Ada Lovelace",
            "password1": USER_PASSWORD,
            "password2": USER_PASSWORD,
        },
    )


def log_in(visitor: Visitor, username: str, password: str = USER_PASSWORD) -> requests.Response:
    form = visitor.get("/login")
    return visitor.submit(form, {"username": username, "password": password})


# The flows ------------------------------------------------------------------------------------


def test_every_flow_works_whichever_instance_serves_each_request(hub, datacite, object_store):
    from doi.models import Doi, DoiUsageDay, Event
    from support.models import SupportRequest

    ada = Visitor(hub.bases)
    welcome = sign_up(ada, "ada")
    assert "Your account is ready" in text(welcome)
    ada.submit(welcome, {}, form="//form[contains(@action, '/logout')]")
    home = log_in(ada, "ada")
    assert home.path == "/"
    assert "ada" in text(ada.get("/"))  # signed in on the other instance too

    new = ada.get("/new")
    repo_page = ada.submit(new, {"name": "tiny-bert", "visibility": "public"})
    assert repo_page.path == "/ada/tiny-bert"

    upload = ada.get(link(repo_page, "Upload files"))
    card = b"---\nlicense: apache-2.0\n---\n# Tiny BERT\n\nA very small model.\n"
    weights = bytes(range(256)) * 64
    committed = ada.submit(
        upload,
        {"message": "Add the card and weights"},
        files=[("files", ("README.md", card)), ("files", ("weights.bin", weights))],
    )
    assert re.search(r"Committed 2 files as revision [0-9a-f]{7}", text(committed))
    page = ada.get("/ada/tiny-bert")
    assert "A very small model." in text(page)
    assert ada.get(link(page, "weights.bin")).status_code == 200
    assert ada.get("/ada/tiny-bert/resolve/main/weights.bin").content == weights
    stored = object_store.keys(hub.folder)
    assert any(key.startswith("blobs/") for key in stored), stored

    # The repository page's pieces are rendered by one instance and read by the other.
    cache = redis.Redis.from_url(hub.cache_url)
    ada.get("/ada/tiny-bert")
    pieces = cache.dbsize()
    ada.get("/ada/tiny-bert")
    assert pieces and cache.dbsize() == pieces

    form = ada.get("/ada/tiny-bert/settings/doi/generate")
    generated = ada.submit(
        form,
        {
            "authors-0-type": "Personal",
            "authors-0-name": "Ada Lovelace",
            "acknowledge": "on",
            "action": "generate",
        },
        form="//form[contains(@class, 'doi-form')]",
    )
    assert generated.path == "/ada/tiny-bert/settings"
    assert "its registration is under way" in text(generated)
    version = Doi.objects.versions().get(repo__name="tiny-bert")
    processes.wait_for(
        lambda: (
            datacite.state(version.doi) == "findable"
            and datacite.state(version.concept.doi) == "findable"
        ),
        60,
        "the task worker to register the DOIs",
    )
    processes.wait_for(
        lambda: Doi.objects.live().filter(pending_action="").count() == 2,
        30,
        "both DOIs to be settled here",
    )
    assert set(datacite.records) == {version.doi.upper(), version.concept.doi.upper()}
    minted = Event.objects.filter(kind=Event.Kind.MINTED)
    assert sorted(minted.values_list("doi__doi", flat=True)) == sorted(
        [version.doi, version.concept.doi]
    )
    for _ in hub.bases:
        assert f"doi:{version.doi}" in text(ada.get("/ada/tiny-bert"))

    # Counted once although the second look came to the other instance within 30 s: the
    # double-click rule needs the shared cache.
    ada.get(f"/doi/{version.doi}")
    ada.get(f"/doi/{version.doi}")
    assert DoiUsageDay.objects.get(doi=version).total_investigations == 1

    settings_page = ada.get("/ada/tiny-bert/settings")
    ask = ada.get(link(settings_page, "Request deletion"))
    filed = ada.submit(ask, {"reason": "Published by mistake."})
    [request] = SupportRequest.objects.all()
    assert filed.path == request.get_absolute_url()
    assert "Published by mistake." in text(ada.get(request.get_absolute_url()))

    from accounts.models import User

    User.objects.create_superuser("stef", "stef@example.org", USER_PASSWORD)
    stef = Visitor(hub.bases)
    admin_login = stef.get("/admin/login/")
    desk = stef.submit(admin_login, {"username": "stef", "password": USER_PASSWORD})
    assert desk.path == "/admin/"
    listing = stef.get("/admin/support/supportrequest/")
    assert "ada/tiny-bert" in text(listing)
    change = stef.get(f"/admin/support/supportrequest/{request.pk}/change/")
    assert "Published by mistake." in text(change)

    for visitor in (ada, stef):
        assert set(visitor.served) == set(hub.bases)
        assert abs(visitor.served[hub.bases[0]] - visitor.served[hub.bases[1]]) <= 1
    # Nothing was kept on either instance's own disk.
    for var in hub.var_dirs:
        assert [p for p in var.rglob("*") if p.is_file()] == []


def test_limits_and_log_in_lockouts_hold_across_instances(hub, datacite):
    """Each limit counts what every instance let through (rows in the shared database)."""
    for n in range(3):
        visitor = Visitor(hub.bases[n % 2 :] + hub.bases[: n % 2])
        assert "Your account is ready" in text(sign_up(visitor, f"user{n}"))
    refused = sign_up(Visitor(hub.bases), "user3")
    assert refused.status_code == 429
    assert "3 accounts were created from your network in the last hour" in text(refused)

    owner = Visitor(hub.bases)
    assert log_in(owner, "user0").path == "/"
    owner.submit(owner.get("/new"), {"name": "small", "visibility": "public"})
    for message in ("First", "Second"):
        upload = owner.get("/user0/small/upload")
        owner.submit(upload, {"message": message}, files=[("files", ("a.txt", message.encode()))])
        generate = owner.get("/user0/small/settings/doi/generate")
        answer = owner.submit(
            generate,
            {"authors-0-type": "Personal", "authors-0-name": "Ada Lovelace"}
            | {"acknowledge": "on", "action": "generate"},
            form="//form[contains(@class, 'doi-form')]",
        )
    assert "This repository got 1 DOI in the last 24 hours" in text(answer)

    settings_page = owner.get("/user0/small/settings")
    owner.submit(owner.get(link(settings_page, "Request deletion")), {"reason": "Mistake."})
    ask = owner.get(link(owner.get("/user0/small/settings"), "Request a rename or move"))
    second = owner.submit(ask, {"new_name": "smaller", "reason": "A better name."})
    assert "You filed 1 support request in the last 24 hours" in text(second)

    # Three wrong passwords, sent to the instances in turn, pause log-in for the account
    # (and the address) on both: the right password is refused too.
    intruder = Visitor(hub.bases)
    page = intruder.get("/login")
    for _ in range(3):
        page = intruder.submit(page, {"username": "user1", "password": "wrong password"})
    for _ in hub.bases:
        refused = intruder.submit(page, {"username": "user1", "password": USER_PASSWORD})
        assert "Too many failed log-ins" in text(refused)
