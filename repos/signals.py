"""What other apps may act on when a repository changes, without `repos` knowing them (``doi``
publishes a private repository's draft DOIs when it goes public, deletes them when it goes).

- ``made_public(sender=Repo, repo=repo)``: sent inside the transaction that made it public.
- ``deleting(sender=Repo, repo=repo)``: sent before an owner's delete; a receiver whose records
  must outlive the repository answers with a sentence saying what happens to them, and the
  repository is then removed to a tombstone (``Repo.remove``) with that reason instead.
- ``removed(sender=Repo, repo=repo)``: sent inside the transaction that deleted its files.
- ``deleted(sender=Repo, repo=repo)``: sent after an owner's delete was committed; a receiver
  answers with a sentence for the owner saying what became of its records ("" for nothing).
- ``foreseen(sender=Repo, request=request, repo=repo, action=action)``: sent while the settings
  page is drawn for ``request`` (once per action: a receiver may read its records once per
  request), ``action`` being "make_public" or "delete"; a receiver answers with a sentence
  saying what that action will do to its records ("" for nothing), shown beside the action's
  button.
- ``downloaded(sender=Revision, request=request, revision=revision, path=path, by_api=bool)``:
  sent when a GET is answered with the bytes of the file ``path`` at ``revision``, or with the
  redirect to them in the object store: the site's file view (``by_api=False``) and the Hub
  API's ``resolve`` (``by_api=True``, sent by ``hubapi``). HEAD sends nothing. ``doi`` counts
  it as a download of the DOI naming that revision.
"""

from __future__ import annotations

from django.dispatch import Signal

deleted = Signal()
deleting = Signal()
downloaded = Signal()
foreseen = Signal()
made_public = Signal()
removed = Signal()
