"""Reconciliation: what a source has in Casework, per kind, with a checksum that does not
depend on the database (only on legacy IDs and row checksums), so that importing the same
files twice, or into another database, gives the same figures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, OuterRef

from casework.cases.models import Case, CaseNote, Plan, Referral, Visit
from casework.legacy.models import LegacyKind, LegacyRecord
from casework.people.models import Person, Relationship

KIND_MODELS: dict[LegacyKind, type[models.Model]] = {
    LegacyKind.PERSON: Person,
    LegacyKind.RELATIONSHIP: Relationship,
    LegacyKind.CASE: Case,
    LegacyKind.REFERRAL: Referral,
    LegacyKind.PLAN: Plan,
    LegacyKind.VISIT: Visit,
    LegacyKind.NOTE: CaseNote,
}


@dataclass(frozen=True)
class KindTotal:
    kind: str
    mapped: int  # legacy records of this kind imported from the source, ever
    present: int  # of which the row is still in Casework (not destroyed since)
    checksum: str


def kind_totals(source: str) -> list[KindTotal]:
    totals = []
    for kind in LegacyKind:
        records = LegacyRecord.objects.filter(source=source, kind=kind)
        # Sorted in Python: databases collate differently, the checksum must not.
        pairs = sorted(records.values_list("legacy_id", "row_checksum"))
        digest = hashlib.sha256()
        for legacy_id, row_checksum in pairs:
            digest.update(f"{legacy_id}\t{row_checksum}\n".encode())
        model = KIND_MODELS[kind]
        present = records.filter(
            Exists(model._default_manager.filter(pk=OuterRef("object_id")))
        ).count()
        totals.append(KindTotal(kind.value, len(pairs), present, digest.hexdigest()))
    return totals


def overall_checksum(totals: list[KindTotal]) -> str:
    digest = hashlib.sha256()
    for total in totals:
        digest.update(f"{total.kind}\t{total.mapped}\t{total.checksum}\n".encode())
    return digest.hexdigest()
