"""Factories shared by the test packages: ready-to-use users and a real sign-in through the forms."""

from __future__ import annotations

import itertools
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.accounts.models import MFA_ROLES_DEFAULT, Agency, User
from helpdesk.accounts.passwords import hash_password
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.helpers import read_csrf_token

#: A password that passes the policy (15+ characters, not common, not built from names).
PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)


def get_agency(state: str | None, name: str | None = None, *, kind: str = "local") -> Agency:
    """Return (creating if needed) an agency; `name=None` with kind compact_office/national finds the seeded one."""
    query = select(Agency).where(Agency.kind == kind)
    query = query.where(Agency.state_code == state) if state else query.where(Agency.state_code.is_(None))
    if name:
        query = query.where(Agency.name == name)
    agency = db.session.scalars(query).first()
    if agency is None:
        agency = Agency(state_code=state, name=name or f"{state} Test Agency", kind=kind)
        db.session.add(agency)
        db.session.flush()
    return agency


def make_user(
    app: Flask,
    *,
    role: str = "po",
    state: str | None = "TX",
    agency: str | None = None,
    email: str | None = None,
    name: str | None = None,
    password: str | None = PASSWORD,
    privacy: bool = True,
    mfa: bool | None = None,
    **fields: Any,
) -> User:
    """Create a user ready to sign in (password set, privacy accepted; TOTP enrolled for MFA roles)."""
    with app.app_context():
        kind = {"compact_office": "compact_office", "national_admin": "national"}.get(role, "local")
        if role == "national_admin":
            state = None
        home = get_agency(state, agency if kind == "local" else None, kind=kind)
        number = next(_serial)
        enrol = role in MFA_ROLES_DEFAULT if mfa is None else mfa
        user = User(
            email=(email or f"user{number}.{role}@{(state or 'us').lower()}.example.gov").lower(),
            name=name or f"Test User {number}",
            role=role,
            agency_id=home.id,
            state_code=state,
            password_hash=hash_password(password) if password else None,
            password_changed_at=utcnow() if password else None,
            privacy_version=app.config.get("PRIVACY_VERSION", 1) if privacy else None,
            privacy_accepted_at=utcnow() if privacy else None,
            totp_secret=pyotp.random_base32() if enrol else None,
            mfa_enrolled_at=utcnow() if enrol else None,
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def signed_in_client(app: Flask, user: User) -> FlaskClient:
    """Return a new client signed in as `user` through the real forms (second factor included)."""
    client = app.test_client()
    response = sign_in(client, user)
    assert response.status_code == 303 and "/login" not in response.headers["Location"], response.data[:500]
    return client


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD, *, follow: bool = False) -> Any:
    """Sign in through the real forms (and the second factor when the user has one); return the last response."""
    token = read_csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    if response.status_code == 303 and response.headers["Location"].endswith("/login/mfa") and user.totp_secret:
        token = read_csrf_token(client, "/login/mfa")
        response = client.post("/login/mfa", data={"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": token})
    if follow and response.status_code in (302, 303):
        response = client.get(response.headers["Location"])
    return response
