"""Measure what a visitor meets: hub pages over real HTTP, as ratios to the framework's floor.

Run through scripts/bench (see README "Benchmarks"). For each database (PostgreSQL, started here,
and the SQLite default) and each scale (about 1,000 and 1,000,000 repositories; 100,000 on
SQLite unless --sqlite-scales says otherwise) the script seeds a database of its own, starts
gunicorn with production settings on it (DEBUG off, 2 sync workers, the benchmark's settings
module ``scripts.bench_settings``, which adds the floor view and a query counter to the
product's settings), and then loads every page with wrk, in interleaved rounds: each round runs
each page on each server in turn, so that whatever else the machine does hits them all alike.
Each page is reported as a ratio to the floor ("ok" through the same middleware) of its own
server, measured just before and just after it, and each large scale as a ratio to its small
one.

Seeding: the repositories the pages show are made through the product's own API (commits, DOIs
minted with the local registrar); the rest of the scale (users, organizations, memberships,
public and private repositories with a revision each, a tenth with DOIs, one in a thousand with
50 versions) is bulk loaded: COPY on PostgreSQL, executemany on SQLite, then VACUUM ANALYZE
(ANALYZE on SQLite).

Everything listens on 127.0.0.1. The query plans (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY
PLAN on SQLite) of every page's queries are written to var/bench/ with the table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stress import BASE_DIR, Postgres, free_port, http_ok, log, session_for, wait_for

RESULTS_DIR = BASE_DIR / "var" / "bench"
SETTINGS = "scripts.bench_settings"
QUERY_HEADER = "X-Bench-Queries"

# The filler's names: searching one of the families matches about an eighth of all repositories.
FAMILIES = ("bert", "gpt", "llama", "resnet", "whisper", "t5", "clip", "yolo")
VARIANTS = ("base", "large", "tiny", "small", "finetuned", "sentiment", "ner", "squad", "qa")
LICENSES = ("mit", "apache-2.0", "cc-by-4.0", "openrail", "")
CARD = """---
license: apache-2.0
tags: [text-classification, sentiment]
datasets: [imdb]
---
# {name}

A small text classifier, fine-tuned from a base model on movie reviews.

## Model details

- **Developed by:** Ada Lovelace
- **Model type:** encoder, 12 layers, 110 M parameters
- **Licence:** Apache-2.0

## Uses

Classify the sentiment of short English texts. Not for medical, legal or financial decisions.

```python
from transformers import pipeline
classifier = pipeline("text-classification", model="{name}")
classifier("A wonderful little film.")
```

## Training

| hyper-parameter | value |
|---|---|
| learning rate | 2e-5 |
| batch size | 32 |
| epochs | 3 |

## Evaluation

Accuracy 0.93 on the IMDb test split; see the [paper](https://example.org/paper) for details.
"""
AUTHOR = {
    "type": "Personal",
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
}


# The run --------------------------------------------------------------------------------------


@dataclass
class Target:
    """One server: a database at one scale, seeded, and gunicorn on it."""

    database: str
    scale: int
    env: dict
    port: int = field(default_factory=free_port)
    plan: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    # The processes whose CPU time serves this target's requests: gunicorn, and PostgreSQL.
    cpu_roots: list[int] = field(default_factory=list)
    plan_file: Path | None = None

    @property
    def name(self) -> str:
        return f"{self.database}-{self.scale}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, page: list) -> str:
        """The page's address on this server: from its own seeding, since revision ids (in a
        file's address) differ from one database to the next."""
        paths = {name: path for name, path, *_ in self.plan["pages"]}
        return self.base + paths[page[0]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", default="postgres,sqlite", help="postgres, sqlite or both")
    parser.add_argument("--scales", default="1000,1000000", help="repositories, comma-separated")
    parser.add_argument(
        "--sqlite-scales",
        default="1000,100000",
        help="scales on SQLite (a million takes SQLite's executemany about 20 minutes on a "
        "busy 2-core machine; --sqlite-scales 1000,1000000 to wait for it)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4, help="of wrk per page and round")
    parser.add_argument(
        "--floor-seconds", type=int, default=2, help="of wrk per floor run (one between pages)"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pages", help="only the pages whose name contains this")
    parser.add_argument(
        "--instructions",
        type=int,
        default=INSTRUCTION_REQUESTS,
        help="requests of each page to count the instructions of under valgrind (0: none)",
    )
    parser.add_argument(
        "--report-from", help="print the table again from a run's raw.json (with its options)"
    )
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--answer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        return seed_database(args.seed, Path(args.plan))
    if args.answer is not None:
        return answer_in_process(Path(args.plan), args.answer, args.instructions)
    if args.report_from:
        print(report_from(Path(args.report_from), args))
        return 0

    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if set(databases) - {"postgres", "sqlite"}:
        parser.error("--databases takes postgres, sqlite or both")
    scales = {d: _scales(args.scales) for d in databases}
    if "sqlite" in scales:
        scales["sqlite"] = _scales(args.sqlite_scales)

    workdir = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # The 50-version repository gets its 50 DOIs at once; the daily quotas would refuse.
        "DOI_QUOTA_PER_REPO_PER_DAY": "0",
        "DOI_QUOTA_PER_USER_PER_DAY": "0",
        "TASKS_BACKEND": "immediate",
        "DOI_REGISTRAR": "local",
    }
    base_env.pop("DATABASE_URL", None)
    postgres = None
    targets: list[Target] = []
    started = time.monotonic()
    try:
        log("collectstatic (production static files)")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env={**base_env, "HUB_VAR_DIR": str(workdir / "collectstatic")},
            check=True,
        )
        if "postgres" in databases:
            postgres = Postgres(workdir / "pg")
            postgres.start()
        for database in databases:
            for scale in scales[database]:
                target = Target(database, scale, env={})
                target.env = {
                    **base_env,
                    "HUB_VAR_DIR": str(workdir / target.name),
                    "SITE_URL": target.base,
                }
                if database == "postgres":
                    target.env["DATABASE_URL"] = postgres.create_database(f"bench_{scale}")
                plan_file = workdir / f"{target.name}.json"
                log(f"Seeding {target.name}")
                subprocess.run(
                    [sys.executable, __file__, "--seed", str(scale), "--plan", str(plan_file)],
                    cwd=BASE_DIR,
                    env=target.env,
                    check=True,
                )
                target.plan = json.loads(plan_file.read_text())
                target.plan_file = plan_file
                targets.append(target)
        for target in targets:
            start_gunicorn(target, workdir)
            target.cpu_roots = [target.process.pid]
            if target.database == "postgres":
                target.cpu_roots.append(postgres.pid)
        pages = [p for p in targets[0].plan["pages"] if not args.pages or args.pages in p[0]]
        pages = [targets[0].plan["pages"][0], *(p for p in pages if p[0] != "floor")]
        queries = count_queries(targets, pages)
        results = run_rounds(targets, pages, args)
        save_raw(targets, pages, queries, results, {})  # kept, should the counting fail
        instructions = count_instructions(targets, pages, workdir, args.instructions)
    finally:
        for target in targets:
            if target.process is not None and target.process.poll() is None:
                target.process.terminate()
                target.process.wait(30)
        if postgres is not None:
            postgres.stop()
    save_raw(targets, pages, queries, results, instructions)
    report = format_report(
        targets, pages, queries, results, instructions, args, time.monotonic() - started
    )
    print(report)
    (RESULTS_DIR / "report.txt").write_text(report + "\n")
    log(f"The table, the raw figures and every page's query plans are in {RESULTS_DIR}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _scales(text: str) -> list[int]:
    return sorted(int(s.replace("_", "")) for s in text.split(",") if s.strip())


def start_gunicorn(target: Target, workdir: Path) -> None:
    logfile = open(workdir / f"gunicorn-{target.name}.log", "ab")  # noqa: SIM115 (the run's)
    command = [sys.executable, "-m", "gunicorn", "hubsite.wsgi", "--no-control-socket"]
    command += ["--bind", f"127.0.0.1:{target.port}", "--workers", "2"]
    log(f"gunicorn for {target.name} on {target.base}")
    target.process = subprocess.Popen(
        command, cwd=BASE_DIR, env=target.env, stdout=logfile, stderr=logfile
    )
    wait_for(lambda: http_ok(f"{target.base}/bench/floor"), 120, f"gunicorn of {target.name}")


def _headers(target: Target, page: list) -> dict:
    _, _, headers, logged_in = page
    headers = dict(headers)
    if logged_in:
        headers["Cookie"] = f"sessionid={target.plan['session']}"
    return headers


def count_queries(targets: list[Target], pages: list) -> dict:
    """Each page's database queries per request, from the bench middleware's header (outside
    the timed runs). Four requests each, so that both workers have served it: the fewest and
    the most seen. Also checks that each page answers as it should."""
    import requests

    log("Counting each page's queries (and warming up)")
    counts = {}
    for target in targets:
        for page in pages:
            name, _, _, logged_in = page
            seen = []
            for _ in range(4):
                response = requests.get(
                    target.url(page),
                    headers={**_headers(target, page), QUERY_HEADER: "1"},
                    allow_redirects=False,
                    timeout=60,
                )
                expected = 302 if "redirect" in name else 200
                if response.status_code != expected:
                    raise SystemExit(f"{target.name} {name}: HTTP {response.status_code}")
                if logged_in and "Log out" not in response.text:
                    raise SystemExit(f"{target.name} {name}: not logged in")
                seen.append(int(response.headers[QUERY_HEADER]))
            counts[target.name, name] = (min(seen), max(seen))
    return counts


def run_rounds(targets: list[Target], pages: list, args) -> dict:
    """{(target, page): [wrk result per round]}; every page on every server, in turn.

    Each run of a page is bracketed by runs of its own server's floor, just before it and
    just after it (the one after is also the next page's before), and its result carries
    their mean as ``floor``: the ratio compares runs seconds apart, not minutes, so that the
    machine slowing down or speeding up in between (others' work on a shared host) mostly
    cancels out."""
    results: dict = {}
    floor, rest = pages[0], pages[1:]
    runs = len(targets) * (2 * len(rest) + 1)
    minutes = len(targets) * len(rest) * (args.seconds + args.floor_seconds + 0.6) / 60
    for round_number in range(1, args.rounds + 1):
        log(f"Round {round_number} of {args.rounds}: {runs} runs (about {minutes:.0f} min)")
        before = {t.name: _run(t, floor, args.floor_seconds, results, args) for t in targets}
        for page in rest:
            for target in targets:
                outcome = _run(target, page, args.seconds, results, args)
                after = _run(target, floor, args.floor_seconds, results, args)
                outcome["floor"] = (before[target.name]["rps"] + after["rps"]) / 2
                before[target.name] = after
    return results


def _run(target: Target, page: list, seconds: int, results: dict, args) -> dict:
    """Loads ``page`` for ``seconds``, and keeps and gives wrk's result, with the CPU time the
    server (gunicorn and its database) spent per request answered, in ms."""
    cpu_before = cpu_seconds(target.cpu_roots)
    outcome = wrk(target.url(page), _headers(target, page), seconds, args)
    cpu = cpu_seconds(target.cpu_roots) - cpu_before
    outcome["cpu_ms"] = _ratio(cpu * 1000, outcome["requests"])
    results.setdefault((target.name, page[0]), []).append(outcome)
    if page[0] != "floor":
        log(
            f"  {target.name:<16} {page[0]:<36} {outcome['rps']:>8.0f} req/s  "
            f"p50 {outcome['p50']:.1f} ms  p99 {outcome['p99']:.1f} ms  "
            f"cpu {outcome['cpu_ms']:.2f} ms"
            + (f"  {outcome['errors']} errors" if outcome["errors"] else "")
        )
    return outcome


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def wrk(url: str, headers: dict, seconds: int, args) -> dict:
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def latency(percent: str) -> float:
        number, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(number) * _UNITS[unit]

    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := SOCKET_ERRORS.search(output):
        errors += sum(map(int, match.groups()))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": errors,
    }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(roots: list[int]) -> float:
    """The CPU time (user and system) that the processes ``roots`` and all their descendants
    have used: the ones alive, and the ones that have exited (in their parents' cutime and
    cstime). Unlike requests per second, it does not move with what else the machine runs: the
    time another process or the hypervisor takes a core for is not counted in it."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # it has exited since the listing
            continue
        fields = text.rsplit(")", 1)[1].split()  # the name in brackets may hold spaces
        # proc(5): ppid is field 4; utime, stime, cutime and cstime fields 14 to 17.
        stats[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:15])))
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    ticks, todo = 0, [pid for pid in roots if pid in stats]
    while todo:
        pid = todo.pop()
        ticks += stats[pid][1]
        todo += children.get(pid, [])
    return ticks / CLOCK_TICKS


# Instructions per request: what a page costs, counted, not timed ----------------------------------

INSTRUCTION_REQUESTS = 200
INSTRUCTION_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count_instructions(targets: list[Target], pages: list, workdir: Path, requests: int) -> dict:
    """{(target, page): the CPU instructions one request of the page takes in the Python
    process}, counted by valgrind's cachegrind. Requests per second, and CPU time with them,
    move with the machine (its caches, the hypervisor's other guests); the count of the same
    work hardly does: two runs' totals differ by up to two parts in a thousand, which over 200
    requests is up to about 75,000 instructions a request (2.5 % of a repository page). Each
    count is of Django's production request handler (``WSGIHandler``, the one gunicorn calls,
    with the product's middleware) answering the page ``requests`` times in one process, less
    a run that did all but those: the start-up, the imports and a warm-up of every page, the
    same in both, cancel out. SQLite runs in that process, so its count is the database's work
    too; PostgreSQL's server is a process of its own, which the count leaves out (its share is
    in the query plans)."""
    if requests <= 0:
        return {}
    if not shutil.which("valgrind"):
        log("valgrind is not installed (apt-get install valgrind): no instruction counts")
        return {}
    counts = {}
    for target in targets:
        log(f"Counting instructions per request on {target.name} (valgrind, {requests} each)")
        env = {**target.env, "PYTHONHASHSEED": "0"}  # the same hashes in every run
        # Compiled once (not under valgrind, and not into the tree), so that no run compiles
        # a module another has not: the count is of answering, not of compiling.
        env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _answer(target, env, "", 0, valgrind=False)
        names = ["", *(name for name, *_ in pages)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            runs = {name: pool.submit(_answer, target, env, name, requests) for name in names}
        totals = {name: run.result() for name, run in runs.items()}
        for name in names[1:]:
            counts[target.name, name] = (totals[name] - totals[""]) / requests
            log(f"  {target.name:<16} {name:<36} {counts[target.name, name] / 1e6:>8.3f} M")
    return counts


def _answer(target: Target, env: dict, page: str, requests: int, *, valgrind=True) -> int:
    """Runs ``answer_in_process``, under valgrind unless told otherwise: the instructions."""
    command = [sys.executable, __file__, "--plan", str(target.plan_file)]
    command += ["--answer", page, "--instructions", str(requests)]
    if valgrind:
        tool = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
        ]
        command = [*tool, *command]
    done = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{target.name} {page}: {done.stderr[-2000:]}")
    return int(INSTRUCTION_REFS.search(done.stderr).group(1).replace(",", "")) if valgrind else 0


def answer_in_process(plan_file: Path, page_name: str, requests: int) -> int:
    """Under valgrind (``count_instructions``): answers every page of the plan twice (imports,
    caches, the database's pages warm), then ``page_name`` ``requests`` times more."""
    import django

    django.setup()
    from wsgiref.util import setup_testing_defaults

    from django.core.handlers.wsgi import WSGIHandler

    plan = json.loads(plan_file.read_text())
    handler = WSGIHandler()

    def answer(page: list) -> None:
        name, path, headers, logged_in = page
        path, _, query = path.partition("?")
        environ = {"PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": "127.0.0.1"}
        for key, value in headers.items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        if logged_in:
            environ["HTTP_COOKIE"] = f"sessionid={plan['session']}"
        setup_testing_defaults(environ)
        statuses = []
        body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        body.close()
        expected = "302" if "redirect" in name else "200"
        if not statuses[0].startswith(expected):
            raise SystemExit(f"{name}: {statuses[0]}")

    for page in plan["pages"] * 2:
        answer(page)
    for page in plan["pages"]:
        if page[0] == page_name:
            for _ in range(requests):
                answer(page)
    return 0


# The report -----------------------------------------------------------------------------------


def format_report(
    targets, pages, queries, results, instructions, args, elapsed: float | None
) -> str:
    load = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        f"scripts/bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"load average {' '.join(load)} at the end; {args.rounds} interleaved rounds of "
        f"{args.seconds} s per page between {args.floor_seconds} s runs of the floor, "
        f"wrk -t2 -c{args.connections}, gunicorn 2 sync workers; "
        f"{elapsed / 60:.0f} min in all."
        if elapsed is not None
        else "",
        "req/s, p50 and p99: medians over the rounds; ratio: to the floor of the same server "
        "in the runs just before and after (median over the rounds); queries: per request.",
        "",
        "Seeding:",
    ]
    for t in targets:
        s = t.plan["seeding"]
        lines.append(
            f"  {t.name:<16} {s['repositories']:>9,} repositories, {s['users']:,} users, "
            f"{s['organizations']:,} organizations, {s['dois']:,} DOIs, "
            f"{s['revisions']:,} revisions: bulk {s['bulk_seconds']:.0f} s, "
            f"pages' repositories {s['api_seconds']:.0f} s, "
            f"(VACUUM) ANALYZE {s['analyze_seconds']:.0f} s"
        )
    for database in dict.fromkeys(t.database for t in targets):
        group = [t for t in targets if t.database == database]
        lines += ["", _table(database, group, pages, queries, results)]
    lines += ["", _doi_cost(targets, pages, results)]
    if instructions:
        lines += ["", _instruction_table(targets, pages, instructions)]
    errors = sum(o["errors"] for runs in results.values() for o in runs)
    lines += ["", f"Non-2xx/3xx answers and socket errors during the timed runs: {errors}."]
    return "\n".join(lines)


def _ratios(results, target: str, page: str) -> list[float]:
    """The page's ratio to its floor (the runs just before and after it), round by round."""
    if page == "floor":
        return [1.0 for _ in results[target, page]]
    return [_ratio(o["rps"], o["floor"]) for o in results[target, page]]


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")  # wrk saw no answer in its run: no ratio


def _median(values) -> float:
    """The median of the figures there are (a run wrk saw no answer in has no ratio)."""
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def _table(database: str, group: list[Target], pages, queries, results) -> str:
    head = f"{'page':<36}"
    for t in group:
        head += f" | {f'{t.scale:,} repos':>15} {'q':>5} {'req/s':>6} {'ratio':>5}"
        head += f" {'p50':>6} {'p99':>6} {'cpu':>5}"
    if len(group) > 1:
        head += f" | {'large/small':>11} {'by cpu':>6}"
    rows = [f"{database}", head, "-" * len(head)]
    for name, *_ in pages:
        row = f"{name:<36}"
        for t in group:
            runs = results[t.name, name]
            low, high = queries[t.name, name]
            row += (
                f" | {'':>15} {low if low == high else f'{low}-{high}':>5}"
                f" {_median(o['rps'] for o in runs):>6.0f}"
                f" {_median(_ratios(results, t.name, name)):>5.2f}"
                f" {_median(o['p50'] for o in runs):>6.1f}"
                f" {_median(o['p99'] for o in runs):>6.0f}"
                f" {_median(_cpu(results, t.name, name)):>5.2f}"
            )
        if len(group) > 1:
            small, large = group[0].name, group[-1].name
            change = _quotients(_ratios(results, large, name), _ratios(results, small, name))
            by_cpu = _quotients(_cpu(results, small, name), _cpu(results, large, name))
            row += f" | {_median(change):>11.2f} {_median(by_cpu):>6.2f}"
        rows.append(row)
    rows.append(
        "(q: queries per request; p50 and p99 in ms; cpu: ms of CPU time the server, gunicorn "
        "and its database, spent per request; large/small: the page's ratio at the largest "
        "scale over the smallest, round by round, median; by cpu: the smallest scale's CPU per "
        "request over the largest's, the same way; 1.00 = unchanged, below 1 = slower at scale)"
    )
    return "\n".join(rows)


def _cpu(results, target: str, page: str) -> list[float]:
    """The server's CPU ms per request of the page, round by round (nan from an older raw.json,
    which did not have it)."""
    return [o.get("cpu_ms", float("nan")) for o in results[target, page]]


def _quotients(a: list[float], b: list[float]) -> list[float]:
    """a over b, round by round: the two runs of a pair are minutes apart at most, so that the
    machine's drift between rounds cancels out."""
    return [_ratio(x, y) for x, y in zip(a, b, strict=True)]


def _spread(values: list[float]) -> str:
    """The median, and in brackets the middle half of the rounds (the first and third
    quartiles): how far one run's figure is from the next."""
    values = [v for v in values if v == v]
    if len(values) < 2:
        return f"{_median(values):.2f}"
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return f"{statistics.median(values):.2f} ({low:.2f}-{high:.2f})"


# Each page with DOIs, and the same page without: what the DOI tag and Cite panel cost.
DOI_PAIRS = [
    ("repo page, 1 DOI", "repo page, no DOI"),
    ("repo page, 50 versions with DOIs", "repo page, no DOI"),
    ("repo page, 50 versions, owner", "repo page, no DOI, owner"),
]


def _doi_cost(targets, pages, results) -> str:
    """Each page with DOIs over the same page without, round by round, median: by requests per
    second (each as its ratio to the floor), and by the server's CPU time per request (the
    page without over the page with, so that here too 1.00 is no cost and below 1 a cost)."""
    names = {name for name, *_ in pages}
    pairs = [(a, b) for a, b in DOI_PAIRS if a in names and b in names]
    if not pairs:
        return ""
    head = f"{'the DOI: page with DOIs / without':<64}" + "".join(
        f" | {t.name:>18}" for t in targets
    )
    rows = [head, "-" * len(head)]
    for with_dois, without in pairs:
        for measure in ("req/s", "cpu"):
            row = f"{f'{with_dois} / {without}, {measure}':<64}"
            for t in targets:
                if measure == "req/s":
                    quotients = _quotients(
                        _ratios(results, t.name, with_dois), _ratios(results, t.name, without)
                    )
                else:
                    quotients = _quotients(
                        _cpu(results, t.name, without), _cpu(results, t.name, with_dois)
                    )
                row += f" | {_spread(quotients):>18}"
            rows.append(row)
    rows.append(
        "(round by round: median (first-third quartile); 1.00 = the DOI costs nothing; the "
        "target is ≥ 0.95; cpu: the server's CPU ms per request without the DOIs over with)"
    )
    return "\n".join(rows)


def _instruction_table(targets, pages, instructions) -> str:
    """Millions of instructions per request; each large scale against its small one; and the
    DOIs' cost, the page without DOIs over the page with them."""
    groups = {}
    for t in targets:
        groups.setdefault(t.database, []).append(t.name)
    scaled = {database: names for database, names in groups.items() if len(names) > 1}
    head = f"{'instructions per request (millions)':<50}"
    head += "".join(f" | {t.name:>16}" for t in targets)
    head += "".join(f" | {f'{database} small/large':>20}" for database in scaled)
    rows = [head, "-" * len(head)]
    for name, *_ in pages:
        row = f"{name:<50}" + "".join(
            f" | {instructions[t.name, name] / 1e6:>16.3f}" for t in targets
        )
        for names in scaled.values():
            change = _ratio(instructions[names[0], name], instructions[names[-1], name])
            row += f" | {change:>20.3f}"
        rows.append(row)
    names = {name for name, *_ in pages}
    for with_dois, without in DOI_PAIRS:
        if with_dois in names and without in names:
            row = f"{f'the DOI: {without} / {with_dois.removeprefix("repo page, ")}':<50}"
            for t in targets:
                cost = _ratio(instructions[t.name, without], instructions[t.name, with_dois])
                row += f" | {cost:>16.3f}"
            rows.append(row)
    rows.append(
        "(valgrind's count of the instructions Django's request handler takes per request in "
        "the Python process, SQLite's included, PostgreSQL's server not; small/large: the "
        "smallest scale's count over the largest's, 1.000 = unchanged; the DOI: the page "
        "without over the page with, 1.000 = it costs nothing, the target is ≥ 0.95)"
    )
    return "\n".join(rows)


def report_from(raw_file: Path, args) -> str:
    raw = json.loads(raw_file.read_text())
    targets = []
    for name, seeding in raw["targets"].items():
        database, scale = name.rsplit("-", 1)
        targets.append(Target(database, int(scale), env={}, plan={"seeding": seeding}))

    def keyed(table: dict) -> dict:
        return {tuple(key.split(" | ", 1)): value for key, value in table.items()}

    queries, results = keyed(raw["queries"]), keyed(raw["results"])
    instructions = keyed(raw.get("instructions", {}))
    return format_report(targets, raw["pages"], queries, results, instructions, args, None)


def save_raw(targets, pages, queries, results, instructions) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    raw = {
        "targets": {t.name: t.plan["seeding"] for t in targets},
        "pages": pages,
        "queries": {f"{t} | {p}": c for (t, p), c in queries.items()},
        "results": {f"{t} | {p}": runs for (t, p), runs in results.items()},
        "instructions": {f"{t} | {p}": n for (t, p), n in instructions.items()},
    }
    (RESULTS_DIR / "raw.json").write_text(json.dumps(raw, indent=1))
    for target in targets:
        (RESULTS_DIR / f"explain-{target.name}.txt").write_text(target.plan["explain"])


# Seeding (in a process of its own, one per database) -------------------------------------------


def seed_database(scale: int, plan_file: Path) -> int:
    import django

    django.setup()
    logging.getLogger("django.tasks").setLevel(logging.WARNING)  # a line per DOI otherwise
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    counts = BulkSeed(connection, repositories=max(scale - 3, 0)).run()
    bulk_seconds = time.monotonic() - started
    log(f"  bulk: {counts} in {bulk_seconds:.0f} s")
    started = time.monotonic()
    pages, session = seed_pages()
    api_seconds = time.monotonic() - started
    log(f"  the pages' repositories, through the product's API: {api_seconds:.0f} s")
    started = time.monotonic()
    with connection.cursor() as cursor:
        # What a database that has served for a while has (autovacuum): statistics, and on
        # PostgreSQL the visibility map and hint bits a bulk load leaves unset, without which
        # an index-only scan still reads the table and every first read of a row writes.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    analyze_seconds = time.monotonic() - started
    explain = explain_pages(pages, session)
    plan = {
        "pages": pages,
        "session": session,
        "explain": explain,
        "seeding": {
            **counts,
            "repositories": counts["repositories"] + 3,
            "bulk_seconds": bulk_seconds,
            "api_seconds": api_seconds,
            "analyze_seconds": analyze_seconds,
        },
    }
    plan_file.write_text(json.dumps(plan))
    return 0


def seed_pages() -> tuple[list, str]:
    """The repositories the benchmark reads, made as an owner would; the pages to load as
    [name, path, headers, logged in]."""
    from accounts.models import User
    from doi.models import Doi
    from repos.models import Repo

    owner = User.objects.create_user("ada", "ada@example.org", full_name="Ada Lovelace")

    def make(name: str, versions: int, dois: bool) -> Repo:
        repo = Repo.objects.create(namespace=owner.namespace, name=name)
        for i in range(versions):
            repo.commit(
                author=owner,
                message=f"Revision {i}",
                # The same two files at every revision (the data file changes), so that the pages
                # with and without DOIs list the same files and differ by their DOIs alone.
                add={"README.md": CARD.format(name=name).encode(), "file0.txt": b"%d" % i * 100},
            )
            if dois:
                Doi.objects.mint(
                    repo=repo,
                    user=owner,
                    creators=[AUTHOR],
                    consent_text="benchmark",
                    consent_version="bench",
                )
        return repo

    plain = make("sentiment-no-doi", 1, dois=False)
    one = make("sentiment-one-doi", 1, dois=True)
    fifty = make("sentiment-fifty-versions", 50, dois=True)
    doi = Doi.objects.latest_version_for(fifty).doi
    download = one.url("blob", Doi.objects.latest_version_for(one).revision_oid, "file0.txt")
    # With a browser's agent the hub's own counting (doi/usage.py) runs; without one it stops
    # at the robots check. From one client all but the first answer in each 30 s are
    # double-clicks, so this is the check's cost, not the write's (one upsert, tested).
    person = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"}
    user_page = "/user7" if User.objects.filter(username="user7").exists() else "/ada"
    pages = [
        ["floor", "/bench/floor", {}, False],
        ["repo page, no DOI", plain.get_absolute_url(), {}, False],
        ["repo page, 1 DOI", one.get_absolute_url(), {}, False],
        ["repo page, 50 versions with DOIs", fifty.get_absolute_url(), {}, False],
        ["repo page, no DOI, owner", plain.get_absolute_url(), {}, True],
        ["repo page, 50 versions, owner", fifty.get_absolute_url(), {}, True],
        ["/doi/ redirect", f"/doi/{doi}", {}, False],
        ["/doi/ redirect, counted (browser)", f"/doi/{doi}", person, False],
        ["file at a DOI, no agent (uncounted)", download, {}, False],
        ["file at a DOI, counted (browser)", download, person, False],
        ["/doi/ BibTeX (Accept)", f"/doi/{doi}", {"Accept": "application/x-bibtex"}, False],
        ["/doi/ APA (Accept)", f"/doi/{doi}", {"Accept": "text/x-bibliography"}, False],
        # Settings → DOI is a section of the repository's settings page.
        ["settings with DOI section, owner", fifty.url("settings"), {}, True],
        ["/models", "/models", {}, False],
        ["/models?search=fifty (1 match)", "/models?search=fifty", {}, False],
        ["/models?search=bert (1/8 match)", "/models?search=bert", {}, False],
        [f"user page {user_page}", user_page, {}, False],
    ]
    return pages, session_for(owner)


def explain_pages(pages: list, session: str) -> str:
    """The plan of every SELECT each page makes, as the database runs it."""
    from django.db import connection
    from django.test import Client

    postgres = connection.vendor == "postgresql"
    out = []
    for name, path, headers, logged_in in pages:
        client = Client(headers={**headers, "Host": "127.0.0.1"})
        if logged_in:
            client.cookies["sessionid"] = session
        captured = []

        def capture(execute, sql, params, many, context, captured=captured):
            captured.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            client.get(path)
        out.append(f"=== {name}: GET {path} ({len(captured)} queries)")
        for sql, params in captured:
            if not sql.lstrip().upper().startswith("SELECT"):
                out.append(f"--- {sql} {params}")
                continue
            with connection.cursor() as cursor:
                if postgres:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                else:
                    cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                    plan = "\n".join(row[3] for row in cursor.fetchall())
            out += [f"--- {sql} {params}", plan]
        out.append("")
    return "\n".join(out)


def _oid(repository: int, version: int) -> str:
    """A revision id of the filler: 40 hex digits, unique in its repository."""
    return f"{repository:032x}{version:08x}"


class BulkSeed:
    """Users, organizations and repositories by the hundred thousand, loaded in bulk.

    One in ten namespaces' worth of users per ten repositories (each user about nine
    repositories, each organization about ten and three members); a fifth private; a quarter
    datasets; every repository a revision with a README whose metadata names a licence; a tenth
    (public ones) a version DOI and a concept DOI, with their locks and an event; one in a
    thousand 50 revisions, each with a version DOI. Rows go straight to the tables with the
    ids chosen here (foreign keys are checked at commit)."""

    def __init__(self, connection, *, repositories: int) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.repositories = repositories
        self.users = max(repositories // 10, 3)
        self.organizations = max(repositories // 100, 1)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.counts = dict.fromkeys(("users", "organizations", "dois", "revisions"), 0)
        self.times: dict[int, str] = {}

    def run(self) -> dict:
        from django.contrib.auth.hashers import make_password
        from django.db import transaction

        from repos.cards import parse_card
        from repos.models import Blob

        self.password = make_password(None)  # nobody logs in as the filler (and no hashing)
        readme = CARD.format(name="a-model")
        self.blob = Blob.store(readme.encode()).pk
        self.outline = json.dumps(parse_card(readme).outline())  # as a commit keeps it
        with transaction.atomic():
            if self.postgres:
                # Rows are consistent by construction: skip the per-row foreign key triggers
                # (a bulk load's usual practice; the benchmark's server runs as superuser).
                with self.connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
            self.load_accounts()
            self.load_repositories()
        self.reset_sequences()
        return {"repositories": self.repositories, **self.counts}

    # Rows ---------------------------------------------------------------------------------------

    def time(self, seconds_ago: int) -> str:
        """A moment as the database reads it; the filler uses a few thousand distinct ones."""
        if seconds_ago not in self.times:
            moment = self.now - timedelta(seconds=seconds_ago)
            if self.postgres:
                self.times[seconds_ago] = moment.isoformat()
            else:
                self.times[seconds_ago] = moment.replace(tzinfo=None).isoformat(" ")
        return self.times[seconds_ago]

    def load(self, model, columns: list[str], rows) -> int:
        """Insert ``rows`` (tuples in the order of ``columns``, attribute names) into the table
        of ``model``; every other column but the id gets its field's default."""
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.attname not in columns and not (f.primary_key and f.auto_created)
        ]
        defaults = tuple(self._default(f) for f in fields)
        names = [model._meta.get_field(c).column for c in columns] + [f.column for f in fields]
        table = model._meta.db_table
        columns_sql = ", ".join(f'"{n}"' for n in names)
        count = 0

        def full_rows():
            nonlocal count
            for row in rows:
                count += 1
                yield (*row, *defaults)

        if self.postgres:
            copy_sql = f'COPY "{table}" ({columns_sql}) FROM STDIN'
            with self.connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
                for row in full_rows():
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" * len(names))
            insert = f'INSERT INTO "{table}" ({columns_sql}) VALUES ({placeholders})'  # noqa: S608
            self.connection.ensure_connection()
            self.connection.connection.executemany(insert, full_rows())
        return count

    def _default(self, field):
        value = field.get_default()
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        if isinstance(value, datetime):
            return self.time(0)
        if isinstance(value, bool) and not self.postgres:
            return int(value)
        return value

    def next_id(self, model) -> int:
        from django.db.models import Max

        return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    def reset_sequences(self) -> None:
        if not self.postgres:
            return  # SQLite's AUTOINCREMENT follows the highest id inserted
        from django.apps import apps
        from django.core.management.color import no_style

        statements = self.connection.ops.sequence_reset_sql(no_style(), apps.get_models())
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    # Accounts -----------------------------------------------------------------------------------

    def load_accounts(self) -> None:
        from accounts.models import Membership, Namespace, Organization, User

        yes, no = (True, False) if self.postgres else (1, 0)
        self.first_namespace = self.next_id(Namespace)
        users, organizations = self.users, self.organizations
        log(f"  {users:,} users, {organizations:,} organizations")
        self.load(
            Namespace,
            ["id", "name", "kind"],
            (
                (self.first_namespace + i, f"user{i}" if i < users else f"org{i - users}",
                 "user" if i < users else "organization")
                for i in range(users + organizations)
            ),
        )  # fmt: skip
        self.first_user = self.next_id(User)
        self.load(
            User,
            ["id", "password", "is_superuser", "username", "is_staff", "is_active",
             "date_joined", "full_name", "email", "namespace_id"],
            (
                (self.first_user + i, self.password, no, f"user{i}", no, yes,
                 self.time(86400 + i % 1000), f"User {i}", f"user{i}@example.org",
                 self.first_namespace + i)
                for i in range(users)
            ),
        )  # fmt: skip
        self.first_organization = self.next_id(Organization)
        self.load(
            Organization,
            ["id", "namespace_id", "display_name", "created_at"],
            (
                (self.first_organization + i, self.first_namespace + users + i,
                 f"Organization {i}", self.time(86400 + i % 1000))
                for i in range(organizations)
            ),
        )  # fmt: skip
        roles = ("admin", "write", "read")
        self.load(
            Membership,
            ["organization_id", "user_id", "role", "created_at"],
            (
                (self.first_organization + i, self.first_user + (3 * i + k) % users, role,
                 self.time(86400 + i % 1000))
                for i in range(organizations)
                for k, role in enumerate(roles)
            ),
        )  # fmt: skip
        self.counts.update(users=users, organizations=organizations)

    # Repositories -------------------------------------------------------------------------------

    def shape(self, i: int) -> tuple[int, int, bool, int]:
        """Repository ``i``: namespace index, author index, private, revisions."""
        if i % 10 == 9:
            organization = (i // 10) % self.organizations
            namespace, author = self.users + organization, (3 * organization) % self.users
        else:
            namespace = author = i % self.users
        return namespace, author, i % 5 == 4, 50 if i % 1000 == 500 else 1

    def load_repositories(self) -> None:
        from doi.models import Doi, DoiCounter, Event, doi_name
        from repos.models import Repo, RepoLock, Revision, RevisionFile

        n = self.repositories
        yes, no = (True, False) if self.postgres else (1, 0)
        first_repo, first_revision = self.next_id(Repo), self.next_id(Revision)
        # Revision ids: repository i's revisions follow those of repository i - 1.
        revision_start, total = [], 0
        for i in range(n):
            revision_start.append(first_revision + total)
            total += self.shape(i)[3]
        log(f"  {n:,} repositories, {total:,} revisions")

        def repos():
            for i in range(n):
                namespace, _, private, versions = self.shape(i)
                name = f"{FAMILIES[i % 8]}-{VARIANTS[(i // 8) % 9]}-{i}"
                kind = "dataset" if i % 4 == 3 else "model"
                # Scattered over 50 days, all older than the pages' own repositories.
                age = 3600 + 60 * ((i * 7919) % 72000)
                yield (first_repo + i, self.first_namespace + namespace, name, kind,
                       yes if private else no, revision_start[i] + versions - 1,
                       self.time(age + 86400), self.time(age))  # fmt: skip

        self.load(
            Repo,
            ["id", "namespace_id", "name", "type", "private", "head_id", "created_at",
             "updated_at"],
            repos(),
        )  # fmt: skip

        def revisions():
            cards = [json.dumps({"license": x, "tags": ["text-classification"]}) for x in LICENSES]
            for i in range(n):
                _, author, _, versions = self.shape(i)
                metadata = cards[i % len(cards)]
                for v in range(versions):
                    pk = revision_start[i] + v
                    oid = _oid(i, v)
                    created = self.time(3600 + versions - v)
                    yield (pk, first_repo + i, oid, pk - 1 if v else None, f"Revision {v}",
                           self.first_user + author, created, metadata,
                           self.outline)  # fmt: skip

        self.counts["revisions"] = self.load(
            Revision,
            ["id", "repo_id", "oid", "parent_id", "message", "author_id", "created_at",
             "card_metadata", "card_outline"],
            revisions(),
        )  # fmt: skip
        self.load(
            RevisionFile,
            ["revision_id", "path", "blob_id"],
            ((first_revision + r, "README.md", self.blob) for r in range(total)),
        )

        # DOIs: a tenth of the repositories (never a private one), each revision its DOI.
        first_doi, number = self.next_id(Doi), 0
        dois, locks, events = [], [], []
        creators = json.dumps([AUTHOR])
        for i in range(0, n, 10):
            _, author, _, versions = self.shape(i)
            concept = first_doi + len(dois)
            for v in range(-1, versions):
                number += 1
                name = doi_name(number)
                pk = first_doi + len(dois)
                revision = revision_start[i] + v if v >= 0 else None
                oid = _oid(i, v)
                dois.append((pk, name, number, "concept" if v < 0 else "version",
                             first_repo + i, revision, oid if v >= 0 else "",
                             concept if v >= 0 else None, creators, self.first_user + author,
                             "findable", self.time(3000), self.time(3000)))  # fmt: skip
                locks.append((first_repo + i, "DOI", f"doi:{name}", self.time(3000)))
                events.append(("minted", pk, first_repo + i, self.first_user + author,
                               self.time(3000)))  # fmt: skip
        self.counts["dois"] = self.load(
            Doi,
            ["id", "doi", "number", "kind", "repo_id", "revision_id", "revision_oid",
             "concept_id", "creators", "created_by_id", "remote_state", "created_at",
             "registered_at"],
            dois,
        )  # fmt: skip
        self.load(RepoLock, ["repo_id", "reason", "holder", "created_at"], locks)
        self.load(Event, ["kind", "doi_id", "repo_id", "actor_id", "created_at"], events)
        from django.conf import settings

        DoiCounter.objects.update_or_create(
            prefix=settings.DOI_PREFIX, defaults={"last_number": number}
        )


if __name__ == "__main__":
    sys.exit(main())
