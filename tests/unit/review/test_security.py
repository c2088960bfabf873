"""The review app refuses the unauthenticated, forms without the CSRF token, paths leaving the
run folder; plot data is shown as text (TestClient, no browser)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pipeline.review.app import create_app
from pipeline.review.store import ReviewStore
from tests.servers.review import PASSWORD, SCRIPT_ID, copy_for_review

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def app(tiny_run, tmp_path_factory):
    run = copy_for_review(tiny_run, tmp_path_factory.mktemp("review-security") / "run")
    return create_app(run)


def token(client: TestClient, path: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def log_in(app, name: str = "vera") -> TestClient:
    client = TestClient(app)
    r = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return client


def api_routes(app) -> list[APIRoute]:
    """Every route of the app (FastAPI ≥ 0.16x keeps included routers nested)."""
    out = []
    for r in app.routes:
        if isinstance(r, APIRoute):
            out.append(r)
        elif hasattr(r, "original_router"):
            out += [x for x in r.original_router.routes if isinstance(x, APIRoute)]
    return out


def concrete(path: str) -> str:
    return path.replace("{row}", "1").replace("{path:path}", "1/00.png")


def test_routes__unauthenticated_refused(app):
    client = TestClient(app)
    routes = [r for r in api_routes(app) if r.path != "/login"]
    assert len(routes) >= 12
    for route in routes:
        for method in route.methods:
            url = concrete(route.path)
            if method == "GET":
                page = client.get(url, headers=HTML, follow_redirects=False)
                assert page.status_code == 303 and page.headers["location"] == "/login", url
                assert client.get(url).status_code == 401, url
            else:  # a POST with a valid token, but no login
                r = client.post(url, data={"csrf_token": token(client)}, follow_redirects=False)
                assert r.status_code == 401, url


def test_login__wrong_password_refused(app):
    client = TestClient(app)
    r = client.post(
        "/login", data={"name": "vera", "password": "nope", "csrf_token": token(client)}
    )
    assert r.status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 401


def test_forms__without_csrf_token_refused(app):
    client = log_in(app)
    store: ReviewStore = app.state.review.store
    before = len(store.log())
    for url, data in [
        ("/plot/1/decide", {"decision": "confirmed", "slot": "primary", "version": "0"}),
        ("/plot/1/assign", {"assignee": "vera"}),
        ("/export", {}),
        ("/logout", {}),
    ]:
        assert client.post(url, data=data, follow_redirects=False).status_code == 403, url
        wrong = {**data, "csrf_token": "forged"}
        assert client.post(url, data=wrong, follow_redirects=False).status_code == 403, url
    assert len(store.log()) == before
    assert store.decisions(row=1) == []
    # a login form is protected too
    fresh = TestClient(app)
    r = fresh.post("/login", data={"name": "vera", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_plot_id__script_renders_as_text(app):
    client = log_in(app)
    for url in ("/plot/0", "/", "/rows?sort=area"):
        text = client.get(url).text
        assert SCRIPT_ID not in text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, url


def test_plot_id__script_in_log_renders_as_text(app):
    client = log_in(app)
    data = {"decision": "confirmed", "slot": "primary", "version": "0", "comment": SCRIPT_ID,
            "csrf_token": token(client, "/plot/0")}  # fmt: skip
    assert client.post("/plot/0/decide", data=data, follow_redirects=False).status_code == 303
    for url in ("/audit", "/plot/0", "/audit?row=0"):
        assert SCRIPT_ID not in client.get(url).text, url


@pytest.mark.parametrize(
    "url",
    [
        "/chips/..%2F..%2Fsettings.yaml",
        "/chips/%2E%2E/review.sqlite",
        "/chips/..%2Freview.sqlite",
        "/chips/%2Fetc%2Fpasswd",
        "/files/review.sqlite",
        "/files/settings.yaml",
        "/files/..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_file_routes__outside_paths_refused(app, url):
    client = log_in(app)
    r = client.get(url)
    assert r.status_code == 404, url
    assert b"scrypt$" not in r.content and b"root:" not in r.content


def test_file_routes__deliverable_served(app):
    client = log_in(app)
    assert client.get("/files/summary.csv").status_code == 200


def test_roles__verifier_cannot_export_or_adjudicate(app):
    client = log_in(app, "vera")
    csrf = token(client, "/")
    assert client.post("/export", data={"csrf_token": csrf}).status_code == 403
    data = {"decision": "confirmed", "slot": "final", "version": "0", "csrf_token": csrf}
    assert client.post("/plot/2/decide", data=data).status_code == 403
