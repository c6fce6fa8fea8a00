from django.db import migrations


def keep_what_was_sent(apps, schema_editor):
    """Version DOIs minted before the owner confirmed related works had their ``IsDerivedFrom``
    links derived from the card at each push: store the ones they were last sent as their
    record's related works, so that their next push sends the same links (version links are
    still computed, and a concept DOI follows its latest version)."""
    Doi = apps.get_model("doi", "Doi")
    for doi in Doi.objects.filter(kind="version").exclude(metadata={}).only("metadata", "record"):
        if "related_works" in doi.record:
            continue
        doi.record = doi.record | {
            "related_works": [
                {
                    "identifier": r["relatedIdentifier"],
                    "identifier_type": r["relatedIdentifierType"],
                    "relation_type": r["relationType"],
                }
                for r in doi.metadata.get("relatedIdentifiers", [])
                if r.get("relationType") == "IsDerivedFrom"
            ]
        }
        doi.save(update_fields=["record"])


class Migration(migrations.Migration):
    dependencies = [
        ("doi", "0007_doi_usage_counts"),
    ]

    operations = [
        migrations.RunPython(keep_what_was_sent, migrations.RunPython.noop),
    ]
