"""Extensions, created unbound here and wired to the app by `init_app` in the factory."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect

from helpdesk.database import Database

db = Database()
csrf = CSRFProtect()
mail = Mail()
login_manager = LoginManager()
#: Per-address limits key on the client address; ProxyFix (HELPDESK_TRUSTED_PROXIES) makes it the real one.
limiter = Limiter(key_func=get_remote_address)
