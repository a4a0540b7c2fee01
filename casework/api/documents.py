"""A case's documents through the API: their details, the file itself, and uploading one.
Uploads go through the same service as the screens' (type sniffed from the file's first
bytes, size limit, stored under a name Casework chooses, audited)."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from casework.access.policy import case_for
from casework.accounts.models import User
from casework.api.common import Page, PageQuery, file_answer, keyset_page
from casework.api.problems import ERRORS
from casework.cases.models import Document, DocumentKind
from casework.cases.services import ALLOWED_DOCUMENT_TYPES, document_upload
from casework.core.errors import NotFound
from casework.frontend.pages import signed_in_user as _user
from casework.frontend.security import file_response

router = Router(tags=["documents"])


class DocumentOut(Schema):
    id: int
    case_id: int
    kind: str
    title: str
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime
    content_url: str = Field(description="GET it (with your token) for the file itself.")


def _document_out(document: Document) -> DocumentOut:
    return DocumentOut(
        id=document.pk,
        case_id=document.case_id,
        kind=document.kind,
        title=document.title,
        original_name=document.original_name,
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        uploaded_by=document.uploaded_by.username,
        uploaded_at=document.uploaded_at,
        content_url=f"/api/v1/cases/{document.case_id}/documents/{document.pk}/content",
    )


def _document(user: User, case_id: int, document_id: int) -> Document:
    case = case_for(user, case_id)
    found = case.documents.select_related("uploaded_by").filter(pk=document_id).first()
    if found is None:
        raise NotFound("There is no document with that ID on this case.")
    return found


@router.get("/cases/{case_id}/documents", response={200: Page[DocumentOut], **ERRORS})
def list_documents(request: HttpRequest, case_id: int, page: Query[PageQuery]) -> Page[DocumentOut]:
    """The case's documents, newest first (details only; each has a `content_url`)."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.documents.select_related("uploaded_by"), page)
    return Page[DocumentOut](items=[_document_out(d) for d in found], next=following)


@router.get("/cases/{case_id}/documents/{document_id}", response={200: DocumentOut, **ERRORS})
def get_document(request: HttpRequest, case_id: int, document_id: int) -> DocumentOut:
    return _document_out(_document(_user(request), case_id, document_id))


@router.get(
    "/cases/{case_id}/documents/{document_id}/content",
    response={200: None, **ERRORS},
    openapi_extra=file_answer("The file, as uploaded.", *ALLOWED_DOCUMENT_TYPES),
)
def document_content(request: HttpRequest, case_id: int, document_id: int) -> FileResponse:
    """The file itself, with the type Casework found in it."""
    document = _document(_user(request), case_id, document_id)
    opened: IO[bytes] = document.file.open("rb")
    return file_response(
        opened,
        filename=document.original_name,
        content_type=document.content_type,
    )


class DocumentIn(Schema):
    kind: DocumentKind
    title: str = Field(min_length=1, max_length=200)


@router.post("/cases/{case_id}/documents", response={201: DocumentOut, **ERRORS})
def upload_document(
    request: HttpRequest,
    case_id: int,
    details: Form[DocumentIn],
    upload: File[UploadedFile],
) -> Any:
    """Upload a PDF, PNG, JPEG or plain text file (`multipart/form-data`: `kind`, `title`,
    `upload`). The type is read from the file itself, not trusted from its name."""
    user = _user(request)
    made = document_upload(
        actor=user,
        case=case_for(user, case_id),
        kind=details.kind,
        title=details.title,
        upload=upload,
    )
    return Status(
        201, _document_out(Document.objects.select_related("uploaded_by").get(pk=made.pk))
    )
