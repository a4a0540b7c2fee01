"""Subject access requests (issue 9 item 7): everything Casework holds about one person, as one
ZIP file made in the background. It is an export job (kind `subject-access`, registered in
`casework.returns.jobs`), so progress, private storage, failure handling, the Exports page and
the access-checked download are the registry's.

Who may prepare one: a senior manager (senior fieldwork manager, service manager or head of
service: `PREPARER_ROLES`), for a person they can see through `people_visible_to` (restricted
records follow that selector, so they need nothing here). docs/privacy.md says why.

The pack:
- `person.json`: the person's record and everything linked to it, and every case of theirs
  the preparer can see with everything recorded on it, including the audit chronology and the
  access log. It is built generically: from the person and from each case, the walk follows
  every foreign key that any installed model holds to a row already in the pack
  (`apps.get_models()`) and writes every concrete field, so a model added later is included
  with no change here. `EXCLUDED` names the models deliberately left out, each with its
  reason; a test fails when a model with a key to a person or a case is neither reached nor
  excluded. Other people are named where the person's records point to them (relatives,
  carers, staff), never with their own records.
- `cases/<reference>/...`: every file a record holds (the case documents as uploaded) and the
  signed closure summaries as PDFs.
- `summary.pdf`: what the pack contains, for the reviewer; `README.txt`: what each file is.

The ZIP is streamed: each piece is yielded as soon as it is compressed, the JSON is spooled to
a temporary file, and files are copied a megabyte at a time, so memory stays bounded however
many documents the person has. Casework does not redact: a person reviews the pack and
removes other people's information before it is released (docs/privacy.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import IO, Any

from django.apps import apps
from django.core.files.storage import Storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from casework.access.log import record_access
from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.audit.models import AccessAction, AccessChannel
from casework.cases.models import Case
from casework.closure.documents import signed_document_pdf
from casework.closure.models import SignedDocument
from casework.closure.services import content_hash
from casework.core.dates import long_date
from casework.core.errors import InvalidInput, NotFound
from casework.organisation.models import Authority, Membership, Role, ServiceArea
from casework.people.models import Person
from casework.people.selectors import people_visible_to, person_for
from casework.returns.models import ExportJob, ExportProblem

SLUG = "subject-access"
FORMAT_VERSION = 1

# A disclosure of everything held about a person is a decision a manager answers for, and the
# pack must be complete for the service: only senior managers, whose need to know spans their
# whole service area, prepare one. Team managers see only their teams' cases (their pack would
# silently miss the rest); business support run the statistical returns but do not decide
# disclosures. Administrators have no case access at all.
PREPARER_ROLES = frozenset(
    {Role.SENIOR_FIELDWORK_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}
)

REFUSAL = (
    "Only senior managers (senior fieldwork managers, service managers and heads of service) "
    "can prepare a subject access request. Ask one in the service that works with the person."
)

NOT_FOUND = (
    "There is no one with that local ID or Casework ID whose records you can see. Check the ID "
    "on the person's page. If a senior manager in another service works with them, ask them."
)

# Deliberately left out of person.json, with the reason the pack gives.
EXCLUDED: dict[str, str] = {
    "people.personnamekey": "Sound codes of the words of the person's name (and of each pair "
    "of them), kept only so that "
    "searching tolerates spelling: the name itself is in the person's record.",
}

# Where the walk starts, never where it goes: cases are chosen by what the preparer can see,
# and other people's records are never included.
ROOTS: tuple[type[models.Model], ...] = (Person, Case)

CHUNK = 1024 * 1024
QUERY_CHUNK = 500

Progress = Callable[[int, int], None]
Parameters = Mapping[str, Any]
Key = models.ForeignKey[Any, Any]


# --- Who may prepare one, and for whom -----------------------------------------------------------


def _preparer_memberships(user: User) -> models.QuerySet[Membership]:
    return Membership.objects.current().filter(user=user, role__in=PREPARER_ROLES)


def may_prepare(user: User) -> bool:
    """Whether `user` may prepare subject access requests (for people they can see)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return _preparer_memberships(user).exists()


def preparer_authority(user: User) -> Authority | None:
    membership = _preparer_memberships(user).select_related("team__authority").first()
    return membership.team.authority if membership else None


def _typed(parameters: Parameters) -> str:
    return str(parameters.get("person", "")).strip()


def validate(parameters: Parameters, today: dt.date) -> None:
    if not str(parameters.get("person_id", "")).strip() and not _typed(parameters):
        raise InvalidInput("Enter the local ID or Casework ID of the person who asked.", "person")


def find_person(user: User, typed: str) -> Person:
    """The person `typed` names, among those `user` can see: by local ID first (what is shown
    on the person's page), then by Casework ID. InvalidInput on the form's field otherwise."""
    text = typed.strip()
    pool = people_visible_to(user)
    exact = pool.filter(local_id=text).first()
    if exact is not None:
        return exact
    loose = list(pool.filter(local_id__iexact=text)[:2])
    if len(loose) == 1:
        return loose[0]
    if text.isdigit() and len(text) <= 18:
        try:
            return person_for(user, int(text))
        except NotFound:
            pass
    raise InvalidInput(NOT_FOUND, "person")


def _person(user: User, parameters: Parameters) -> Person:
    person_id = str(parameters.get("person_id", "")).strip()
    if not person_id:
        return find_person(user, _typed(parameters))
    if not (person_id.isdigit() and len(person_id) <= 18):
        raise InvalidInput(NOT_FOUND, "person")
    try:
        return person_for(user, int(person_id))
    except NotFound as missing:
        raise InvalidInput(NOT_FOUND, "person") from missing


def authorise(actor: User, parameters: Parameters) -> tuple[dict[str, str], dict[str, Any]]:
    """The request's parameters as kept (the person's Casework ID and local ID), and the
    person, whom the request's audit event links so that it is in their chronology."""
    person = _person(actor, parameters)
    return {"person_id": str(person.pk), "local_id": person.local_id}, {"person": person}


def describe(parameters: Parameters) -> str:
    local_id = str(parameters.get("local_id", "")) or _typed(parameters)
    person_id = str(parameters.get("person_id", ""))
    if person_id:
        return f"person {local_id} (Casework ID {person_id})"
    return f"person {local_id}"


def _safe(text: str, fallback: str = "file") -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:100] or fallback


def stem(parameters: Parameters) -> str:
    who = str(parameters.get("local_id", "")) or str(parameters.get("person_id", ""))
    return f"subject-access-{_safe(who or _typed(parameters), 'person')}"


@dataclass(frozen=True)
class UnseenCases:
    service_area: str
    count: int

    @property
    def area_label(self) -> str:
        return str(ServiceArea(self.service_area).label) if self.service_area else "another service"

    def sentence(self) -> str:
        one = self.count == 1
        return (
            f"{self.count} of this person's cases in {self.area_label.lower()} "
            f"{'is' if one else 'are'} not in this pack, because you cannot see "
            f"{'it' if one else 'them'}. Ask a senior manager in {self.area_label.lower()} to "
            "prepare a pack too, and send both together."
        )


def _unseen_cases(user: User, person: Person) -> list[UnseenCases]:
    visible = cases_visible_to(user).filter(subject=person).values("pk")
    counts = (
        Case.objects.filter(subject=person)
        .exclude(pk__in=visible)
        .values("service_area")
        .annotate(count=Count("pk"))
        .order_by("service_area")
    )
    return [UnseenCases(row["service_area"], row["count"]) for row in counts]


def problems(
    authority: Authority, parameters: Parameters, user: User | None
) -> list[ExportProblem]:
    """What the preparer must act on: the person's cases they cannot see, which are not in the
    pack (a pack that silently missed them would break the law on subject access)."""
    if user is None:
        return []
    person = _person(user, parameters)
    return [
        ExportProblem(
            person=f"{person.full_name} ({person.local_id})", field="Cases", message=u.sentence()
        )
        for u in _unseen_cases(user, person)
    ]


# --- The generic walk ----------------------------------------------------------------------------


def _keys(model: type[models.Model]) -> list[Key]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


def _target(key: Key) -> type[models.Model] | None:
    related = key.related_model
    return related if isinstance(related, type) else None


@cache
def _keys_by_target() -> dict[type[models.Model], list[tuple[type[models.Model], Key]]]:
    """For each model, the (model, key) pairs of every other installed model's foreign keys
    (and one-to-one keys) to it: the edges the walk follows, from a row to the rows that point
    at it."""
    found: dict[type[models.Model], list[tuple[type[models.Model], Key]]] = defaultdict(list)
    for model in apps.get_models():
        if model._meta.proxy or model._meta.label_lower in EXCLUDED:
            continue
        for key in _keys(model):
            target = _target(key)
            if target is not None:
                found[target].append((model, key))
    return dict(found)


def covered_models() -> set[str]:
    """The labels of every model whose rows a pack can hold: the roots and every model reached
    from them through foreign keys."""
    edges = _keys_by_target()
    reached: set[type[models.Model]] = set(ROOTS)
    queue = deque(ROOTS)
    while queue:
        for child, _key in edges.get(queue.popleft(), []):
            if child not in reached:
                reached.add(child)
                queue.append(child)
    return {model._meta.label_lower for model in reached}


@cache
def _case_keys(model: type[models.Model]) -> tuple[Key, ...]:
    return tuple(k for k in _keys(model) if _target(k) is Case)


def _belongs_to(root: int | None, cases: frozenset[int]) -> Callable[[models.Model], bool]:
    """Whether a row belongs in the part of the pack for case `root` (None: the person's own
    part), when the pack covers `cases`. A row on a case (its `case` key) belongs with that
    case only; a row with other keys to cases, only if every one is in the pack. The person's
    own part covers no case, so it keeps only rows on no case at all. So each row is in the
    pack once, under its own case, and nothing comes from a case the preparer cannot see."""

    def keep(row: models.Model) -> bool:
        values = {k.name: getattr(row, k.attname) for k in _case_keys(type(row))}
        values = {name: value for name, value in values.items() if value is not None}
        if "case" in values:
            return root is not None and values["case"] == root
        return all(value in cases for value in values.values())

    return keep


def _rows(model: type[models.Model]) -> models.QuerySet[Any]:
    # The base manager: a custom default manager that hides rows must not hide them here.
    return model._base_manager.select_related(*[k.name for k in _keys(model)]).order_by("pk")


def _walk(
    root: models.Model, keep: Callable[[models.Model], bool], seen: set[tuple[str, Any]]
) -> dict[type[models.Model], list[models.Model]]:
    """Every row reached from `root` through foreign keys pointing at rows already found, a
    model at a time (a few queries per model, however many rows), that `keep` allows and that
    is not already `seen` elsewhere in the pack."""
    edges = _keys_by_target()
    found: dict[type[models.Model], list[models.Model]] = defaultdict(list)
    queue: deque[tuple[type[models.Model], list[models.Model]]] = deque([(type(root), [root])])
    while queue:
        parent_model, parents = queue.popleft()
        for child, key in edges.get(parent_model, []):
            if child in ROOTS:
                continue
            target = key.target_field.attname
            values = sorted({getattr(p, target) for p in parents} - {None}, key=str)
            fresh = []
            for start in range(0, len(values), QUERY_CHUNK):
                chunk = values[start : start + QUERY_CHUNK]
                for row in _rows(child).filter(**{f"{key.attname}__in": chunk}):
                    mark = (child._meta.label_lower, row.pk)
                    if mark in seen or not keep(row):
                        continue
                    seen.add(mark)
                    fresh.append(row)
            if fresh:
                found[child].extend(fresh)
                queue.append((child, fresh))
    for rows in found.values():
        rows.sort(key=lambda row: row.pk)
    return dict(found)


# --- Writing rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    storage: Storage
    name: str
    arcname: str
    title: str
    size: int | None


@dataclass(frozen=True)
class PdfRef:
    document: SignedDocument
    arcname: str


@dataclass
class Part:
    """One part of the pack (the person's own records, or a case) as the summary lists it."""

    heading: str
    details: list[tuple[str, str]]
    counts: list[tuple[str, int]] = field(default_factory=list)
    files: list[FileRef] = field(default_factory=list)
    pdfs: list[PdfRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _dumps(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode("utf-8")


# The kinds of record whose model names say least to a reader of the summary.
SUMMARY_LABELS = {
    "audit.auditevent": "History entries (the audit log)",
    "audit.accessevent": "Access log entries (who looked at the record)",
}


def _plural(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name_plural)


class _Sink:
    """Where the ZIP is written: it keeps what was written until it is taken and yielded."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._buffer)

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


class _Pack:
    def __init__(self, user: User, person: Person, cases: list[Case]) -> None:
        self.user = user
        self.person = person
        self.cases = cases
        self.case_ids = frozenset(c.pk for c in cases)
        self.unseen = _unseen_cases(user, person)
        self.prepared_at = timezone.now()
        self.parts: list[Part] = []
        self._labels: dict[tuple[str, Any], str] = {}
        self._seen: set[tuple[str, Any]] = set()

    def _label(self, obj: models.Model) -> str:
        mark = (obj._meta.label_lower, obj.pk)
        if mark not in self._labels:
            self._labels[mark] = str(obj)
        return self._labels[mark]

    def row(self, obj: models.Model, folder: str, part: Part) -> dict[str, Any]:
        """Every concrete field of `obj`: keys as the ID and name of what they point to,
        coded values with their meaning, and files with where they are in the pack."""
        data: dict[str, Any] = {}
        file_fields = [f for f in obj._meta.concrete_fields if isinstance(f, models.FileField)]
        for model_field in obj._meta.concrete_fields:
            name = model_field.name
            if isinstance(model_field, models.ForeignKey):
                if getattr(obj, model_field.attname) is None:
                    data[name] = None
                else:
                    related = getattr(obj, name)
                    data[name] = {"id": _plain(related.pk), "name": self._label(related)}
            elif isinstance(model_field, models.FileField):
                data[name] = self._file(obj, model_field, folder, part, len(file_fields) > 1)
            else:
                value = model_field.value_from_object(obj)
                data[name] = _plain(value)
                if model_field.choices and isinstance(value, str | int) and value != "":
                    meaning = dict(model_field.flatchoices).get(value)
                    if meaning is not None and f"{name}_display" not in data:
                        data[f"{name}_display"] = str(meaning)
        if isinstance(obj, SignedDocument):
            data.update(self._signed_pdf(obj, folder, part))
        return data

    def _file(
        self,
        obj: models.Model,
        file_field: models.FileField,
        folder: str,
        part: Part,
        several: bool,
    ) -> dict[str, Any] | None:
        stored = getattr(obj, file_field.name)
        if not stored:
            return None
        original = str(getattr(obj, "original_name", "") or os.path.basename(stored.name))
        prefix = f"{obj.pk}-{file_field.name}" if several else str(obj.pk)
        arcname = f"{folder}/{_safe(_plural(type(obj)))}/{prefix}-{_safe(original)}"
        title = str(getattr(obj, "title", "") or original)
        if not stored.storage.exists(stored.name):
            part.missing.append(f"{title}: the file is not in storage")
            return {"stored_as": stored.name, "in_pack": None, "missing": True}
        size = getattr(obj, "size_bytes", None)
        part.files.append(FileRef(stored.storage, stored.name, arcname, title, size))
        return {"stored_as": stored.name, "in_pack": arcname}

    def _signed_pdf(self, document: SignedDocument, folder: str, part: Part) -> dict[str, Any]:
        arcname = f"{folder}/closure/{_safe(document.form_id)}-version-{document.version}.pdf"
        if content_hash(document.content) != document.content_hash:
            reason = "Its content no longer matches what was signed: tell your administrator."
            part.missing.append(f"{document.form_id} version {document.version}: {reason}")
            return {"pdf_in_pack": None, "pdf_not_included": reason}
        part.pdfs.append(PdfRef(document, arcname))
        return {"pdf_in_pack": arcname}

    def records(
        self, found: dict[type[models.Model], list[models.Model]], folder: str, part: Part
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for model in sorted(found, key=lambda m: m._meta.label_lower):
            rows = found[model]
            out[model._meta.label_lower] = [self.row(r, folder, part) for r in rows]
            label = model._meta.label_lower
            part.counts.append((SUMMARY_LABELS.get(label, _plural(model).capitalize()), len(rows)))
        return out

    # --- The ZIP ---------------------------------------------------------------------------

    def chunks(self, progress: Progress) -> Iterator[bytes]:
        total = len(self.cases) + 2
        progress(0, total)
        sink = _Sink()
        with (
            tempfile.TemporaryFile() as spool,
            zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            person = self.person
            own = Part(
                heading=f"{person.full_name}: the person's own record",
                details=[("Local ID", person.local_id), ("Casework ID", str(person.pk))],
            )
            self.parts.append(own)
            spool.write(b'{\n"pack": ' + _dumps(self._header()))
            spool.write(b',\n"person": ' + _dumps(self.row(person, "person", own)))
            found = _walk(person, _belongs_to(None, frozenset()), self._seen)
            spool.write(b',\n"about_the_person": ' + _dumps(self.records(found, "person", own)))
            yield from self._files(archive, sink, own)
            progress(1, total)

            spool.write(b',\n"cases": [')
            for number, case in enumerate(self.cases, start=1):
                folder = f"cases/{_safe(case.reference, f'case-{case.pk}')}"
                part = Part(heading=f"Case {case.reference}", details=self._case_details(case))
                self.parts.append(part)
                entry = {
                    "case": self.row(case, folder, part),
                    "records": self.records(
                        _walk(case, _belongs_to(case.pk, self.case_ids), self._seen),
                        folder,
                        part,
                    ),
                }
                spool.write((b",\n" if number > 1 else b"\n") + _dumps(entry))
                yield from self._files(archive, sink, part)
                progress(1 + number, total)
            spool.write(b"\n],\n")
            spool.write(b'"cases_not_included": ' + _dumps(self._unseen_json()))
            spool.write(b',\n"not_included": ' + _dumps(self._excluded_json()) + b"\n}\n")

            spool.seek(0)
            yield from self._copy(archive, sink, spool, "person.json")
            archive.writestr("summary.pdf", self._summary_pdf())
            archive.writestr("README.txt", self._readme())
            yield sink.take()
        yield sink.take()  # the ZIP's central directory, written as it closes
        progress(total, total)

    def _copy(
        self, archive: zipfile.ZipFile, sink: _Sink, source: IO[bytes], arcname: str
    ) -> Iterator[bytes]:
        with archive.open(arcname, "w") as member:
            while chunk := source.read(CHUNK):
                member.write(chunk)
                if len(sink):
                    yield sink.take()
        yield sink.take()

    def _files(self, archive: zipfile.ZipFile, sink: _Sink, part: Part) -> Iterator[bytes]:
        copied = []
        for ref in part.files:
            try:
                source = ref.storage.open(ref.name, "rb")
            except FileNotFoundError:
                part.missing.append(f"{ref.title}: the file is not in storage")
                continue
            with source:
                yield from self._copy(archive, sink, source, ref.arcname)
            copied.append(ref)
        part.files = copied
        for pdf in part.pdfs:
            archive.writestr(pdf.arcname, signed_document_pdf(pdf.document))
            yield sink.take()

    # --- What the pack says about itself ----------------------------------------------------

    def _header(self) -> dict[str, Any]:
        return {
            "what": "Everything Casework holds about one person, for a subject access request",
            "format_version": FORMAT_VERSION,
            "prepared_at": self.prepared_at.isoformat(),
            "prepared_by": {"id": self.user.pk, "name": self.user.display_name},
            "person": {"id": self.person.pk, "local_id": self.person.local_id},
            "reviewed": False,
            "review_note": "Not yet reviewed: a person must check this pack and redact other "
            "people's information before it is released. Casework does not redact.",
        }

    def _case_details(self, case: Case) -> list[tuple[str, str]]:
        return [
            ("Service", str(case.get_service_area_display())),
            ("Team", str(case.responsible_team)),
            ("Opened", long_date(case.opened_on)),
            ("Closed", long_date(case.closed_on) if case.closed_on else "Not closed"),
        ]

    def _unseen_json(self) -> list[dict[str, Any]]:
        return [
            {"service_area": u.service_area, "cases": u.count, "why": u.sentence()}
            for u in self.unseen
        ]

    def _excluded_json(self) -> list[dict[str, str]]:
        return [{"records": label, "why": why} for label, why in sorted(EXCLUDED.items())]

    def _summary_pdf(self) -> bytes:
        html = render_to_string(
            "privacy/summary.html",
            {
                "person": self.person,
                "prepared_by": self.user,
                "prepared_at": self.prepared_at,
                "parts": self.parts,
                "unseen": self.unseen,
                "excluded": sorted(EXCLUDED.items()),
            },
        )
        pdf: bytes = HTML(string=html).write_pdf()
        return pdf

    def _readme(self) -> str:
        files = sum(len(p.files) for p in self.parts)
        pdfs = sum(len(p.pdfs) for p in self.parts)
        missing = sum(len(p.missing) for p in self.parts)
        return render_to_string(
            "privacy/README.txt",
            {
                "person": self.person,
                "prepared_by": self.user,
                "prepared_at": self.prepared_at,
                "cases": len(self.cases),
                "files": files,
                "pdfs": pdfs,
                "missing": missing,
                "unseen": self.unseen,
            },
        )


def subject_access_zip(
    authority: Authority, parameters: Parameters, user: User | None, progress: Progress
) -> Iterator[bytes]:
    """The pack as ZIP bytes, a piece at a time, as `user` (who asked) may see it now."""
    if user is None:
        raise ValueError("A subject access request is always prepared by someone.")
    person = _person(user, parameters)
    cases = list(
        cases_visible_to(user)
        .filter(subject=person)
        .select_related("responsible_team")
        .order_by("opened_on", "pk")
    )
    yield from _Pack(user, person, cases).chunks(progress)


def record_export(job: ExportJob) -> None:
    """The access log entry for the pack, written with the job's completion: the requester
    was given everything about the person."""
    person = Person.objects.get(pk=int(job.parameters["person_id"]))
    record_access(
        actor=job.requested_by,
        action=AccessAction.EXPORTED,
        channel=AccessChannel.BACKGROUND,
        person=person,
        summary=f"Subject access request export (job {job.pk})",
    )
