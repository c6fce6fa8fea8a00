"""Time hot pages in one run, interleaved, and print each one's median as a ratio to a baseline.

Machines here are noisy, so absolute times mean little; the pages are requested round-robin so
that any slowdown hits all of them alike, and only the ratios are meant to be compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubsite.settings")
django.setup()

from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from doi.models import Doi  # noqa: E402
from repos.models import Repo  # noqa: E402

CARD = "---\nlicense: apache-2.0\ntags: [text-classification]\n---\n# {name}\n\nA small model.\n"


def make_repo(owner: User, name: str, versions: int) -> Repo:
    repo = Repo.objects.create(namespace=owner.namespace, name=name)
    for i in range(max(versions, 1)):
        repo.commit(
            author=owner,
            message=f"Revision {i}",
            add={"README.md": CARD.format(name=name).encode(), f"file{i}.txt": b"x" * 100},
        )
        if versions:
            Doi.objects.mint(
                repo=repo,
                user=owner,
                creators=[
                    {
                        "type": "Personal",
                        "name": "Ada Lovelace",
                        "given_name": "Ada",
                        "family_name": "Lovelace",
                        "orcid": "",
                        "affiliation": "",
                    }
                ],
                consent_text="benchmark",
                consent_version="bench",
            )
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    owner = User.objects.create_user("bench", "bench@example.org", "pw", full_name="Ada Lovelace")
    plain = make_repo(owner, "no-doi", versions=0)
    one = make_repo(owner, "one-doi", versions=1)
    ten = make_repo(owner, "ten-dois", versions=10)
    latest = Doi.objects.latest_version_for(ten)
    pages = {
        "repo page, no DOI (baseline)": (plain.get_absolute_url(), {}),
        "repo page, 1 DOI": (one.get_absolute_url(), {}),
        "repo page, 10 version DOIs": (ten.get_absolute_url(), {}),
        "/doi/ redirect": (f"/doi/{latest.doi}", {}),
        "/doi/ BibTeX": (f"/doi/{latest.doi}", {"HTTP_ACCEPT": "application/x-bibtex"}),
        "/doi/ APA": (f"/doi/{latest.doi}", {"HTTP_ACCEPT": "text/x-bibliography"}),
        "/doi/ DataCite XML": (
            f"/doi/{latest.doi}",
            {"HTTP_ACCEPT": "application/vnd.datacite.datacite+xml"},
        ),
        "/models listing": ("/models", {}),
    }
    client = Client()
    timings: dict[str, list[float]] = {name: [] for name in pages}
    for name, (url, headers) in pages.items():  # warm up, and check every page answers
        status = client.get(url, **headers).status_code
        assert status in (200, 302), f"{name}: HTTP {status}"
    for _ in range(args.rounds):
        for name, (url, headers) in pages.items():
            start = time.perf_counter()
            client.get(url, **headers)
            timings[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in timings.items()}
    baseline = next(iter(medians.values()))
    print(f"{'page':<32} {'median ms':>10} {'ratio':>7}   ({args.rounds} rounds, interleaved)")
    for name, median in medians.items():
        print(f"{name:<32} {median * 1000:>10.2f} {median / baseline:>7.2f}")


if __name__ == "__main__":
    main()
