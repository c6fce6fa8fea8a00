from __future__ import annotations

import pytest

from repos.models import RepoType
from tests.factories import RepoFactory, commit_files


@pytest.fixture
def repo(owner):
    """alice/bert: a public model with a card and a weights file, two revisions."""
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(
        repo, owner, {"README.md": "---\nlicense: mit\ntags: [nlp]\n---\n# Bert\n"}, "Add card"
    )
    commit_files(repo, owner, {"weights.bin": b"\x00\x01\x02"}, "Add weights")
    return repo


@pytest.fixture
def private_repo(owner):
    repo = RepoFactory(namespace=owner.namespace, name="secret", private=True)
    commit_files(repo, owner, {"README.md": "# Secret\n"}, "Add card")
    return repo


@pytest.fixture
def org_repo(org, owner):
    """wonderland/rabbit: a private organization model (alice admin, bob write, carol read)."""
    repo = RepoFactory(namespace=org.namespace, name="rabbit", private=True)
    commit_files(repo, owner, {"README.md": "# Rabbit\n"}, "Add card")
    return repo


@pytest.fixture
def dataset(owner):
    repo = RepoFactory(namespace=owner.namespace, name="squad", type=RepoType.DATASET)
    commit_files(repo, owner, {"README.md": "# Squad\n", "train.csv": "a,b\n1,2\n"})
    return repo
