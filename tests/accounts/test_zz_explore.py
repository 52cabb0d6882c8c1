from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token


def test_explore(app, client):
    u = make_user(app, role="compact_office")
    r = sign_in(client, u)
    print("national sign-in", r.status_code, r.headers.get("Location"))
    r = client.get("/")
    print("national home", r.status_code)
    c2 = app.test_client()
    po = make_user(app)
    r = sign_in(c2, po)
    print("po", r.status_code, r.headers.get("Location"), r.headers.getlist("Set-Cookie"))
    cookie = c2.get_cookie("session")
    print(cookie.value[:30], cookie.http_only, cookie.same_site, cookie.secure)
    tok = read_csrf_token(c2, "/account")
    r = c2.post("/logout", data={"csrf_token": tok})
    print("logout", r.status_code, r.headers.getlist("Set-Cookie"))
    c3 = app.test_client()
    c3.set_cookie("session", cookie.value)
    r = c3.get("/account")
    print("replay after logout", r.status_code, r.headers.get("Location"))
    r = client.get("/login?next=//evil.com")
    print(r.status_code, r.headers.get("Location"))
