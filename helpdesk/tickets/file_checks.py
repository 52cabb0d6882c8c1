"""Attachment content beyond the first bytes: bounded DOCX archives, Word OLE files, images that decode, no HTML."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable

from PIL import Image

#: A DOCX may hold at most this many parts, which may unpack to at most this many bytes in all (declared and real).
DOCX_MAX_MEMBERS = 2000
DOCX_MAX_UNPACKED = 64 * 1024 * 1024
#: Images larger than this (in pixels) are refused: Pillow's own decompression-bomb bound.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
#: How much of a file a browser reads to guess whether it is HTML (WHATWG MIME Sniffing, "resource header").
SNIFF_BYTES = 1445
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

_CHUNK = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")
_MAX_SECTOR = 0xFFFFFFFA
_END_OF_CHAIN = 0xFFFFFFFE
# Short markers are looked for where browsers sniff; long ones (which compressed data never forms by chance) anywhere.
_HTML_HEAD = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed|title|style|meta)[\s/>]", re.IGNORECASE
)
_HTML_ANYWHERE = re.compile(rb"<script|<iframe|<!doctype\s+html|</html>|<object|<embed|javascript:", re.IGNORECASE)
_DAMAGED = "its archive is damaged"


class _Refused(Exception):
    """A file refused, with the reason in words."""


def looks_like_html(data: bytes, *, anywhere: bool) -> bool:
    """Return whether a browser could take the file for a web page (HTML markers at its start, or anywhere)."""
    return bool(_HTML_HEAD.search(data, 0, SNIFF_BYTES) or (anywhere and _HTML_ANYWHERE.search(data)))


def is_docx(data: bytes) -> bool:
    """Return whether the file is a zip archive holding a Word document (the central directory only is read)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return False


def is_text(data: bytes) -> bool:
    """Return whether the file is UTF-8 text without NUL bytes."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unpack(data: bytes, info: zipfile.ZipInfo, budget: int) -> int:
    """Unpack one member from its own bytes, at most `budget` bytes of output; return its real size."""
    try:
        sig, _, flags, method, _, _, crc, packed, size, name_len, extra_len = _LOCAL_HEADER.unpack_from(
            data, info.header_offset
        )
    except struct.error:
        raise _Refused(_DAMAGED) from None
    if sig != b"PK\x03\x04" or method != info.compress_type or info.flag_bits & 0x1:
        raise _Refused(_DAMAGED)
    # The local header must agree with the central directory, unless its sizes follow the data (bit 3) or zip64.
    if (
        not flags & 0x8
        and packed != 0xFFFFFFFF
        and (crc, packed, size) != (info.CRC, info.compress_size, info.file_size)
    ):
        raise _Refused(_DAMAGED)
    start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
    raw = data[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise _Refused(_DAMAGED)
    if method == zipfile.ZIP_STORED:
        total, check = len(raw), zlib.crc32(raw)
    elif method == zipfile.ZIP_DEFLATED:
        total, check = _inflate(raw, budget)
    else:
        raise _Refused(_DAMAGED)
    if total > budget:
        raise _Refused(f"it unpacks to more than {DOCX_MAX_UNPACKED // (1024 * 1024)} MB")
    if total != info.file_size or check != info.CRC:  # forged sizes or checksums
        raise _Refused(_DAMAGED)
    return total


def _inflate(raw: bytes, budget: int) -> tuple[int, int]:
    """Inflate in small steps, stopping one step past `budget`; return the real size and CRC-32."""
    inflater, pending, total, check = zlib.decompressobj(-zlib.MAX_WBITS), raw, 0, 0
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                raise _Refused(_DAMAGED)  # the stream stops before its end
            total, check = total + len(chunk), zlib.crc32(chunk, check)
            if total > budget:
                return total, check
    except zlib.error:
        raise _Refused(_DAMAGED) from None
    if inflater.unused_data:
        raise _Refused(_DAMAGED)
    return total, check


def docx_problem(data: bytes) -> str | None:
    """Return why a DOCX is refused (too many parts, too large unpacked, damaged or forged), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return _DAMAGED
    if len(members) > DOCX_MAX_MEMBERS:
        return f"it holds more than {DOCX_MAX_MEMBERS} parts"
    budget = DOCX_MAX_UNPACKED
    if sum(info.file_size for info in members) > budget:
        return f"it unpacks to more than {DOCX_MAX_UNPACKED // (1024 * 1024)} MB"
    try:
        for info in members:  # every part is unpacked for real: declared sizes may lie
            budget -= _unpack(data, info, budget)
    except _Refused as exc:
        return str(exc)
    return None


def ole_stream_names(data: bytes) -> set[str] | None:
    """Return the names of the streams of an OLE compound file (MS-CFB directory), or None if it is not one."""
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        return None
    shift: int = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        return None
    size = 1 << shift
    count = (len(data) - size + size - 1) // size

    def sector(number: int) -> bytes:
        if number >= count:
            raise _Refused(_DAMAGED)
        block = data[(number + 1) * size : (number + 2) * size]
        return block + b"\x00" * (size - len(block))

    try:
        fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
        difat, hops = struct.unpack_from("<I", data, 0x44)[0], 0
        while difat <= _MAX_SECTOR and hops <= count:  # more FAT sector numbers, in a chain of DIFAT sectors
            entries = struct.unpack(f"<{size // 4}I", sector(difat))
            fat_sectors += entries[:-1]
            difat, hops = entries[-1], hops + 1
        fat = b"".join(sector(n) for n in fat_sectors if n <= _MAX_SECTOR)
        table = struct.unpack(f"<{len(fat) // 4}I", fat)
        names, current, hops = set(), struct.unpack_from("<I", data, 0x30)[0], 0
        while current != _END_OF_CHAIN:
            if current > _MAX_SECTOR or current >= len(table) or hops > count:
                return None
            block = sector(current)
            for offset in range(0, size, 128):
                name_bytes, kind = struct.unpack_from("<H", block, offset + 0x40)[0], block[offset + 0x42]
                if kind == 2 and 2 <= name_bytes <= 64:  # a stream
                    names.add(block[offset : offset + name_bytes - 2].decode("utf-16-le", "replace"))
            current, hops = table[current], hops + 1
    except _Refused:
        return None
    return names


def doc_problem(data: bytes) -> str | None:
    """Return why a DOC is refused (an OLE file, but not a Word document), or None."""
    names = ole_stream_names(data)
    if names is None:
        return "its structure is damaged"
    return None if "WordDocument" in names else "it is an Office file, but not a Word document"


def image_problem(image_format: str) -> Callable[[bytes], str | None]:
    """Return the check of one image format: Pillow reads its headers (nothing is drawn), and no HTML is inside."""

    def check(data: bytes) -> str | None:
        if looks_like_html(data, anywhere=True):
            return "it holds web page code"
        try:
            # Over MAX_PIXELS Pillow warns (refused below) and at twice that raises: neither draws anything.
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                if image.width * image.height > MAX_PIXELS:
                    return "it has too many pixels"
                image.verify()
        # Pillow raises many kinds of errors on hostile input (SyntaxError, OSError, struct.error...): all refuse.
        except Exception:
            return "it cannot be read as an image"
        return None

    return check


def pdf_problem(data: bytes) -> str | None:
    """Return why a PDF is refused (a web page where browsers would sniff one), or None."""
    return "it holds web page code" if looks_like_html(data, anywhere=False) else None
