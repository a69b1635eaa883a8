"""Trusts, classes and holders formed before their rows became projections take the ids the log gives them.

From now on trusts.projections gives a trust the position of its TrustFormed
event as its id, a class its trust's id * 1000 + its place in the deal, and a
holder the position of its HolderRegistered event, so a rebuild reproduces
them. Rows written earlier have the database's sequence numbers: this
renumbers them once, and every column that points at them (the pool, the
register, periods, the close's read models, approval requests: every foreign
key to these models, found in the model graph), so the next rebuild changes
nothing. The log itself is only read. Ids go through their negatives so an
old id equal to another row's new one never collides; the foreign keys are
checked at the commit.
"""
from django.db import migrations

CLASS_ID_BASE = 1000  # as trusts.projections.CLASS_ID_BASE (a migration keeps its own copy)


def _code(stream: str) -> str:
    return stream.split(":", 1)[1]


def ids_from_the_log(apps) -> dict[str, dict[int, int]]:
    """For each reference model, its rows' {current id: id the log gives}."""
    Event = apps.get_model("ledger", "Event")
    Trust, SecurityClass, Holder = (apps.get_model("trusts", name) for name in ("Trust", "SecurityClass", "Holder"))
    formed = {_code(stream): (position, payload) for stream, position, payload in
              Event.objects.filter(event_type="TrustFormed", stream__startswith="trust:")
              .values_list("stream", "position", "payload")}
    registered = {_code(stream): position for stream, position in
                  Event.objects.filter(event_type="HolderRegistered", stream__startswith="holder:")
                  .values_list("stream", "position")}
    trusts, codes = {}, {}
    for pk, code in Trust.objects.values_list("pk", "code"):
        if code not in formed:
            raise RuntimeError(f"trust {code} has no TrustFormed event: its row cannot be a projection of the log")
        trusts[pk], codes[pk] = formed[code][0], code
    classes = {}
    for pk, trust_id, name in SecurityClass.objects.values_list("pk", "trust_id", "name"):
        names = [c["name"] for c in formed[codes[trust_id]][1]["classes"]]
        classes[pk] = trusts[trust_id] * CLASS_ID_BASE + names.index(name) + 1
    holders = {}
    for pk, code in Holder.objects.values_list("pk", "code"):
        if code not in registered:
            raise RuntimeError(f"holder {code} has no HolderRegistered event: its row cannot be a projection")
        holders[pk] = registered[code]
    return {"trusts.Trust": trusts, "trusts.SecurityClass": classes, "trusts.Holder": holders}


def renumber(apps, new_ids: dict[str, dict[int, int]]) -> None:
    """Give the rows of each model its new ids, and every foreign key to them the same."""
    new_ids = {label: {old: new for old, new in ids.items() if old != new} for label, ids in new_ids.items()}
    columns = []  # (model, attname, ids): every column holding one of these models' ids
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.primary_key and model._meta.label in new_ids:
                columns.append((model, field.attname, new_ids[model._meta.label]))
            elif field.is_relation and (field.many_to_one or field.one_to_one):
                target = field.related_model._meta.label
                if target in new_ids:
                    columns.append((model, field.attname, new_ids[target]))
    for sign in (-1, 1):  # to the negated new id, then to the new id
        for model, column, ids in columns:
            for old, new in ids.items():
                rows = model.objects.filter(**{column: old if sign < 0 else -new})
                rows.update(**{column: -new if sign < 0 else new})


def reference_ids_from_the_log(apps, schema_editor):
    renumber(apps, ids_from_the_log(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("trusts", "0002_pool_membership_intervals"),
        ("ledger", "0005_refresh_statistics_as_owner"),
        # Their rows point at trusts, classes and holders: they are renumbered with them.
        ("remittance", "0004_reconciler_schedule"),
        ("approvals", "0001_approval_requests"),
    ]

    operations = [migrations.RunPython(reference_ids_from_the_log, migrations.RunPython.noop)]
