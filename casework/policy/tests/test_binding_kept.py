"""X-06: which policy pack governs what is kept by each process under a key the authority
row carries (as its calendar is), so a case page and a closure proposal need not read the
bindings each time (issue 10), and a change of binding, through the service or the admin,
is seen at once by whoever reads the authority next."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from casework.organisation.models import Authority
from casework.policy.models import PackBinding
from casework.policy.services import bound_pack, pack_bind


def _closure_pack_id(authority: Authority) -> str | None:
    pack = bound_pack(authority, "children", "closure")
    return pack.id if pack else None


def _fresh(authority: Authority) -> Authority:
    """The authority as another request (or process) reads it."""
    return Authority.objects.get(pk=authority.pk)


def _bind(authority: Authority, pack_id: str) -> None:
    pack_bind(
        actor=None, authority=authority, service_area="children", purpose="closure", pack_id=pack_id
    )


def test_x06_which_pack_is_bound_is_read_once_and_kept(authority: Authority) -> None:
    _bind(authority, "000-closing-cases")
    assert _closure_pack_id(_fresh(authority)) == "000-closing-cases"
    fresh = _fresh(authority)
    with CaptureQueriesContext(connection) as queries:
        assert _closure_pack_id(fresh) == "000-closing-cases"
        assert bound_pack(fresh, "children", "transfer") is None  # none bound: read once
        assert bound_pack(fresh, "children", "transfer") is None
    assert len(queries) == 1


def test_x06_a_binding_switched_or_removed_is_seen_at_once(authority: Authority) -> None:
    assert _closure_pack_id(authority) is None
    _bind(authority, "000-closing-cases")
    assert _closure_pack_id(authority) == "000-closing-cases"  # the object it was bound with
    elsewhere = _fresh(authority)
    _bind(_fresh(authority), "001-closure-record")
    assert _closure_pack_id(_fresh(authority)) == "001-closure-record"
    assert _closure_pack_id(elsewhere) == "000-closing-cases"  # read before: its own moment
    PackBinding.objects.get(authority=authority, purpose="closure").delete()  # as the admin
    assert _closure_pack_id(_fresh(authority)) is None


@pytest.mark.django_db(transaction=True)
def test_x06_a_binding_rolled_back_is_never_served(authority: Authority) -> None:
    """The key a rolled-back binding made is never made again, so the pack read inside that
    transaction is never served afterwards."""
    _bind(authority, "000-closing-cases")

    def switch_then_fail() -> None:
        with transaction.atomic():
            _bind(_fresh(authority), "001-closure-record")
            assert _closure_pack_id(_fresh(authority)) == "001-closure-record"
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        switch_then_fail()
    assert _closure_pack_id(_fresh(authority)) == "000-closing-cases"


def test_x06_an_authority_saved_from_an_older_copy_keeps_the_new_bindings_key(
    authority: Authority,
) -> None:
    stale = _fresh(authority)
    _bind(authority, "000-closing-cases")
    stale.name = "Testshire Council"
    stale.save()
    assert _closure_pack_id(_fresh(authority)) == "000-closing-cases"


def test_x06_a_row_written_without_a_key_is_never_kept(authority: Authority) -> None:
    _bind(authority, "000-closing-cases")
    Authority.objects.filter(pk=authority.pk).update(bindings_key="")
    fresh = _fresh(authority)
    _closure_pack_id(fresh)
    with CaptureQueriesContext(connection) as queries:
        assert _closure_pack_id(fresh) == "000-closing-cases"
    assert len(queries) == 1  # read again
