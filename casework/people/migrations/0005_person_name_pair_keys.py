"""Each pair of a person's name sound codes becomes a search key too (see
`casework.people.matching.sound_keys`), so "first name and family name" is one index range."""

from typing import Any

from django.db import migrations, models

# As `casework.people.matching` builds them: the two codes in code-point order, joined by "+".
# Written out here so the migration keeps meaning what it meant when the code moves on.
_TABLE = "people_personnamekey"


def add_pair_keys(apps: Any, schema_editor: Any) -> None:
    """One statement, whatever the number of people: at council scale (two million people)
    a loop in Python would hold the migration for minutes."""
    # PostgreSQL compares text by the database's locale unless told otherwise; the keys are
    # ordered by code point, as Python's sorted() orders them.
    by_code_point = ' COLLATE "C"' if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"INSERT INTO {_TABLE} (person_id, key) "
        f"SELECT a.person_id, a.key || '+' || b.key FROM {_TABLE} a "
        f"JOIN {_TABLE} b ON b.person_id = a.person_id "
        f"AND a.key{by_code_point} < b.key{by_code_point} "
        "WHERE a.key NOT LIKE %s AND b.key NOT LIKE %s "
        "ON CONFLICT DO NOTHING",
        ["%+%", "%+%"],
    )


def remove_pair_keys(apps: Any, schema_editor: Any) -> None:
    apps.get_model("people", "PersonNameKey").objects.filter(key__contains="+").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_list_and_search_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="personnamekey",
            name="key",
            field=models.CharField(max_length=13),
        ),
        migrations.RunPython(add_pair_keys, remove_pair_keys),
    ]
