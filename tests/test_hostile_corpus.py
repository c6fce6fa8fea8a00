"""Hostile input through every field a person controls, into every output the hub produces.

Each value of the corpus goes, as one person would type or send it, into every user-controlled
field: user, organization and repository names, full names, e-mail addresses, the organization's
description, the model card and its front matter, file and folder names, commit messages, DOI
author rows (name, ORCID, affiliation and its ROR id), the DOI's related works (identifier) and
funders (name, identifier, award number and title), a support request's reason, a staff note and
the search boxes. A field may refuse the value, but only with a message on the form (never a server
error); where it refuses, a plain value stands in so that the rest of the way is still walked. Then
every output is read back and checked: HTML pages (owner, public, staff admin) must carry the value
inert, every citation format must parse back (BibTeX with pybtex, RIS line by line, JSON, DataCite
XML with an XML parser and its attributes with DataCite's schema), FAIR Signposting Link headers
and linksets must parse into signposts whose targets are each one absolute URI, and e-mails must
have one-line subjects and plain (unescaped) text.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from datacite import schema45
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from httplink import parse_link_header
from lxml import etree
from pybtex.database import parse_string

from accounts.models import Organization
from doi.models import Doi
from repos.models import Repo, lock_override
from support.models import SupportRequest
from tests.factories import PASSWORD, UserFactory

PROBE = "probe()"
CORPUS: dict[str, str | bytes] = {
    "html": f"\"'><xss-probe data-probe=1>x</xss-probe><script>{PROBE}</script>",
    "html-attribute": f'" onmouseover="{PROBE}" x="',
    "javascript-url": f'[click](javascript:{PROBE}) <a href="javascript:{PROBE}">a</a>',
    "bibtex": "Evil}, title = {Injected}, note = {@misc{inj, title={x}} \\input{/etc/passwd} {",
    "bibtex-at": '@comment{ @preamble{"\\x"} %comment #concat',
    "ris": "Line one\r\nTY  - JOUR\r\nER  - \r\nAU  - Injected\nKW  - x",
    "xml": '&amp; <!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]> &e; ]]> <![CDATA[x]]>',
    "rtl": "\u202eevil\u202c \u2066isolate\u2069 \u200fmark",
    "control": "bell\x07 escape\x1b[31m vertical\x0b formfeed\x0c",
    "nul": "nul\x00byte",
    "long": "L" * 5000,
    "empty": "",
    "blank": "   \t  ",
    "unicode": "Zoë Ðörtë 🤗 e\u0301 \U0001d54f 日本語",
    "format-strings": "%s %(x)s {0} {{}} ${x} `x` {% now 'Y' %} {{ request }}",
    "yaml": "*alias &anchor !!python/object/apply:os.system ['x'] ---\n... \"\\0\"",
    "invalid-utf-8": b"\xff\xfe\xc3( bad bytes",
}
FORMATS = ("bibtex", "apa", "csl", "ris", "xml", "datacite-json", "jsonld")


def text_of(value: str | bytes) -> str:
    """The value as Django hands it to a view (invalid UTF-8 decoded with replacements)."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def form_body(data: dict) -> str:
    """URL-encoded form data; bytes values go as they are, invalid UTF-8 included."""
    return urlencode(data)


def post_form(client: Client, url: str, data: dict):
    return client.post(url, form_body(data), content_type="application/x-www-form-urlencoded")


class _ActiveContent(HTMLParser):
    """Collects what in a page would run or load: injected elements, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        # JSON-LD is data, not code (check_html parses it as JSON).
        self._script = tag == "script" and dict(attrs).get("type") != "application/ld+json"
        if tag == "xss-probe":
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name == "data-probe" or (name.startswith("on") and PROBE in (value or "")):
                self.found.append(f"{name} attribute on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL in <{tag} {name}>")

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and PROBE in data:
            self.found.append("script running the probe")


def active_content(html: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


# Checks of each kind of output -------------------------------------------------------------------


def check_html(response) -> list[str]:
    problems = active_content(response.content.decode())
    for match in re.finditer(
        r'<script type="application/ld\+json">(.*?)</script>', response.text, re.S
    ):
        json.loads(match.group(1))
    return problems


SIGNPOSTS = {"cite-as", "describedby", "describes", "type", "author", "license", "item"}
SIGNPOSTS |= {"collection", "linkset"}
# One absolute http(s) URI: no space, quote, angle bracket or anything else a header or a
# linkset would read as the end of the target.
URI = re.compile(r"https?://[!#-;=?-~]+")


def check_links(links) -> list[str]:
    problems = [f"link target {link.target!r}" for link in links if not URI.fullmatch(link.target)]
    problems += [f"link relation {sorted(link.rel)}" for link in links if link.rel - SIGNPOSTS]
    return problems


def check_link_header(value: str) -> list[str]:
    """A Link header (or an application/linkset document) parses into signposts only."""
    return check_links(parse_link_header(value.replace("\n", " ")).links)


def check_linkset_json(text: str) -> list[str]:
    problems = []
    for context in json.loads(text)["linkset"]:
        if not URI.fullmatch(context["anchor"]):
            problems.append(f"linkset anchor {context['anchor']!r}")
        problems += [f"linkset relation {rel!r}" for rel in set(context) - SIGNPOSTS - {"anchor"}]
        targets = [t["href"] for rel, ts in context.items() if rel != "anchor" for t in ts]
        problems += [f"linkset target {t!r}" for t in targets if not URI.fullmatch(t)]
    return problems


def check_bibtex(text: str, doi: Doi) -> list[str]:
    data = parse_string(text, "bibtex")
    if len(data.entries) != 1:
        return [f"BibTeX has {len(data.entries)} entries"]
    entry = next(iter(data.entries.values()))
    extra = set(entry.fields) - {"title", "year", "url", "doi", "publisher"}
    problems = [f"BibTeX has injected fields {sorted(extra)}"] if extra else []
    if entry.fields["doi"] != doi.doi:
        problems.append("BibTeX doi field changed")
    if text.count("{") != text.count("}"):
        problems.append("BibTeX braces unbalanced")
    return problems


def check_ris(text: str) -> list[str]:
    lines = text.split("\r\n")
    if lines[-1] != "":
        return ["RIS does not end with CRLF"]
    lines = lines[:-1]
    problems = [
        f"RIS line {line!r}"
        for line in lines
        if not re.fullmatch(r"[A-Z][A-Z0-9]  - [^\r\n]*", line) or "\r" in line or "\n" in line
    ]
    tags = [line[:2] for line in lines]
    if tags[0] != "TY" or tags[-1] != "ER" or tags.count("TY") != 1 or tags.count("ER") != 1:
        problems.append(f"RIS record structure {tags}")
    return problems


def check_datacite_xml(content: bytes, doi: Doi) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(content, parser)
    problems = []
    if root.tag != "{http://datacite.org/schema/kernel-4}resource":
        problems.append(f"XML root is {root.tag}")
    names = [e.text for e in root.iter("{http://datacite.org/schema/kernel-4}creatorName")]
    stored = [c["name"] for c in doi.metadata["creators"]]
    if names != stored:
        problems.append(f"XML creator names {names!r} differ from the stored {stored!r}")
    return problems


def check_output(fmt: str, response, doi: Doi) -> list[str]:
    if response.status_code != 200:
        return [f"status {response.status_code}"]
    text = response.content.decode("utf-8")
    if fmt == "bibtex":
        return check_bibtex(text, doi)
    if fmt == "ris":
        return check_ris(text)
    if fmt == "xml":
        return check_datacite_xml(response.content, doi)
    if fmt in ("csl", "jsonld"):
        json.loads(text)
        return []
    if fmt == "datacite-json":
        attributes = json.loads(text)
        attributes.pop("url", None)
        return [f"DataCite JSON: {e.message}" for e in schema45.validator.iter_errors(attributes)]
    return [] if "\n" not in text.rstrip("\n") else ["APA is more than one line"]


# The walk ---------------------------------------------------------------------------------------


class Walk:
    """One value through every field, and the problems found on the way."""

    def __init__(self, key: str, value: str | bytes, staff) -> None:
        self.key, self.value, self.staff = key, value, staff
        self.problems: list[str] = []
        self.refused: list[str] = []
        self.outputs = 0
        self.client = Client()

    def note(self, where: str, problems: list[str]) -> None:
        self.problems += [f"{where}: {p}" for p in problems]

    def submit(self, field: str, url: str, data: dict, *, files: bool = False):
        """POST a form; a refusal must be a page with a message, not a server error."""
        response = self.client.post(url, data) if files else post_form(self.client, url, data)
        if response.status_code >= 500:
            self.note(field, [f"status {response.status_code}"])
        elif response.status_code == 200:
            # Not taken: the form again, saying why.
            self.refused.append(field)
            if 'class="errorlist' not in response.text and 'role="alert"' not in response.text:
                self.note(field, ["refused without a message"])
            self.note(field, check_html(response))
        return response

    def read(self, what: str, url: str, client: Client | None = None, **headers) -> None:
        response = (client or self.client).get(url, **headers)
        self.outputs += 1
        if "Link" in response:
            self.note(f"{what} Link header", check_link_header(response["Link"]))
        if response.status_code >= 500:
            self.note(what, [f"status {response.status_code}"])
        elif response.status_code == 200 and "html" in response.get("Content-Type", ""):
            self.note(what, check_html(response))
        elif response.status_code == 400:
            # Refused (a NUL byte in the address): the site's page that says so.
            if "Bad request" not in response.text:
                self.note(what, ["a 400 without the site's explanation"])
        elif response.status_code not in (200, 301, 302):
            self.note(what, [f"status {response.status_code}"])


def walk(key: str, value: str | bytes, staff, capture) -> Walk:
    w = Walk(key, value, staff)
    c = w.client
    text = text_of(value)

    # Names: a new account, an organization and a repository named with the value.
    w.submit(
        "username",
        reverse("accounts:join"),
        {
            "username": value,
            "email": "new@example.org",
            "full_name": value,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = UserFactory(username="hostile", email="hostile@example.org")
    c.force_login(user)
    w.submit("full name", reverse("accounts:profile"), {"full_name": value, "email": user.email})
    w.submit("email", reverse("accounts:profile"), {"full_name": "Hostile", "email": value})
    w.submit(
        "email with a header",
        reverse("accounts:profile"),
        {"full_name": "Hostile", "email": f"x@example.org\r\nBcc: {text}@example.org"},
    )
    user.refresh_from_db()
    new_org = reverse("accounts:organization-new")
    w.submit("organization name", new_org, {"name": value, "display_name": value})
    w.submit("organization full name", new_org, {"name": "hostile-org", "display_name": value})
    org = Organization.objects.filter(namespace__name="hostile-org").first()
    if org is None:
        post_form(c, new_org, {"name": "hostile-org", "display_name": "Hostile Org"})
        org = Organization.objects.get(namespace__name="hostile-org")
    w.submit(
        "organization description",
        reverse("accounts:organization-settings", args=[org.name]),
        {"display_name": value, "description": value},
    )
    w.submit("repository name", reverse("repos:new-model"), {"namespace": user.namespace_id,
             "name": value, "visibility": "public"})  # fmt: skip
    post_form(
        c,
        reverse("repos:new-model"),
        {"namespace": org.namespace_id, "name": "model", "visibility": "public"},
    )
    repo = Repo.objects.get(namespace=org.namespace, name="model")

    # The card: the value as YAML written by hand, then quoted so that it reaches the metadata.
    raw = text
    quoted = json.dumps(text)
    w.submit(
        "card front matter (raw)",
        repo.url("edit-card"),
        {
            "content": f"---\nlicense: {raw}\ntags: [{raw}]\n---\n# {raw}\n\n{raw}\n",
            "message": value,
        },
    )
    card = f"---\nlicense: {quoted}\ntags: [{quoted}]\nsummary: {quoted}\n---\n# {raw}\n\n{raw}\n"
    w.submit("card", repo.url("edit-card"), {"content": card, "message": value})
    content = value if isinstance(value, bytes) else value.encode()
    w.submit(
        "README as a file",
        repo.url("upload"),
        {"files": [SimpleUploadedFile("README.md", b"---\nlicense: " + content + b"\n---\n"
                   + content)], "message": "README upload"},
        files=True,
    )  # fmt: skip
    w.submit(
        "file name",
        repo.url("upload"),
        {"files": [SimpleUploadedFile(text or "x", content)], "message": value},
        files=True,
    )
    w.submit(
        "folder name",
        repo.url("upload"),
        {"files": [SimpleUploadedFile("data.bin", content)], "folder": value, "message": "x"},
        files=True,
    )
    w.submit("card (final)", repo.url("edit-card"), {"content": card, "message": "Card"})

    # A DOI with the value in the author rows; refused parts fall back to plain ones.
    generate = reverse("doi-owner:model-generate", args=[org.name, repo.name])
    # Its related works and funders too: the value as an identifier (of a detected type, and
    # inside a URL), as the funder, its identifier and the award.
    attempts = [
        ({"name": value, "given_name": value, "family_name": value, "orcid": value,
          "affiliation": value, "affiliation_ror": value},
         [{"identifier": value}, {"identifier": f"https://example.org/{text}",
                                  "identifier_type": "URL"}],
         {"funder_name": value, "funder_identifier": value, "award_number": value,
          "award_title": value}),
        ({"name": value, "affiliation": value},
         [{"identifier": f"https://example.org/{text}", "identifier_type": "URL"}],
         {"funder_name": value, "award_number": value, "award_title": value}),
        ({"name": value}, [], {"funder_name": value}),
        ({"name": "Plain Author", "affiliation": value}, [], {}),
        ({"name": "Plain Author"}, [], {}),
    ]  # fmt: skip
    for number, (row, links, funder) in enumerate(attempts, start=1):
        rows = {
            "authors-TOTAL_FORMS": "2",
            "authors-INITIAL_FORMS": "0",
            "authors-0-type": "Personal",
            "authors-1-type": "Organizational",
            "authors-1-name": row["name"],
            "related-TOTAL_FORMS": str(len(links)),
            "related-INITIAL_FORMS": "0",
            "funding-TOTAL_FORMS": "1" if funder else "0",
            "funding-INITIAL_FORMS": "0",
            "acknowledge": "on",
            "action": "generate",
        }
        rows |= {f"authors-0-{f}": v for f, v in row.items()}
        for i, link in enumerate(links):
            rows |= {f"related-{i}-relation_type": "References"}
            rows |= {f"related-{i}-{f}": v for f, v in link.items()}
        rows |= {f"funding-0-{f}": v for f, v in funder.items()}
        with capture(execute=True):
            response = w.submit(f"DOI author row (attempt {number})", generate, rows)
        if response.status_code == 302:
            break
    doi = Doi.objects.filter(repo=repo, kind="version").first()
    assert doi is not None, f"no DOI could be minted: {w.problems}"
    concept = doi.concept

    # A support request with the value as its reason, rejected with the value as the note.
    new_request = reverse("support:new") + f"?repo={repo.pk}&action=delete"
    with capture(execute=True):
        w.submit("support reason", new_request, {"reason": value})
    support_request = SupportRequest.objects.filter(repo=repo).first()
    if support_request is None:
        with capture(execute=True):
            post_form(c, new_request, {"reason": "Please delete it."})
        support_request = SupportRequest.objects.get(repo=repo)
    staff_client = Client()
    staff_client.force_login(staff)
    reject = reverse("admin:support_supportrequest_reject", args=[support_request.pk])
    w.client = staff_client
    with capture(execute=True):
        w.submit("staff note", reject, {"note": value, "confirm": "1"})
    support_request.refresh_from_db()
    if support_request.is_open:
        with capture(execute=True):
            post_form(staff_client, reject, {"note": "Plain note.", "confirm": "1"})
    w.client = c

    # Every output.
    repo.refresh_from_db()
    anonymous = Client()
    pages = [
        ("home", "/"),
        ("models", reverse("repos:models")),
        ("user page", user.get_absolute_url()),
        ("organization page", org.get_absolute_url()),
        ("repository page", repo.url("page")),
        ("commits", repo.url("commits")),
        ("revision", repo.url("tree", doi.revision_oid)),
    ]
    search = urlencode({"search": value})
    pages += [
        ("search", f"{reverse('repos:models')}?{search}"),
        ("dataset search", f"{reverse('repos:datasets')}?{search}"),
    ]
    for what, url in pages:
        w.read(f"{what} (anonymous)", url, anonymous)
        w.read(f"{what} (owner)", url)
    for entry in repo.head.files.all():
        w.read(f"file {entry.path!r}", repo.url("blob", repo.head.oid, entry.path), anonymous)
    owner_pages = [
        ("repository settings", repo.url("settings")),
        ("DOI section", reverse("doi-owner:model-section", args=[org.name, repo.name])),
        ("profile", reverse("accounts:profile")),
        ("organization settings", reverse("accounts:organization-settings", args=[org.name])),
        ("support requests", reverse("support:index")),
        ("support request", support_request.get_absolute_url()),
        ("new support request", new_request),
    ]
    for what, url in owner_pages:
        w.read(what, url)
    admin_pages = [
        ("admin user", reverse("admin:accounts_user_change", args=[user.pk])),
        ("admin users", reverse("admin:accounts_user_changelist") + "?q=hostile"),
        ("admin organization", reverse("admin:accounts_organization_change", args=[org.pk])),
        ("admin repository", reverse("admin:repos_repo_change", args=[repo.pk])),
        ("admin revision", reverse("admin:repos_revision_change", args=[repo.head_id])),
        ("admin revisions", reverse("admin:repos_revision_changelist")),
        ("admin DOI", reverse("admin:doi_doi_change", args=[doi.pk])),
        ("admin DOIs", reverse("admin:doi_doi_changelist")),
        ("admin support request", reverse("admin:support_supportrequest_change",
                                          args=[support_request.pk])),
        ("admin support requests", reverse("admin:support_supportrequest_changelist")),
        ("admin search", reverse("admin:repos_repo_changelist") + "?" + urlencode({"q": value})),
    ]  # fmt: skip
    for what, url in admin_pages:
        w.read(what, url, staff_client)
    cite = f"/doi/cite/{quote(doi.doi)}"
    for show in ("", "?show=all"):
        w.read(f"Cite panel{show}", cite + show, anonymous, headers={"HX-Request": "true"})
        w.read(f"Cite panel{show} without htmx", cite + show, anonymous)
    w.read("repository page with the Cite panel open", repo.url("page") + "?cite=all", anonymous)
    with lock_override(actor=staff, reason="The corpus reads the private DOI page"):
        repo.set_private(True)
    w.read("DOI page of a private repository", f"/doi/{quote(doi.doi)}", anonymous)
    for shown in (doi, concept):
        landing = f"/doi/{quote(shown.doi)}"
        w.read(f"DOI landing of {shown.kind}", landing, anonymous)
        for fmt in FORMATS:
            response = anonymous.get(landing, {"format": fmt})
            w.outputs += 1
            try:
                w.note(f"{fmt} of {shown.kind}", check_output(fmt, response, shown))
                w.note(f"{fmt} of {shown.kind} Link", check_link_header(response["Link"]))
            except Exception as exc:  # any failure to parse is the finding
                w.note(f"{fmt} of {shown.kind}", [f"{type(exc).__name__}: {exc}"])
        linkset = reverse("doi:linkset", args=[shown.doi])
        for accept, check in (
            ("application/linkset+json", check_linkset_json),
            ("application/linkset", check_link_header),
        ):
            response = anonymous.get(linkset, headers={"Accept": accept})
            w.outputs += 1
            try:
                w.note(f"{accept} of {shown.kind}", check(response.content.decode()))
            except Exception as exc:  # any failure to parse is the finding
                w.note(f"{accept} of {shown.kind}", [f"{type(exc).__name__}: {exc}"])
    return w


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://hub.example.org"
    settings.DOI_REGISTRAR = "local"
    settings.DOI_PREFIX = "10.5072"
    settings.DOI_SUFFIX_PATTERN = "hub/{number:04d}"
    settings.DOI_INLINE_RETRIES = 0


@pytest.mark.parametrize("key", CORPUS)
def test_hostile_input_is_refused_or_inert_everywhere(
    key, superuser, mailoutbox, django_capture_on_commit_callbacks
):
    w = walk(key, CORPUS[key], superuser, django_capture_on_commit_callbacks)
    assert len(mailoutbox) >= 3  # opened (requester and staff) and rejected
    for message in mailoutbox:
        w.outputs += 1
        if "\n" in message.subject or "\r" in message.subject:
            w.problems.append(f"e-mail subject {message.subject!r}")
        if "&" not in text_of(CORPUS[key]) and re.search(
            r"&(lt|gt|quot|amp|#x?[0-9a-f]+);", message.body
        ):
            w.problems.append("a plain-text e-mail carries HTML escapes")
        message.message().as_bytes()
    print(f"{key}: {w.outputs} outputs read; refused by {', '.join(w.refused) or 'nothing'}")
    assert w.problems == []
    assert w.outputs > 50


def test_the_checks_find_what_they_look_for():
    """The corpus's checks can fail: each finds the fault it looks for in a faulty output."""
    assert active_content(f"<p>{CORPUS['html']}</p>")
    assert active_content(f'<div title="{CORPUS["html-attribute"]}"></div>')
    assert active_content(f'<a href="javascript:{PROBE}">x</a>')
    assert not active_content(f"<p>{escape(CORPUS['html'])}</p>")
    assert check_ris("TY  - COMP\r\nTI  - a\r\nTY  - JOUR\r\nER  - \r\n")
    assert check_ris("TY  - COMP\r\nTI  - a\nb\r\nER  - \r\n")
    doi = SimpleNamespace(doi="10.5072/hub/0001")
    fields = "title = {t}, year = {2026}, url = {u}, doi = {10.5072/hub/0001}, publisher = {p}"
    assert not check_bibtex(f"@misc{{a, {fields}}}", doi)
    assert check_bibtex(f"@misc{{a, {fields}, note = {{x}}}}", doi)
    assert check_bibtex(f"@misc{{a, {fields}}}\n@misc{{b, title = {{x}}}}", doi)
    good = '<https://hub.example.org/a%20b>; rel="item"; type="text/plain"'
    assert not check_link_header(good)
    assert check_link_header('<https://hub.example.org/a b>; rel="item"')
    assert check_link_header('<https://x.org/>; rel="item", <javascript:x()>; rel="item"')
    assert check_link_header('<https://hub.example.org/>; rel="stylesheet"')
    linkset = {"linkset": [{"anchor": "https://hub.example.org/", "item": [{"href": "x y"}]}]}
    assert check_linkset_json(json.dumps(linkset))
