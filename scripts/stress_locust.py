"""The clients of scripts/stress's load runs, for locust: anonymous visitors and members.

Reads what to request from the JSON file in ``STRESS_PLAN`` (written by scripts/stress.py) and
writes the count of answers by status, and of connection errors, to ``STRESS_COUNTS`` at the end.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from itertools import count
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["STRESS_PLAN"]).read_text())
COUNTS: Counter[str] = Counter()
CITATION_FORMATS = ("bibtex", "ris", "csl", "xml")
_sessions = count()


@events.request.add_listener
def _count(response=None, exception=None, **kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    if status == 0:
        COUNTS["connection errors"] += 1
    else:
        COUNTS[str(status)] += 1


@events.quitting.add_listener
def _write_counts(**kwargs) -> None:
    Path(os.environ["STRESS_COUNTS"]).write_text(json.dumps(COUNTS))


class Visitor(HttpUser):
    """Someone without an account: pages, DOI landings, citation downloads."""

    weight = 3
    wait_time = between(0.5, 2)

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(1)
    def listing(self) -> None:
        self.client.get("/models", name="/models")

    @task(4)
    def repository(self) -> None:
        self.client.get(random.choice(PLAN["repos"]), name="repository page")

    @task(3)
    def doi_landing(self) -> None:
        self.client.get(f"/doi/{random.choice(PLAN['dois'])}", name="/doi/<doi> (landing)")

    @task(2)
    def citation_download(self) -> None:
        doi = random.choice(PLAN["dois"])
        fmt = random.choice(CITATION_FORMATS)
        self.client.get(f"/doi/{doi}?format={fmt}", name="/doi/<doi>?format= (download)")

    @task(1)
    def citation_negotiated(self) -> None:
        self.client.get(
            f"/doi/{random.choice(PLAN['dois'])}",
            headers={"Accept": "text/x-bibliography"},
            name="/doi/<doi> as APA",
        )


class Member(HttpUser):
    """A logged-in owner: the settings pages of their repositories and their profile. Nothing
    here redirects, so a redirect (to the login page) shows in the counts as a 3xx."""

    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        sessions = PLAN["members"]
        self.member = sessions[next(_sessions) % len(sessions)]
        self.client.cookies.set("sessionid", self.member["session"])

    @task(3)
    def repo_settings(self) -> None:
        self.client.get(
            random.choice(self.member["settings"]),
            name="repository settings",
            allow_redirects=False,
        )

    @task(1)
    def profile(self) -> None:
        self.client.get("/settings/profile", name="/settings/profile", allow_redirects=False)

    @task(1)
    def own_repository(self) -> None:
        url = random.choice(self.member["settings"]).removesuffix("/settings")
        self.client.get(url, name="repository page (member)", allow_redirects=False)
