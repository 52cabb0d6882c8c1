"""Attachments of a request: checked by content, stored outside the web root, all or nothing, downloaded safely."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from helpdesk.extensions import db
from helpdesk.tickets.attachments import AttachmentError, check_upload
from helpdesk.tickets.models import Attachment, Ticket, TicketEvent
from tests.helpers import read_csrf_token
from tests.tickets.conftest import Org
from tests.tickets.crafted_files import ole
from tests.tickets.ticket_page_support import Login, file_request

pytestmark = pytest.mark.db

_KEY = re.compile(r'name="idempotency_key" value="([^"]*)"')
MB = 1024 * 1024


def png() -> bytes:
    """A real 1x1 grey PNG."""
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def tiff(order: str = "<") -> bytes:
    """A real 1x1 8-bit grey TIFF, little- or big-endian: nine baseline tags, then the one pixel at offset 122."""
    tags = [(256, 1), (257, 1), (258, 8), (259, 1), (262, 1), (273, 122), (277, 1), (278, 1), (279, 1)]
    entries = b"".join(
        struct.pack(f"{order}HHIHH", tag, 3, 1, value, 0)
        if tag not in (273, 279)
        else struct.pack(f"{order}HHII", tag, 4, 1, value)
        for tag, value in tags
    )
    return (
        (b"II*\x00" if order == "<" else b"MM\x00*")
        + struct.pack(f"{order}IH", 8, len(tags))
        + entries
        + struct.pack(f"{order}I", 0)
        + b"\x80"
    )


#: A real 1x1 grey baseline JPEG: one 8x8 block whose DC and AC values are each the single 1-bit Huffman code.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300" + "01" * 64 + "ffc0000b080001000101011100"
    "ffc40014000100000000000000000000000000000000ffc40014100100000000000000000000000000000000"
    "ffda0008010100003f003fffd9"
)
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def docx() -> bytes:
    """A minimal Word document."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document><w:body/></w:document>')
    return out.getvalue()


SAMPLES: dict[str, tuple[bytes, str]] = {
    "report.pdf": (b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "application/pdf"),
    "old.doc": (ole("WordDocument", "1Table"), "application/msword"),
    "new.docx": (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "notes.rtf": (b"{\\rtf1\\ansi The error appears on save.\\par}", "application/rtf"),
    "steps.txt": ("Steps: open the case list – it fails.\n".encode(), "text/plain"),
    "photo.jpg": (JPEG, "image/jpeg"),
    "photo.jpeg": (JPEG, "image/jpeg"),
    "screen.png": (png(), "image/png"),
    "anim.gif": (GIF, "image/gif"),
    "scan.tif": (tiff(), "image/tiff"),
    "scan.tiff": (tiff(">"), "image/tiff"),
}


def send(client: FlaskClient, files: list[tuple[str, bytes]], **fields: Any) -> Any:
    """Send a valid request (fields overridable) with the files attached."""
    key = _KEY.search(client.get("/requests/new").text).group(1)  # type: ignore[union-attr]
    data: dict[str, Any] = {
        "csrf_token": read_csrf_token(client, "/requests/new"),
        "idempotency_key": key,
        "category": "error",
        "subject": "Error when saving",
        "affected": "me",
        "description": "An application error appears.",
        **fields,
    }
    values = MultiDict(data)
    for name, content in files:
        values.add("attachments", FileStorage(io.BytesIO(content), filename=name))
    # Encoded here, in memory: the test client spools bodies over 500 KB to a file it never closes.
    boundary, body = encode_multipart(values)
    return client.post("/requests/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def stored(app: Flask) -> list[Path]:
    """Return every file in the attachment store (temporary ones included)."""
    folder = Path(app.config["INSTANCE_DIR"]) / "attachments"
    return sorted(folder.iterdir()) if folder.exists() else []


def rows(app: Flask, model: type[Any]) -> list[Any]:
    """Return every row of a model (detached), oldest first."""
    with app.app_context():
        found = list(db.session.scalars(select(model).order_by(model.id)))
        for row in found:
            db.session.expunge(row)
        return found


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_allowed_type_is_stored_outside_the_web_root(app: Flask, login: Login, name: str) -> None:
    content, content_type = SAMPLES[name]
    response = send(login("ana"), [(name, content)])
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    [ticket], [row] = rows(app, Ticket), rows(app, Attachment)
    assert (row.ticket_id, row.filename, row.content_type, row.size) == (ticket.id, name, content_type, len(content))
    assert row.sha256 == hashlib.sha256(content).hexdigest() and re.fullmatch(r"[0-9a-f]{32}", row.storage_name)
    [path] = stored(app)
    assert path.name == row.storage_name and path.read_bytes() == content
    assert path.resolve().is_relative_to(Path(app.config["INSTANCE_DIR"]).resolve())
    assert not path.resolve().is_relative_to(Path(app.static_folder or "").resolve())
    assert not path.resolve().is_relative_to(Path(app.root_path).resolve())  # not inside the package either
    with app.app_context():
        kinds = db.session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)).all()
    assert "attached" in kinds and ticket.version == 1


def test_several_files_in_one_request_sent_twice_and_their_links(app: Flask, login: Login) -> None:
    client = login("ana")
    files = [(name, SAMPLES[name][0]) for name in ("report.pdf", "screen.png", "steps.txt", "new.docx", "anim.gif")]
    key = _KEY.search(client.get("/requests/new").text).group(1)  # type: ignore[union-attr]
    assert send(client, files, idempotency_key=key).status_code == 303
    assert "5 files attached." in client.get("/requests").text
    assert send(client, files, idempotency_key=key).status_code == 303  # a resend: its files are stored once
    found = rows(app, Attachment)
    assert len(rows(app, Ticket)) == 1
    assert [row.filename for row in found] == [name for name, _ in files] and len(stored(app)) == 5
    with app.test_request_context():  # the partial the request's page includes
        text = render_template("tickets/_attachments.html", attachments=found)
        empty = render_template("tickets/_attachments.html", attachments=[])
    for row in found:
        assert f'href="/requests/{row.ticket_id}/attachments/{row.id}" download>{row.filename}</a>' in text
    assert "Attachments</h2>" in text and f"({len(png())} Bytes;" in text and "Attachments" not in empty


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        (
            "screenshot.png",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200,
            "its content is not one of the allowed",
        ),
        ("screenshot.png", b"<!doctype html><script>alert(1)</script>", "its content is not one of the allowed"),
        ("page.html", b"<html></html>", "is not an allowed type of file"),
        ("setup.exe", b"MZ\x90\x00", "is not an allowed type of file"),
        ("photo.jpg", png(), "it is a PNG image"),
        ("letter.docx", b"PK\x03\x04" + b"\x00" * 40, "its content is not one of the allowed"),
        ("binary.txt", b"abc\x00def", "its content is not one of the allowed"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_a_file_of_another_type_is_refused_and_nothing_is_filed(
    app: Flask, login: Login, name: str, content: bytes, why: str
) -> None:
    response = send(login("ana"), [("screen.png", png()), (name, content)])
    text = response.get_data(as_text=True).replace("&#34;", '"')
    assert response.status_code == 400 and f"“{name}”" in text and why in text
    assert "Attach only PDF, DOC, DOCX, RTF, TXT, JPG, PNG, GIF or TIFF files" in text or why == "is empty"
    assert 'aria-describedby="attachments-hint attachments-error"' in text
    assert "An application error appears.</textarea>" in text  # the typed text is kept
    assert not rows(app, Ticket) and not rows(app, Attachment) and not stored(app)


def test_a_file_over_3_mb_is_refused_and_one_just_under_is_accepted(app: Flask, login: Login) -> None:
    client = login("ana")
    response = send(client, [("big.pdf", b"%PDF-1.4\n" + b"0" * (3 * MB))])
    assert response.status_code == 400 and "“big.pdf” is larger than 3 MB" in response.get_data(as_text=True)
    assert not rows(app, Ticket) and not stored(app)
    # Well over the app's usual 1 MB request limit, which this form lifts for its attachments.
    fits = b"%PDF-1.4\n" + b"0" * (3 * MB - 9)
    assert send(client, [("fits.pdf", fits), ("also.pdf", fits)]).status_code == 303
    assert [row.size for row in rows(app, Attachment)] == [3 * MB, 3 * MB]


def test_a_sixth_file_or_a_bad_field_files_and_stores_nothing(app: Flask, login: Login) -> None:
    client = login("ana")
    response = send(client, [(f"note{n}.txt", b"note") for n in range(6)])
    assert response.status_code == 400 and "Attach at most 5 files to one request (you chose 6)." in response.text
    assert send(client, [("screen.png", png())], subject="").status_code == 400
    assert not rows(app, Ticket) and not stored(app)


@pytest.fixture
def small_limit(app_config: dict[str, Any]) -> None:
    """Attachments of at most 10 KB (ATTACHMENT_MAX_BYTES), so that the request limit is 1 MB + 50 KB."""
    app_config["ATTACHMENT_MAX_BYTES"] = 10_000


def test_the_size_limit_is_configurable_and_a_huge_request_gets_a_clear_413(
    small_limit: None, app: Flask, login: Login
) -> None:
    client = login("ana")
    response = send(client, [("big.txt", b"x" * 10_001)])
    assert response.status_code == 400 and "larger than 9.8 KB" in response.get_data(as_text=True)
    huge = send(client, [("huge.txt", b"x" * (2 * MB))])
    text = huge.get_data(as_text=True)
    assert huge.status_code == 413 and "attach at most 5 files of up to 9.8 KB each" in text
    assert not rows(app, Ticket) and not stored(app)


def test_file_names_are_cleaned(app: Flask, login: Login) -> None:
    names = ["/home/ana/Desktop/screen shot (2).png", "../../etc/passwd.txt", "a;b<x>|c.txt", "x" * 300 + ".txt"]
    response = send(login("ana"), [(name, png() if name.endswith("png") else b"text") for name in names])
    assert response.status_code == 303, re.findall(r'field-error">([^<]*)', response.text)
    cleaned = [row.filename for row in rows(app, Attachment)]
    assert cleaned == ["screen shot (2).png", "passwd.txt", "a_b_x_c.txt", "x" * 247 + ".txt"]
    assert check_upload("C:\\Users\\ana\\shot.png", io.BytesIO(png())).filename == "shot.png"  # old browsers
    with pytest.raises(AttachmentError, match="“attachment” is not an allowed type"):
        check_upload("...", io.BytesIO(b"text"))


def download(client: FlaskClient, path: str) -> tuple[int, dict[str, str], bytes]:
    """Return the status, headers and body of a download (closing the file it streams)."""
    with client.get(path) as response:
        return response.status_code, dict(response.headers), response.get_data()


def test_the_download_is_an_attachment_for_those_who_may_see_the_ticket(app: Flask, org: Org, login: Login) -> None:
    reporter = login("ana")
    page = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    assert send(reporter, [("screen.png", png()), ("page.txt", page)]).status_code == 303
    [ticket] = rows(app, Ticket)
    image, text = rows(app, Attachment)
    path = f"/requests/{ticket.id}/attachments/{image.id}"
    status, headers, body = download(reporter, path)
    assert status == 200 and body == png() and headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == "attachment; filename=screen.png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"] and "no-store" in headers["Cache-Control"]
    status, headers, body = download(reporter, f"/requests/{ticket.id}/attachments/{text.id}")
    assert headers["Content-Type"] == "text/plain; charset=utf-8" and body == page  # never served as HTML
    assert headers["Content-Disposition"].startswith("attachment")
    assert download(login("pat"), path)[0] == 200  # local IT of the reporter's agency works the ticket
    for name in ("olga", "ben", "oscar"):  # another state; a colleague; another state's compact office
        assert download(login(name), path)[0] == 404, name
    other = file_request(app, org)  # an attachment is only found under its own ticket
    assert download(reporter, f"/requests/{other}/attachments/{image.id}")[0] == 404
    assert download(reporter, f"/requests/{ticket.id}/attachments/{text.id + 1}")[0] == 404
    status, headers, _ = download(app.test_client(), path)
    assert status == 302 and "/login" in headers["Location"]
    (Path(app.config["INSTANCE_DIR"]) / "attachments" / image.storage_name).unlink()
    assert download(reporter, path)[0] == 404  # lost from the disk: a 404, never a 500
