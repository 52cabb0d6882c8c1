"""Attachments checked beyond their first bytes: DOCX bombs, forged zips, non-Word OLE files, broken images, HTML."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from collections.abc import Callable

import pytest
from flask import Flask

from helpdesk.tickets.attachments import check_upload
from helpdesk.tickets.file_checks import DOCX_MAX_MEMBERS, ole_stream_names
from helpdesk.tickets.models import Attachment, Ticket
from tests.tickets.crafted_files import MB, docx, docx_bomb, forge_sizes, ole, png
from tests.tickets.test_web_attachments import GIF, JPEG, rows, send, stored
from tests.tickets.ticket_page_support import Login

pytestmark = pytest.mark.db

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SMALL_PART = "word/media/notes.xml"


def with_comment(jpeg: bytes, text: bytes) -> bytes:
    """Return the JPEG with a comment segment (COM) right after its start marker."""
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + jpeg[2:]


def many_parts() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(DOCX_MAX_MEMBERS):
            archive.writestr(f"word/p{number}.xml", "")
    return out.getvalue()


#: name -> (how to make it, the reason given); made when used, so that collecting the tests stays quick.
CRAFTED: dict[str, tuple[Callable[[], bytes], str]] = {
    "bomb.docx": (lambda: docx_bomb(80), "it unpacks to more than 64 MB"),  # sizes told honestly: refused unread
    "forged-bomb.docx": (
        lambda: forge_sizes(docx_bomb(80), "word/media/image1.png", 1000),
        "it unpacks to more than 64 MB",
    ),  # its sizes say 1,000 bytes: only 64 MB are unpacked
    "forged-size.docx": (
        lambda: forge_sizes(docx(**{SMALL_PART: b"x" * 5000}), SMALL_PART, 50),
        "its archive is damaged",
    ),
    "parts.docx": (many_parts, f"it holds more than {DOCX_MAX_MEMBERS} parts"),
    "sheet.doc": (lambda: ole("Workbook"), "it is an Office file, but not a Word document"),
    "empty-ole.doc": (lambda: ole(), "it is an Office file, but not a Word document"),
    "zeros.doc": (lambda: bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504), "its structure is damaged"),
    "polyglot.jpg": (lambda: JPEG + HTML, "it holds web page code"),
    "deep-polyglot.jpg": (
        lambda: with_comment(JPEG, b" " * 3000 + b"<script>alert(1)</script>"),
        "it holds web page code",
    ),  # beyond where browsers sniff
    "page.png": (lambda: png()[:33] + HTML, "it holds web page code"),
    "page.pdf": (lambda: b"%PDF-1.4\n" + HTML, "it holds web page code"),
    "header-only.png": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(200), "it cannot be read as an image"),
    "bad-crc.png": (lambda: png()[:29] + b"\x00\x00\x00\x00" + png()[33:], "it cannot be read as an image"),
    "header-only.gif": (lambda: b"GIF89a" + bytes(100), "it cannot be read as an image"),
    "header-only.jpg": (lambda: b"\xff\xd8\xff\xe0" + bytes(100), "it cannot be read as an image"),
    "header-only.tif": (lambda: b"II*\x00" + struct.pack("<I", 99_999) + bytes(40), "it cannot be read as an image"),
    "huge.png": (lambda: png(30_000, 30_000), "“huge.png” cannot be attached"),  # 900 million pixels claimed
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_a_crafted_file_is_refused_with_its_reason_and_nothing_is_filed(app: Flask, login: Login, name: str) -> None:
    make, why = CRAFTED[name]
    response = send(login("ana"), [("screen.png", png()), (name, make())])
    text = response.get_data(as_text=True).replace("&#34;", '"')
    assert response.status_code == 400 and f"“{name}” cannot be attached" in text and why in text
    assert "An application error appears.</textarea>" in text  # the typed text is kept
    assert not rows(app, Ticket) and not rows(app, Attachment) and not stored(app)


def test_a_bomb_is_refused_quickly_without_unpacking_it_all() -> None:
    forged = CRAFTED["forged-bomb.docx"][0]()
    started = time.perf_counter()
    with pytest.raises(Exception, match="unpacks to more than 64 MB"):
        check_upload("forged-bomb.docx", io.BytesIO(forged))
    assert time.perf_counter() - started < 5  # 64 MB at most are unpacked, in 64 KB steps, never held at once
    assert len(forged) < MB // 2 and len(CRAFTED["bomb.docx"][0]()) < MB // 2


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("letter.doc", ole("WordDocument", "1Table", "\x05SummaryInformation")),
        ("letter.docx", docx(**{"word/media/image1.png": png(), SMALL_PART: b"<notes/>" * 1000})),
        ("photo.jpg", with_comment(JPEG, b"Taken on the office printer")),
        ("phone.jpg", JPEG + b"\x00\x00SEFH trailer written by a phone camera"),  # data after the image is allowed
        ("anim.gif", GIF),
        (
            "report.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj <<>> endobj\n" * 100 + b"(<html> in the text)\n%%EOF",
        ),
    ],
)
def test_real_files_still_pass(app: Flask, login: Login, name: str, content: bytes) -> None:
    response = send(login("ana"), [(name, content)])
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    assert len(stored(app)) == 1


def test_the_ole_directory_is_read() -> None:
    assert ole_stream_names(ole("WordDocument", "1Table")) == {"WordDocument", "1Table"}
    assert ole_stream_names(ole()) == set()
    assert ole_stream_names(b"not an ole file" * 40) is None
    looping = bytearray(ole("WordDocument"))
    struct.pack_into("<I", looping, 512 + 4, 1)  # the directory sector chains to itself
    assert ole_stream_names(bytes(looping)) is None
