"""The app factory: settings, extensions, blueprints (imported lazily by `from helpdesk import create_app`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.middleware.proxy_fix import ProxyFix

from helpdesk import cookie_session, ids, request_limits
from helpdesk.config import PROJECT_ROOT, Settings, instance_secret
from helpdesk.failover import HelpdeskFlask


class _SharedBytecode(BytecodeCache):
    """Compiled templates shared by every app of the process (a bucket checks its template's source first)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give the bucket the code compiled earlier, if any."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the bucket's freshly compiled code."""
        self._code[bucket.key] = bucket.bytecode_to_string()


#: The test suite builds an app per test: compiling the same templates each time was a sixth of an app's setup.
_BYTECODE = _SharedBytecode()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then the environment, then `test_config`."""
    settings = Settings.from_env()
    app = HelpdeskFlask(
        "helpdesk",
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(settings.instance_dir),
        instance_relative_config=True,
    )
    app.config.update(settings.flask_config())
    app.config.update(
        RATELIMIT_SWALLOW_ERRORS=True,  # a Redis outage must not take voting down with it
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app.config["INSTANCE_DIR"])
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]
    for warning in settings.warnings:
        app.logger.warning(warning)
    app.jinja_env.bytecode_cache = _BYTECODE  # created here, after the settings it reads
    ids.init_app(app)
    cookie_session.init_app(app)
    request_limits.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from helpdesk import cli, errors, security
    from helpdesk.accounts import init_app as init_accounts
    from helpdesk.extensions import csrf, db, limiter
    from helpdesk.kb import init_app as init_kb
    from helpdesk.mail import init_app as init_mail
    from helpdesk.search import init_app as init_search

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    init_mail(app)
    init_accounts(app)
    init_kb(app)
    init_search(app)
    cli.init_app(app)
    from helpdesk.accounts.cli import init_cli as init_users_cli
    from helpdesk.admin import init_app as init_admin

    init_admin(app)
    init_users_cli(app)
    from helpdesk.tickets import init_app as init_tickets

    init_tickets(app)
    from helpdesk.insights import init_app as init_insights

    init_insights(app)


def _register_blueprints(app: Flask) -> None:
    from helpdesk.api.editor import bp as api_editor_bp
    from helpdesk.api.tickets import bp as api_tickets_bp
    from helpdesk.api.views import bp as api_bp
    from helpdesk.kb.editor_views import bp as editor_bp
    from helpdesk.kb.views import bp as kb_bp
    from helpdesk.search import learn_views  # noqa: F401  (adds the learned phrasings pages to search_bp)
    from helpdesk.search.views import bp as search_bp

    app.register_blueprint(kb_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tickets_bp)
    app.register_blueprint(api_editor_bp)
