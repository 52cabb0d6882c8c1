"""Where the embedding model is looked for: the HELPDESK_EMBEDDING_MODEL folder, by default inside the venv."""

from __future__ import annotations

import sys
from pathlib import Path

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
DEFAULT_NAME = "all-minilm-l6-v2-int8"


def default_model_dir() -> Path:
    """Return the folder scripts/_setup.sh installs the default model into (beside the packages it uses)."""
    return Path(sys.prefix) / "share" / "helpdesk-model" / DEFAULT_NAME
