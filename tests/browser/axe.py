"""An accessibility audit with axe-core (npm; scripts/test installs it and sets AXE_CORE_JS):
inject it into the page, run every rule (experimental ones too), and crawl a role's pages."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve
from playwright.sync_api import BrowserContext, Page

FAILING_IMPACTS = ("serious", "critical")
RUN_AXE = """async () => {
  const experimental = axe.getRules(["experimental"]).map((rule) => rule.ruleId);
  const rules = Object.fromEntries(experimental.map((id) => [id, {enabled: true}]));
  const results = await axe.run(document, {resultTypes: ["violations"], rules});
  return results.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""
# Not pages: leaving, downloads, files, and the admin's JavaScript catalogue.
SKIP_PATHS = ("/logout", "/admin/logout/", "/static/", "/media/", "/admin/jsi18n/")


@dataclass(frozen=True)
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    @property
    def fails(self) -> bool:
        return self.impact in FAILING_IMPACTS

    def __str__(self) -> str:
        return f"{self.page}: {self.rule} ({self.impact}) {self.help} — {', '.join(self.targets)}"


def axe_source() -> Path:
    path = os.environ.get("AXE_CORE_JS", "")
    if not path or not Path(path).is_file():
        raise RuntimeError(
            "AXE_CORE_JS does not name axe-core's axe.min.js: run the tests with scripts/test, "
            "which installs axe-core from npm."
        )
    return Path(path)


def prepare(context: BrowserContext) -> None:
    """Make axe available in every page the context opens. An init script is not subject to
    the site's Content-Security-Policy, unlike an injected <script>."""
    context.add_init_script(path=axe_source())


def audit(page: Page, name: str = "") -> list[Violation]:
    """The violations axe finds in the page as it is now."""
    page.wait_for_load_state("load")
    label = name or urlsplit(page.url).path
    return [
        Violation(label, v["rule"], v["impact"] or "", v["help"], tuple(v["targets"]))
        for v in page.evaluate(RUN_AXE)
    ]


def page_kind(path: str) -> str:
    """Pages of the same kind share a template: one of each is audited. The view's name says
    the kind; where one view shows very different pages (a user's or an organization's page, a
    DOI's page, a repository's page and settings with or without DOIs) the path does."""
    try:
        match = resolve(path)
    except Resolver404:
        return path
    if match.view_name in ("namespace", "doi:resolve") or match.url_name.endswith(
        ("-page", "-settings")
    ):
        return path
    if match.url_name.endswith(("_history", "_delete")):
        # The admin's history and delete pages are one template each, whatever the model.
        return match.url_name.rsplit("_", 1)[-1]
    return match.view_name


def crawl(
    page: Page,
    origin: str,
    start: list[str],
    *,
    limit: int = 120,
    visit: Callable[[Page], list[Violation]] = audit,
) -> tuple[list[str], list[Violation]]:
    """Follow same-site links from ``start``, audit one page of each kind; return the pages
    audited and what axe found."""
    origin = urlsplit(origin).netloc
    queue = list(start)
    kinds: set[str] = set()
    audited: list[str] = []
    found: list[Violation] = []
    while queue and len(audited) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", origin):
            continue
        if parts.path.startswith(SKIP_PATHS):
            continue
        if "format=" in parts.query or page_kind(parts.path) in kinds:
            continue
        kinds.add(page_kind(parts.path))
        response = page.goto(url)
        final = urlsplit(page.url).path
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if final != parts.path:
            if page_kind(final) in kinds:
                continue
            kinds.add(page_kind(final))
        audited.append(final)
        found += visit(page)
        queue += page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map((a) => a.href)"
        )
    return audited, found
