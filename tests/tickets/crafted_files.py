"""Files made for the attachment tests: real Word OLE files, zip bombs, forged zip size fields, image polyglots."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MB = 1024 * 1024


def _entry(name: str, kind: int, child: int = _NONE, right: int = _NONE) -> bytes:
    """One 128-byte directory entry of a compound file (empty streams: no sectors)."""
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    struct.pack_into("<HBB3I", entry, 0x40, len(encoded), kind, 1, _NONE, right, child)
    struct.pack_into("<II", entry, 0x74, _END if name else 0, 0)
    return bytes(entry)


def ole(*streams: str) -> bytes:
    """A compound file (version 3, 512-byte sectors) whose root holds the named, empty streams (three at most)."""
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<5H", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)  # versions, byte order, sector and mini shifts
    struct.pack_into("<3I", header, 0x2C, 1, 1, 0)  # one FAT sector; the directory at sector 1
    struct.pack_into("<5I", header, 0x38, 4096, _END, 0, _END, 0)  # mini cutoff, no mini FAT, no DIFAT sectors
    struct.pack_into("<109I", header, 0x4C, 0, *[_FREE] * 108)
    fat = struct.pack("<128I", _FAT, _END, *[_FREE] * 126)
    # The streams hang off the root as a right-leaning chain of siblings (a valid red-black tree of black nodes).
    entries = [_entry("Root Entry", 5, child=1 if streams else _NONE)]
    entries += [_entry(name, 2, right=i + 2 if i + 1 < len(streams) else _NONE) for i, name in enumerate(streams)]
    directory = b"".join(entries).ljust(512, b"\x00")
    return bytes(header) + fat + directory


def docx(**parts: bytes) -> bytes:
    """A minimal Word document, with extra parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document><w:body/></w:document>')
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx_bomb(megabytes: int = 80) -> bytes:
    """A small DOCX with one part that unpacks to `megabytes` MB of zeros (written in steps: no big buffer)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document><w:body/></w:document>')
        with archive.open("word/media/image1.png", "w") as part:
            for _ in range(megabytes):
                part.write(bytes(MB))
    return out.getvalue()


def forge_sizes(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size of one part, in its local header and the central directory alike."""
    forged = bytearray(data)
    encoded = name.encode()
    local = next(i for i in _all(forged, b"PK\x03\x04") if forged[i + 30 : i + 30 + len(encoded)] == encoded)
    central = next(i for i in _all(forged, b"PK\x01\x02") if forged[i + 46 : i + 46 + len(encoded)] == encoded)
    struct.pack_into("<I", forged, local + 22, size)
    struct.pack_into("<I", forged, central + 24, size)
    return bytes(forged)


def _all(data: bytearray, signature: bytes) -> list[int]:
    found, at = [], data.find(signature)
    while at != -1:
        found.append(at)
        at = data.find(signature, at + 1)
    return found


def png(width: int = 1, height: int = 1) -> bytes:
    """A grey PNG (its header may claim any size: only a 1x1 picture is really drawn)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )
