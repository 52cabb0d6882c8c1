"""Request limits (issue 8, items 8 and 12): bodies unread before sign-in or over the limit, 405, 414, echoes."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.request_limits import MAX_URL_BYTES
from helpdesk.tickets.submit import MAX_DESCRIPTION
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

MB = 1024 * 1024


class CountingBody(io.RawIOBase):
    """A request body of `size` bytes that records how many of them the app read."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # the test client measures the body by seeking to its end and back (no byte is read)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = max(0, min(len(buffer), self.size - self.position))
        buffer[:count] = b"x" * count
        self.position += count
        self.read_bytes += count
        return count


def post_body(client: FlaskClient, path: str, size: int) -> tuple[int, str, int]:
    """POST `size` bytes of multipart body; return the status, the Location and how many bytes the app read."""
    body = CountingBody(size)
    response = client.post(
        path, input_stream=body, content_length=size, content_type="multipart/form-data; boundary=----helpdesk"
    )
    return response.status_code, response.headers.get("Location", ""), body.read_bytes


@pytest.mark.parametrize(
    "path",
    [
        "/requests/new",
        "/requests/1/reply",
        "/admin/users/new",
        "/caseload",
        "/articles/errors-and-technical-support/comments",
        "/account/tokens",
    ],
)
def test_a_signed_out_upload_is_sent_to_sign_in_unread(client: FlaskClient, path: str) -> None:
    status, location, read = post_body(client, path, 15 * MB)
    assert status in (302, 303) and "/login" in location
    assert read == 0


def test_a_body_over_the_route_limit_is_refused_from_its_length_unread(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app))
    status, _, read = post_body(client, "/requests/new", 17 * MB)  # the upload limit: 5 × 3 MB + 1 MB
    assert (status, read) == (413, 0)
    status, _, read = post_body(client, "/account/tokens", 2 * MB)  # other forms: 1 MB
    assert (status, read) == (413, 0)


def test_a_signed_in_upload_within_the_limit_is_read(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app))
    status, _, read = post_body(client, "/requests/new", 64 * 1024)
    assert status == 400 and read > 0  # read, then refused for its missing CSRF token


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/"), ("PUT", "/search"), ("DELETE", "/api/v1/search"), ("PATCH", "/api/v1/tickets")],
)
def test_405_says_which_methods_are_allowed(client: FlaskClient, method: str, path: str) -> None:
    """Issue 8, item 12: a 405 carries `Allow` (RFC 9110 15.5.6), and is JSON under /api/."""
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    if path.startswith("/api/"):
        assert response.json["error"] == "method_not_allowed"


def test_a_long_api_url_is_a_json_414(client: FlaskClient) -> None:
    response = client.get("/api/v1/search?q=" + "a" * MAX_URL_BYTES)
    assert response.status_code == 414 and response.json["error"] == "uri_too_long"
    assert client.get("/api/v1/search?q=" + "a" * 190).status_code == 200
    assert client.get("/search?q=" + "a" * MAX_URL_BYTES).status_code == 200  # pages take what the server passes


def test_a_15_mb_field_is_not_echoed_back_whole(app: Flask, client: FlaskClient) -> None:
    """Issue 8, item 12: the 400 page keeps the typed text, cut to the field's limit (20,000 characters)."""
    sign_in(client, make_user(app))
    token = read_csrf_token(client, "/requests/new")
    response = client.post(
        "/requests/new",
        data={"csrf_token": token, "subject": "Printer", "category": "login", "description": "A" * (15 * MB)},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A" * MAX_DESCRIPTION in page and "A" * (MAX_DESCRIPTION + 1) not in page
    assert len(page) < 200_000
