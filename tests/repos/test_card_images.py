"""Model cards never make a viewer's browser fetch from another site: a remote image would tell
its host who looks at a (private) repository, and when. Each becomes a link saying so."""

from __future__ import annotations

import pytest

from repos.cards import render_markdown
from tests.factories import RepoFactory, commit_files


@pytest.mark.parametrize(
    "markdown",
    [
        "![A plot](https://tracker.example/p.png)",
        '<img src="https://tracker.example/p.png" alt="A plot">',
        '<img src="//tracker.example/p.png" alt="A plot">',
        '<img src="/\\tracker.example/p.png" alt="A plot">',
        '<img src=" \t//tracker.example/p.png" alt="A plot">',
        '<p><img src="HTTP://tracker.example/p.png" alt="A plot" width="9"></p>',
    ],
)
def test_a_remote_image_becomes_a_link_that_says_it_is_external(markdown):
    html = render_markdown(markdown)
    assert "<img" not in html
    assert 'class="external-image"' in html
    assert "External image (tracker.example): A plot" in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_an_image_without_alt_text_still_says_where_it_is():
    html = render_markdown("![](https://tracker.example/p.png)")
    assert ">External image (tracker.example)</a>" in html


def test_the_link_text_is_escaped():
    html = render_markdown('<img src="https://t.example/p.png" alt="&lt;b&gt;x&lt;/b&gt;">')
    assert "External image (t.example): &lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>" not in html


def test_images_of_this_site_and_the_rest_of_the_card_stay():
    html = render_markdown(
        "# Title\n\nSome *text*.\n\n![Local](/static/plot.png) and [a link](https://x.example)"
    )
    assert '<img src="/static/plot.png" alt="Local">' in html
    assert "<h1>Title</h1>" in html and "<em>text</em>" in html
    assert '<a href="https://x.example" rel="nofollow noopener noreferrer">a link</a>' in html


def test_the_repository_page_loads_nothing_from_elsewhere(client, owner):
    repo = RepoFactory(namespace=owner.namespace, name="tracked")
    commit_files(repo, owner, {"README.md": "# Hi\n\n![badge](https://tracker.example/b.svg)\n"})
    text = client.get(repo.url("page")).text
    assert "tracker.example/b.svg" in text  # as a link
    assert '<img src="https://tracker.example' not in text
