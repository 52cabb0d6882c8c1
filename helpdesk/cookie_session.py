"""Flask's signed cookie session, its signer built once per key set and small payloads never run through zlib."""

from __future__ import annotations

import zlib
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

#: Below this many bytes of JSON a payload is sent as it is: a new visitor's session (one random CSRF token) never
#: compresses, and setting up zlib for it cost as much as signing it.
COMPRESS_FROM = 256


class _SmallPlainSerializer(URLSafeTimedSerializer):
    """Itsdangerous' URL-safe timed serializer that compresses only payloads worth it (its loads reads both)."""

    def dump_payload(self, obj: Any) -> bytes:
        """Return the base64 payload, compressed (and marked so, as itsdangerous does) when it is large."""
        plain = super(URLSafeSerializerMixin, self).dump_payload(obj)  # the JSON, before the mixin's zlib
        if len(plain) >= COMPRESS_FROM:
            compressed = zlib.compress(plain)
            if len(compressed) < len(plain) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(plain)


class SessionInterface(SecureCookieSessionInterface):
    """The same cookie (signature, salt, key derivation, flags): only cheaper to make.

    Flask builds a serializer twice per request (it also test-encodes an empty dict each time); this one keeps it
    while the secret key and its fallbacks stay the same.
    """

    def __init__(self) -> None:
        self._kept: tuple[tuple[Any, ...], URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the serializer of the app's current keys (None without a secret key, as Flask does)."""
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # the current key last, as Flask
        kept = self._kept
        if kept is not None and kept[0] == keys:
            return kept[1]
        serializer = _SmallPlainSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )
        self._kept = (keys, serializer)
        return serializer


def init_app(app: Flask) -> None:
    """Give the app its session interface."""
    app.session_interface = SessionInterface()
