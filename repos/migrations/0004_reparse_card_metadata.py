"""Parse every stored README again with the card rules of the time of writing: YAML aliases and
over-deep front matter refused, cards over CARD_MAX_KB ignored. Before them, a few hundred
bytes of aliases could be stored as megabytes of metadata that every page view then loaded."""

from django.core.files.storage import default_storage
from django.db import migrations

from repos.cards import parse_card


def reparse_cards(apps, schema_editor):
    Revision = apps.get_model("repos", "Revision")
    RevisionFile = apps.get_model("repos", "RevisionFile")
    readmes = (
        RevisionFile.objects.filter(path="README.md")
        .values_list("blob_id", "blob__file")
        .distinct()
        .order_by("blob_id")
    )
    for blob_id, name in readmes.iterator():
        with default_storage.open(name, "rb") as fh:
            card = parse_card(fh.read().decode("utf-8", errors="replace"))
        Revision.objects.filter(files__path="README.md", files__blob_id=blob_id).update(
            card_metadata=card.metadata, card_error=card.error
        )


class Migration(migrations.Migration):
    dependencies = [
        ("repos", "0003_repo_tombstone"),
    ]

    operations = [
        migrations.RunPython(reparse_cards, migrations.RunPython.noop, elidable=True),
    ]
