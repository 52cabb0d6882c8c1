"""Attachments: check uploads by their content, store them outside the web root, and record them on a ticket."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.file_checks import (
    OLE_MAGIC,
    doc_problem,
    docx_problem,
    image_problem,
    is_docx,
    is_text,
    pdf_problem,
)
from helpdesk.tickets.history import record_change
from helpdesk.tickets.models import Attachment, Ticket

MAX_FILES = 5
DEFAULT_MAX_BYTES = 3 * 1024 * 1024
_STORAGE_NAME = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class FileType:
    """An allowed kind of file: what people call it, how it is served, its extensions and its content test."""

    label: str
    content_type: str
    extensions: tuple[str, ...]
    matches: Callable[[bytes], bool]
    #: The deeper check of a file that matches: why it is refused, or None.
    problem: Callable[[bytes], str | None] = lambda data: None


#: Binary types first: every one of them is told apart by its first bytes; plain text is the last resort.
FILE_TYPES = (
    FileType("PDF document", "application/pdf", ("pdf",), lambda d: d.startswith(b"%PDF-"), pdf_problem),
    FileType("Word document (DOC)", "application/msword", ("doc",), lambda d: d.startswith(OLE_MAGIC), doc_problem),
    FileType(
        "Word document (DOCX)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        is_docx,
        docx_problem,
    ),
    FileType("RTF document", "application/rtf", ("rtf",), lambda d: d.startswith(b"{\\rtf")),
    FileType(
        "JPEG image", "image/jpeg", ("jpg", "jpeg"), lambda d: d.startswith(b"\xff\xd8\xff"), image_problem("JPEG")
    ),
    FileType("PNG image", "image/png", ("png",), lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"), image_problem("PNG")),
    FileType("GIF image", "image/gif", ("gif",), lambda d: d.startswith((b"GIF87a", b"GIF89a")), image_problem("GIF")),
    FileType(
        "TIFF image",
        "image/tiff",
        ("tif", "tiff"),
        lambda d: d.startswith((b"II*\x00", b"MM\x00*")),
        image_problem("TIFF"),
    ),
    FileType("text file", "text/plain", ("txt",), is_text),
)
BY_EXTENSION = {extension: kind for kind in FILE_TYPES for extension in kind.extensions}
CONTENT_TYPES = frozenset(kind.content_type for kind in FILE_TYPES)
ALLOWED_WORDS = "PDF, DOC, DOCX, RTF, TXT, JPG, PNG, GIF or TIFF"


class AttachmentError(TicketError):
    """Files that cannot be attached: one problem in words per file, each naming the file."""

    code = "invalid_attachment"
    field = "attachments"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Upload:
    """A checked file, ready to store."""

    filename: str
    kind: FileType
    data: bytes
    sha256: str


def size_words(size: int) -> str:
    """Return a size in words: "512 bytes", "9.8 KB", "3 MB"."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / (1024 * 1024), "MB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def clean_filename(name: str | None) -> str:
    """Return the file's own name, without folders, control characters or anything a header could trip on."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._")
    stem, dot, extension = base.rpartition(".")
    if len(base) > 255:  # keep the extension: it says what the file is
        base = f"{stem[: 250 - len(extension)]}.{extension}" if dot else base[:255]
    return base or "attachment"


def check_upload(name: str | None, stream: IO[bytes], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Upload:
    """Read one file and return it checked, or raise AttachmentError: its content must match its extension."""
    filename = clean_filename(name)
    allowed = f"Attach only {ALLOWED_WORDS} files of up to {size_words(max_bytes)} each."
    kind = BY_EXTENSION.get(filename.rpartition(".")[2].lower()) if "." in filename else None
    if kind is None:
        raise AttachmentError([f"“{filename}” is not an allowed type of file. {allowed}"])
    data = stream.read(max_bytes + 1)  # one byte over the limit is enough to know
    if len(data) > max_bytes:
        raise AttachmentError([f"“{filename}” is larger than {size_words(max_bytes)}. {allowed}"])
    if not data:
        raise AttachmentError([f"“{filename}” is empty."])
    if not kind.matches(data):
        actual = next((other.label for other in FILE_TYPES[:-1] if other.matches(data)), None)
        what = f"it is a {actual}" if actual else "its content is not one of the allowed types"
        raise AttachmentError([f"“{filename}” is named as a {kind.label}, but {what}. {allowed}"])
    problem = kind.problem(data)
    if problem:
        raise AttachmentError([f"“{filename}” cannot be attached: {problem}. {allowed}"])
    return Upload(filename, kind, data, hashlib.sha256(data).hexdigest())


def check_uploads(
    files: Sequence[tuple[str | None, IO[bytes]]], *, max_bytes: int = DEFAULT_MAX_BYTES, max_files: int = MAX_FILES
) -> list[Upload]:
    """Check every file before anything is stored; raise AttachmentError listing every problem."""
    if len(files) > max_files:
        raise AttachmentError([f"Attach at most {max_files} files to one request (you chose {len(files)})."])
    uploads, problems = [], []
    for name, stream in files:
        try:
            uploads.append(check_upload(name, stream, max_bytes=max_bytes))
        except AttachmentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise AttachmentError(problems)
    return uploads


def stored_path(directory: Path, storage_name: str) -> Path:
    """Return where a stored file lives (the name is checked: it never leads out of the directory)."""
    if not _STORAGE_NAME.match(storage_name):
        raise ValueError(f"not a storage name: {storage_name!r}")
    return Path(directory) / storage_name


def list_attachments(session: Session, ticket: Ticket) -> list[Attachment]:
    """Return a ticket's attachments, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)))


#: `Session.info` key: files written in the session's transaction, removed if it rolls back.
_PENDING_FILES = "helpdesk.pending_files"


@event.listens_for(Session, "after_commit")
def _files_kept(session: Session) -> None:
    session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_rollback")
def _files_dropped(session: Session) -> None:
    for path in session.info.pop(_PENDING_FILES, []):
        path.unlink(missing_ok=True)


class AttachmentStore:
    """Writes files under random names; no file outlives a transaction that does not commit.

    Leaving the `with` block by an exception removes every file at once; leaving it normally hands them to the
    session, which removes them if its transaction then rolls back (the request commits only at its end).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.written: list[Path] = []
        self._session: Session | None = None

    def __enter__(self) -> AttachmentStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is not None:  # the transaction did not commit: no file may outlive it
            self.discard()
        elif self.written and self._session is not None:  # committed or not: the session's transaction decides
            self._session.info.setdefault(_PENDING_FILES, []).extend(self.written)
            self.written = []

    def discard(self) -> None:
        """Remove every file written so far."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()

    def save(
        self,
        session: Session,
        ticket: Ticket,
        uploads: Sequence[Upload],
        *,
        uploader: User,
        origin: Origin,
        now: dt.datetime,
        touch: bool = True,
    ) -> list[Attachment]:
        """Store the files and add their rows and ticket events to the session (the caller commits)."""
        self._session = session
        rows = []
        for upload in uploads:
            row = Attachment(
                ticket_id=ticket.id,
                uploader_id=uploader.id,
                filename=upload.filename,
                content_type=upload.kind.content_type,
                size=len(upload.data),
                sha256=upload.sha256,
                storage_name=self._write(upload.data),
                created_at=now,
            )
            session.add(row)
            record_change(
                session,
                ticket,
                "attached",
                actor=uploader,
                origin=origin,
                now=now,
                touch=touch,
                reason=f"{upload.filename} ({size_words(len(upload.data))})",
                detail=f"{upload.filename}: {len(upload.data)} bytes, {row.content_type}, sha256 {upload.sha256}",
            )
            rows.append(row)
        session.flush()
        return rows

    def _write(self, data: bytes) -> str:
        """Write to a temporary name, then rename: a reader never sees half a file."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        temporary, final = self.directory / f".{name}.part", self.directory / name
        self.written.append(temporary)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
        self.written.append(final)
        return name
