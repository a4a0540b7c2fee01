"""Disposal: removing a person's records from every table and every stored file (X-04).

Called only by `retention_destroy`, inside its transaction, after the reviewer's decision
and the legal-hold check. Generic by design: the rows to remove are found by walking every
model's foreign keys (`apps.get_models()`) outward from the person and their cases, so a
model added later is covered without anyone remembering to add it here.

What goes:

- **The people**: the person, and any relative or carer who exists only as part of this
  record: linked to it (relationships, carer links) and to nothing else, with no case of
  their own, no legal hold, nothing else pointing at them. Relatives who have their own
  cases, or links to someone else's record, stay; only the links to this person go.
- **Every row that points at something going**, followed transitively (cases, referrals,
  plans, visits, notes, documents, closures and their forms and signatures, tasks,
  notifications, transfers, restrictions, emergency access...). The rule per foreign key:
  `CASCADE` means the row is part of the record, so it goes; `SET_NULL`, or any nullable
  key, means the row belongs to another record, so the key is cleared and the row stays;
  a non-nullable key (e.g. `PROTECT`) means the row cannot exist without what it points
  at, so it goes too. Generic references (`content_type` + `object_id`, such as the admin's
  log) to rows that go, go as well. An address goes with the last residence at it.
- **Files**: every `FileField` of a row that goes, deleted from storage once the transaction
  commits (a rolled-back disposal must not lose files).
- **Copies outside the foreign keys**: notifications and stored API answers that mention the
  person's identifiers, problems listed by exports, export files that contain them, and
  form data kept in sign-in sessions.

What stays, as the tombstone: the audit log and the access log are append-only. Their events
about the record keep their verb, date, actor and object, but their summary, reason and
changes are redacted and their links to the person and case cleared, through
`casework.audit.integrity.audit_redaction`. A row that an append-only log points at through a
column redaction may not clear (an access-log entry's emergency access) cannot be deleted: it
stays with its text emptied and its links to the record cleared, and if one of those links
cannot be cleared the disposal is refused and nothing changes.

Not covered: free text in *other* people's records that mentions this person (a sibling's
case note); those belong to the sibling's record and follow its own retention.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.storage import Storage
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q

from casework.audit import models as audit_models
from casework.audit.integrity import CLEARABLE_COLUMNS, REDACTABLE_COLUMNS, audit_redaction
from casework.cases.models import Case
from casework.core.errors import InvalidInput
from casework.people.models import Person

logger = logging.getLogger(__name__)

REDACTED_SUMMARY = "Record disposed of under the retention schedule"
_CHUNK = 500
# A row that goes may leave the row it points at with nothing else to belong to.
_OWNED_TARGETS = {("people", "residence", "address")}
# Tables whose rows are short-lived messages or copies: a row that mentions the person goes.
_TRANSIENT = ("tasks.Notification", "api.IdempotentRequest")
_SHORTEST_IDENTIFIER = 6

Rows = dict[type[models.Model], set[Any]]


@dataclass
class DisposalReport:
    """What a disposal removed, in counts only (it is written to the tombstone event)."""

    people: int = 0
    cases: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    kept_as_tombstones: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    files: int = 0
    copies_removed: dict[str, int] = field(default_factory=dict)

    def as_changes(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "cases": self.cases,
            "rows_deleted": dict(sorted(self.deleted.items())),
            "links_cleared": dict(sorted(self.cleared.items())),
            "kept_as_tombstones": dict(sorted(self.kept_as_tombstones.items())),
            "log_entries_redacted": dict(sorted(self.redacted.items())),
            "files_deleted": self.files,
            "copies_removed": dict(sorted(self.copies_removed.items())),
        }


def _chunks(values: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    items = sorted(values, key=str)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The guard the audit log and the access log share (and any later log built the same way).
_APPEND_ONLY: type = getattr(audit_models, "AppendOnlyQuerySet", audit_models.AuditEventQuerySet)


def is_append_only(model: type[models.Model]) -> bool:
    """The audit log and the access log: rows are redacted, never deleted."""
    queryset_class = getattr(model._default_manager, "_queryset_class", None)
    return isinstance(queryset_class, type) and issubclass(queryset_class, _APPEND_ONLY)


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey)  # OneToOneField is a ForeignKey
    ]


def _target(f: models.ForeignKey[Any, Any]) -> type[models.Model]:
    related = f.related_model
    assert isinstance(related, type)  # noqa: S101 - concrete keys point at a model class
    return related._meta.concrete_model or related


def _link_index() -> dict[type[models.Model], list[tuple[type[models.Model], Any]]]:
    """For each model, every (model, foreign key) that points at it."""
    index: dict[type[models.Model], list[tuple[type[models.Model], Any]]] = defaultdict(list)
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy:
            continue
        for f in _foreign_keys(model):
            index[_target(f)].append((model, f))
    return index


def _keys(target: type[models.Model], pks: Iterable[Any], f: Any) -> list[Any]:
    """The values a foreign key `f` stores for rows `pks` of `target` (their pks, unless the
    key points at another column)."""
    pks = list(pks)
    if f.target_field.primary_key:
        return pks
    found: list[Any] = []
    for chunk in _chunks(pks):
        found += target._base_manager.filter(pk__in=chunk).values_list(
            f.target_field.attname, flat=True
        )
    return found


def _rows_pointing(model: type[models.Model], f: Any, keys: Iterable[Any]) -> set[Any]:
    found: set[Any] = set()
    for chunk in _chunks(keys):
        found |= set(
            model._base_manager.filter(**{f"{f.attname}__in": chunk}).values_list("pk", flat=True)
        )
    return found


def _goes_with_target(f: Any) -> bool:
    """Whether a row goes when what its key `f` points at goes (else the key is cleared)."""
    if f.remote_field.on_delete is models.CASCADE:
        return True
    return not f.null


def _generic_reference(model: type[models.Model]) -> tuple[str, str] | None:
    """(content type key, object id field) for models that point at any row generically:
    declared GenericForeignKeys, and the `content_type` + `object_id` convention (the
    admin's log entries)."""
    for private in model._meta.private_fields:
        ct_field = getattr(private, "ct_field", None)
        fk_field = getattr(private, "fk_field", None)
        if ct_field and fk_field:
            return f"{ct_field}_id", fk_field
    names = {f.name for f in model._meta.concrete_fields}
    if {"content_type", "object_id"} <= names:
        return "content_type_id", "object_id"
    return None


# --- Who goes --------------------------------------------------------------------------------


def _person_links(
    index: dict[type[models.Model], list[tuple[type[models.Model], Any]]],
) -> list[tuple[type[models.Model], list[Any]]]:
    """Models that link two people, each key `CASCADE` (relationships, carer links)."""
    by_model: dict[type[models.Model], list[Any]] = defaultdict(list)
    for model, f in index.get(Person, []):
        by_model[model].append(f)
    return [
        (model, keys)
        for model, keys in by_model.items()
        if len(keys) >= 2 and all(k.remote_field.on_delete is models.CASCADE for k in keys)
    ]


def _has_cases(people: set[int]) -> set[int]:
    return set(
        Case.objects.filter(subject_id__in=people).values_list("subject_id", flat=True).distinct()
    )


def _only_part_of(
    person_id: int,
    group: set[int],
    index: dict[type[models.Model], list[tuple[type[models.Model], Any]]],
) -> bool:
    """Whether everything that points at this person is theirs alone or links to `group`."""
    from casework.retention.models import LegalHold

    if LegalHold.objects.in_force().filter(person_id=person_id).exists():
        return False
    for model, f in index.get(Person, []):
        if is_append_only(model):
            continue
        rows = model._base_manager.filter(**{f.attname: person_id})
        if f.remote_field.on_delete is models.CASCADE:
            for other in _foreign_keys(model):
                if other is f or _target(other) is not Person:
                    continue
                if (
                    rows.exclude(**{f"{other.attname}__in": group})
                    .exclude(**{f"{other.attname}__isnull": True})
                    .exists()
                ):
                    return False
        elif f.remote_field.on_delete is models.SET_NULL:
            continue
        elif rows.exists():
            return False
    return True


def people_to_dispose(person: Person) -> set[int]:
    """The person, and the relatives and carers who exist only as part of their record."""
    index = _link_index()
    links = _person_links(index)
    candidates: set[int] = set()
    seen = {person.pk}
    frontier = {person.pk}
    while frontier:
        found: set[int] = set()
        for model, keys in links:
            for f in keys:
                for other in keys:
                    if other is f:
                        continue
                    for chunk in _chunks(frontier):
                        found |= set(
                            model._base_manager.filter(**{f"{f.attname}__in": chunk})
                            .exclude(**{f"{other.attname}__isnull": True})
                            .values_list(other.attname, flat=True)
                        )
        found -= seen
        seen |= found
        # Someone with their own case is a record of their own: the walk stops at them.
        frontier = found - _has_cases(found)
        candidates |= frontier
    changed = True
    while changed:
        changed = False
        for candidate in sorted(candidates):
            if not _only_part_of(candidate, {person.pk} | candidates, index):
                candidates.discard(candidate)
                changed = True
    return {person.pk} | candidates


@dataclass
class _Plan:
    doomed: Rows = field(default_factory=lambda: defaultdict(set))
    order: list[type[models.Model]] = field(default_factory=list)
    cleared: dict[tuple[type[models.Model], str], set[Any]] = field(
        default_factory=lambda: defaultdict(set)
    )

    def add(self, model: type[models.Model], pks: set[Any]) -> set[Any]:
        new = pks - self.doomed[model]
        if new:
            if model not in self.order:
                self.order.append(model)
            self.doomed[model] |= new
        return new


def _walk(people: set[int]) -> _Plan:
    index = _link_index()
    plan = _Plan()
    cases = set(Case.objects.filter(subject_id__in=people).values_list("pk", flat=True))
    queue: deque[tuple[type[models.Model], set[Any]]] = deque()
    seeds: list[tuple[type[models.Model], set[Any]]] = [(Person, people), (Case, cases)]
    for seed, pks in seeds:
        queue.append((seed, plan.add(seed, pks)))
    generic = [(m, ref) for m in apps.get_models() if (ref := _generic_reference(m))]
    while queue:
        while queue:
            target, pks = queue.popleft()
            for model, f in index.get(target, []):
                if is_append_only(model):
                    continue
                found = _rows_pointing(model, f, _keys(target, pks, f))
                if not found:
                    continue
                if _goes_with_target(f):
                    new = plan.add(model, found)
                    if new:
                        queue.append((model, new))
                else:
                    plan.cleared[(model, f.attname)] |= found
            for app_label, model_name, key_name in _OWNED_TARGETS:
                if (target._meta.app_label, target._meta.model_name) != (app_label, model_name):
                    continue
                owning = target._meta.get_field(key_name)
                assert isinstance(owning, models.ForeignKey)  # noqa: S101 - listed as a key
                owned = set(
                    target._base_manager.filter(pk__in=pks).values_list(owning.attname, flat=True)
                )
                still_used = set(
                    target._base_manager.filter(**{f"{owning.attname}__in": owned})
                    .exclude(pk__in=plan.doomed[target])
                    .values_list(owning.attname, flat=True)
                )
                owner = _target(owning)
                new = plan.add(owner, owned - still_used)
                if new:
                    queue.append((owner, new))
        # Generic references last: they may add rows, whose own references are walked next.
        from django.contrib.contenttypes.models import ContentType

        for holder, (ct_key, id_field) in generic:
            for target in list(plan.order):
                ct = ContentType.objects.get_for_model(target, for_concrete_model=True)
                ids = [str(pk) for pk in plan.doomed[target]]
                found = set()
                for chunk in _chunks(ids):
                    found |= set(
                        holder._base_manager.filter(
                            **{ct_key: ct.pk, f"{id_field}__in": chunk}
                        ).values_list("pk", flat=True)
                    )
                new = plan.add(holder, found)
                if new:
                    queue.append((holder, new))
    for cleared_key in list(plan.cleared):
        plan.cleared[cleared_key] -= plan.doomed[cleared_key[0]]
    return plan


# --- The logs ---------------------------------------------------------------------------------


@dataclass
class _LogPlan:
    model: type[models.Model]
    rows: set[Any]
    clear: dict[str, set[Any]]


def _log_plans(plan: _Plan) -> tuple[list[_LogPlan], Rows]:
    """For each append-only log: the entries about the record, the links to clear, and the
    rows the log pins (pointed at through a column redaction may not clear)."""
    plans = []
    pinned: Rows = defaultdict(set)
    for model in apps.get_models():
        if not is_append_only(model):
            continue
        rows: set[Any] = set()
        clear: dict[str, set[Any]] = {}
        for f in _foreign_keys(model):
            target = _target(f)
            doomed = plan.doomed.get(target, set())
            if not doomed:
                continue
            found = _rows_pointing(model, f, _keys(target, doomed, f))
            if not found:
                continue
            if f.column in CLEARABLE_COLUMNS:
                rows |= found
                clear[f.attname] = found
            else:
                for chunk in _chunks(found):
                    pinned[target] |= set(
                        model._base_manager.filter(pk__in=chunk).values_list(f.attname, flat=True)
                    )
        names = {f.name for f in model._meta.concrete_fields}
        if {"object_type", "object_id"} <= names:
            for target in plan.order:
                ids = [str(pk) for pk in plan.doomed[target]]
                for chunk in _chunks(ids):
                    rows |= set(
                        model._base_manager.filter(
                            object_type=target._meta.label_lower, object_id__in=chunk
                        ).values_list("pk", flat=True)
                    )
        if rows:
            plans.append(_LogPlan(model, rows, clear))
    return plans, pinned


def _redactions(model: type[models.Model]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.column not in REDACTABLE_COLUMNS:
            continue
        if isinstance(f, models.JSONField):
            values[f.attname] = {}
        elif f.name == "summary":
            values[f.attname] = REDACTED_SUMMARY
        else:
            values[f.attname] = ""
    return values


def _redact(log_plans: list[_LogPlan], report: DisposalReport, using: str) -> None:
    with audit_redaction(using):
        for log in log_plans:
            values = _redactions(log.model)
            for chunk in _chunks(log.rows):
                log.model._base_manager.using(using).filter(pk__in=chunk).update(**values)
            for attname, rows in log.clear.items():
                for chunk in _chunks(rows):
                    log.model._base_manager.using(using).filter(pk__in=chunk).update(
                        **{attname: None}
                    )
            report.redacted[log.model._meta.label] = len(log.rows)


@dataclass
class _Pinned:
    model: type[models.Model]
    pks: set[Any]
    values: dict[str, Any]


def _pin(plan: _Plan, pinned: Rows, files: list[tuple[Storage, str]]) -> list[_Pinned]:
    """Rows a log points at stay, emptied of what they said and cut from the record. Worked
    out before anything is written, so that a row that cannot be kept refuses the disposal
    with nothing changed."""
    kept = []
    for target, pointed in pinned.items():
        pks = pointed & plan.doomed.get(target, set())
        if not pks:
            continue
        plan.doomed[target] -= pks
        values: dict[str, Any] = {}
        for f in target._meta.concrete_fields:
            if f.primary_key:
                continue
            if isinstance(f, models.ForeignKey):
                if not plan.doomed.get(_target(f)):
                    continue
                if not f.null:
                    raise InvalidInput(
                        "These records cannot be destroyed yet: the access log keeps an entry "
                        f"that points to a {target._meta.verbose_name}, which cannot be kept "
                        f"without its {f.verbose_name}. Nothing has been destroyed or changed. "
                        "Ask your system administrator to report this to the Casework team."
                    )
                values[f.attname] = None
            elif isinstance(f, models.FileField):
                names = target._base_manager.filter(pk__in=pks).values_list(f.attname, flat=True)
                files += [(f.storage, name) for name in names if name]
                values[f.attname] = ""
            elif isinstance(f, models.JSONField):
                values[f.attname] = f.get_default()
            elif isinstance(f, models.CharField | models.TextField) and not f.choices:
                values[f.attname] = ""
        kept.append(_Pinned(target, pks, values))
    return kept


# --- Copies outside the foreign keys ----------------------------------------------------------


@dataclass(frozen=True)
class Identifiers:
    """What identifies the people disposed of, for finding copies held as text."""

    strong: tuple[str, ...]  # local IDs, NHS numbers, UPNs, case references
    names: tuple[str, ...]  # full names: only for short-lived copies
    case_ids: frozenset[int]
    person_ids: frozenset[int]

    def pattern(self, *, with_names: bool) -> re.Pattern[str] | None:
        words = [*self.strong, *(self.names if with_names else ())]
        words = [w for w in words if w]
        if not words:
            return None
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])", re.IGNORECASE)

    def paths(self) -> list[str]:
        return [f"/cases/{pk}" for pk in self.case_ids] + [
            f"/people/{pk}" for pk in self.person_ids
        ]

    def mentioned_in(self, text: str, *, with_names: bool = True) -> bool:
        pattern = self.pattern(with_names=with_names)
        if pattern is not None and pattern.search(text):
            return True
        return any(re.search(rf"{re.escape(p)}(?![0-9])", text) for p in self.paths())


def identifiers_of(people: set[int]) -> Identifiers:
    strong: list[str] = []
    names: list[str] = []
    for local_id, nhs, upn, given, family in Person.objects.filter(pk__in=people).values_list(
        "local_id", "nhs_number", "upn", "given_name", "family_name"
    ):
        strong += [local_id, nhs, upn]
        names.append(f"{given} {family}".strip())
    cases = dict(Case.objects.filter(subject_id__in=people).values_list("pk", "reference"))
    strong += list(cases.values())
    # Too short an identifier would match unrelated text (a local ID "7"): such are left out.
    return Identifiers(
        strong=tuple(s for s in strong if len(s) >= _SHORTEST_IDENTIFIER),
        names=tuple(n for n in names if len(n) >= _SHORTEST_IDENTIFIER),
        case_ids=frozenset(cases),
        person_ids=frozenset(people),
    )


def _text_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def _mentioning(model: type[models.Model], who: Identifiers) -> list[Any]:
    """Rows of `model` whose text mentions the people: found with LIKE, confirmed here on
    word boundaries (a local ID must not match a longer one)."""
    fields = _text_fields(model)
    words = [*who.strong, *who.names, *who.paths()]
    condition = Q()
    for f in fields:
        for word in words:
            condition |= Q(**{f"{f.attname}__icontains": word})
    if not condition:
        return []
    found = []
    for row in model._base_manager.filter(condition).iterator():
        text = " ".join(json.dumps(getattr(row, f.attname), default=str) for f in fields)
        if who.mentioned_in(text):
            found.append(row.pk)
    return found


def _remove_copies(
    who: Identifiers, files: list[tuple[Storage, str]], report: DisposalReport
) -> None:
    for label in _TRANSIENT:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        found = _mentioning(model, who)
        if found:
            for chunk in _chunks(found):
                model._base_manager.filter(pk__in=chunk)._raw_delete(model._base_manager.db)
            report.copies_removed[model._meta.label] = len(found)
    _scrub_exports(who, files, report)
    if settings.SESSION_ENGINE.startswith("django.contrib.sessions.backends."):
        _scrub_sessions(who, report)


def _scrub_exports(
    who: Identifiers, files: list[tuple[Storage, str]], report: DisposalReport
) -> None:
    """An export of these people alone (a subject access request) goes, with its file.
    Other exports (statutory returns) cover many people: the problems they listed about these
    people are removed, and a file that contains them is deleted (a return can be run again;
    a compressed file cannot be read for them, see docs/retention.md)."""
    try:
        model = apps.get_model("returns", "ExportJob")
    except LookupError:
        return
    pattern = who.pattern(with_names=False)
    person_ids = {str(pk) for pk in who.person_ids}
    changed = 0
    about_them = []
    for job in model._base_manager.all().iterator():
        stored = getattr(job, "file", None)
        parameters = getattr(job, "parameters", None)
        if isinstance(parameters, dict) and (
            str(parameters.get("person_id", "")) in person_ids
            or who.mentioned_in(json.dumps(parameters), with_names=False)
        ):
            # An export of this person alone (a subject access request): it goes whole.
            if stored:
                files.append((stored.storage, stored.name))
            about_them.append(job.pk)
            continue
        updates: dict[str, Any] = {}
        problems = getattr(job, "problems", None)
        if isinstance(problems, list) and problems:
            kept = [
                p
                for p in problems
                if not (
                    (isinstance(p, dict) and p.get("case_id") in who.case_ids)
                    or who.mentioned_in(json.dumps(p))
                )
            ]
            if len(kept) != len(problems):
                updates["problems"] = kept
                updates["problem_count"] = len(kept)
        if stored and pattern is not None and _file_mentions(stored, pattern):
            files.append((stored.storage, stored.name))
            updates["file"] = ""
        if updates:
            model._base_manager.filter(pk=job.pk).update(**updates)
            changed += 1
    for chunk in _chunks(about_them):
        model._base_manager.filter(pk__in=chunk)._raw_delete(model._base_manager.db)
    if changed or about_them:
        report.copies_removed[model._meta.label] = changed + len(about_them)


def _file_mentions(stored: Any, pattern: re.Pattern[str]) -> bool:
    try:
        with stored.storage.open(stored.name, "rb") as handle:
            tail = ""
            while chunk := handle.read(1024 * 1024):
                text = tail + chunk.decode("utf-8", errors="ignore")
                if pattern.search(text):
                    return True
                tail = text[-200:]
    except OSError:
        return False
    return False


def _scrub_sessions(who: Identifiers, report: DisposalReport) -> None:
    """Form data kept in a session across a sign-in time-out can hold the person's details:
    drop the entries that mention them (the session itself stays signed in)."""
    scrubbed = 0
    for session in Session.objects.iterator():
        data = session.get_decoded()
        dropped = [k for k, v in data.items() if who.mentioned_in(json.dumps(v, default=str))]
        if not dropped:
            continue
        for key in dropped:
            del data[key]
        Session.objects.save(session.session_key, data, session.expire_date)
        scrubbed += 1
    if scrubbed:
        report.copies_removed["sessions.Session"] = scrubbed


# --- Doing it ---------------------------------------------------------------------------------


def _file_names(plan: _Plan) -> list[tuple[Storage, str]]:
    files = []
    for model in plan.order:
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        for f in file_fields:
            for chunk in _chunks(plan.doomed[model]):
                for name in model._base_manager.filter(pk__in=chunk).values_list(
                    f.attname, flat=True
                ):
                    if name:
                        files.append((f.storage, name))
    return files


def _delete_files(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            # The rows are gone; a file left behind is found by the storage check in
            # docs/retention.md. Logged without the name, which may carry personal data.
            logger.exception("A disposed record's file could not be deleted from storage")


def dispose_of_person(person: Person, *, using: str = DEFAULT_DB_ALIAS) -> DisposalReport:
    """Remove `person`'s records (see the module's docstring). Inside the caller's
    transaction: everything is removed, or nothing (files go once it commits)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("dispose_of_person must run inside the disposal's transaction")
    report = DisposalReport()
    people = people_to_dispose(person)
    who = identifiers_of(people)
    plan = _walk(people)
    _refuse_structural(plan)
    log_plans, pinned = _log_plans(plan)
    files: list[tuple[Storage, str]] = []
    kept = _pin(plan, pinned, files)
    files += _file_names(plan)
    report.people = len(plan.doomed[Person])
    report.cases = len(plan.doomed.get(Case, set()))

    _redact(log_plans, report, using)
    for row in kept:
        for chunk in _chunks(row.pks):
            row.model._base_manager.using(using).filter(pk__in=chunk).update(**row.values)
        report.kept_as_tombstones[row.model._meta.label] = len(row.pks)
    for (model, attname), pks in plan.cleared.items():
        if pks:
            for chunk in _chunks(pks):
                model._base_manager.using(using).filter(pk__in=chunk).update(**{attname: None})
            report.cleared[f"{model._meta.label}.{attname}"] = len(pks)
    # Rows that point at others first (the database checks every key again below).
    for model in reversed(plan.order):
        pks = plan.doomed[model]
        if not pks:
            continue
        for chunk in _chunks(pks):
            model._base_manager.using(using).filter(pk__in=chunk)._raw_delete(using)
        report.deleted[model._meta.label] = len(pks)
    _remove_copies(who, files, report)
    # Keys are checked at commit; checking the tables that could point at a removed row now
    # makes a row this walk missed fail the disposal here, rather than at commit.
    index = _link_index()
    connection.check_constraints(
        table_names=sorted(
            {m._meta.db_table for target in plan.order for m, _ in index.get(target, [])}
        )
    )
    report.files = len(files)
    transaction.on_commit(lambda: _delete_files(files), using=using)
    return report


# Rows of these apps are never part of a person's record: if the walk reaches one, a foreign
# key somewhere is wrong for disposal, and nothing is removed.
_NEVER_DISPOSED = frozenset(
    {"accounts", "auth", "organisation", "policy", "contenttypes", "sessions"}
)


def _refuse_structural(plan: _Plan) -> None:
    reached = sorted(
        m._meta.label for m in plan.order if plan.doomed[m] and m._meta.app_label in _NEVER_DISPOSED
    )
    if reached:
        raise InvalidInput(
            "These records cannot be destroyed: removing them would also remove records that "
            f"are not part of anyone's case ({', '.join(reached)}). Nothing has been changed. "
            "Ask your system administrator to report this to the Casework team."
        )
