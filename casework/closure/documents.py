"""Signed summaries as PDF documents (X-05): rendered by WeasyPrint from exactly the content
that was signed, with its SHA-256, so the PDF shows what was signed and nothing else."""

from __future__ import annotations

from django.template.loader import render_to_string
from weasyprint import HTML

from casework.closure.models import SignedDocument
from casework.closure.services import content_hash


class TamperedDocument(Exception):
    """The stored content no longer matches the hash that was signed."""


def signed_document_pdf(document: SignedDocument) -> bytes:
    if content_hash(document.content) != document.content_hash:
        # Never print a document whose content differs from what people signed.
        raise TamperedDocument(f"Signed document {document.pk} does not match its hash.")
    html = render_to_string(
        "closure/signed_document.html",
        {
            "document": document,
            "content": document.content,
            "signatures": list(document.signatures.select_related("signer")),
        },
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
