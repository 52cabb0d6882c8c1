"""The administration URLs: no way to delete a user exists (accounts are deactivated, never deleted)."""

from __future__ import annotations

from flask import Flask


def test_there_is_no_delete_anywhere(app: Flask) -> None:
    admin_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]
    assert len(admin_rules) >= 11  # users, user, new, role, unlock, deactivate, reactivate, reports, state...
    for rule in app.url_map.iter_rules():  # no route of the whole app deletes anything
        assert "DELETE" not in (rule.methods or set()) and "delete" not in rule.rule, rule


def test_admin_pages_need_a_signed_in_administrator(app: Flask) -> None:
    response = app.test_client().get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
