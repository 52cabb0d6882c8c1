"""Flask-Login 0.6 ships no types: only the parts Helpdesk uses."""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from werkzeug.wrappers import Response

_F = TypeVar("_F", bound=Callable[..., Any])
_Loader = TypeVar("_Loader", bound=Callable[[str], object])

class LoginManager:
    login_view: str | None
    login_message: str
    login_message_category: str
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _Loader) -> _Loader: ...
    def unauthorized(self) -> Response: ...

# The signed-in user or the anonymous one, behind a proxy: the class is the application's (what its
# user_loader returns), which a library stub cannot name, so callers narrow it (is_authenticated, then
# `_get_current_object()` into an annotated variable).
current_user: Any

def login_user(
    user: object, remember: bool = False, duration: dt.timedelta | None = None, force: bool = False, fresh: bool = True
) -> bool: ...
def logout_user() -> bool: ...
def login_required(func: _F) -> _F: ...
