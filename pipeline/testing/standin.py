"""A loopback stand-in for the imagery services Tushu talks to, serving a demo world.

It speaks the subset Tushu uses: a STAC API (landing page, ``/search`` GET and POST with
paging, items) whose asset hrefs point back at the server, which serves the COG bytes with
HTTP Range support (GDAL's /vsicurl/ needs it); and Sentinel Hub (OAuth client-credentials
token, Catalog API search, Process API returning a GeoTIFF rendered from the same COGs,
Statistical API returning per-geometry daily statistics as JSON). Faults are injected on
demand: ``429``, ``500``, ``403`` (quota exhausted), ``truncate`` (a body cut short),
``slow`` (a late answer) and ``expire`` (the current token is revoked). Every request is
logged.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pystac

from pipeline.testing.render import render_grid, statistics_for

TOKEN_PATH = "/auth/realms/main/protocol/openid-connect/token"
CLIENT_ID, CLIENT_SECRET = "tushu-test-id", "tushu-test-secret"


@dataclass
class Fault:
    kind: str  # 429 | 500 | truncate | slow | expire
    prefix: str  # path prefix it applies to
    times: int  # how many requests it hits
    delay_s: float = 2.0


class StandIn:
    """Serve the world whose static catalog is ``catalog``; ``start()`` returns the base URL."""

    def __init__(self, catalog: Path):
        root = pystac.read_file(str(Path(catalog).resolve()))
        self.static_root = Path(catalog).resolve().parent  # served as files under /static/
        items = sorted(root.get_items(recursive=True), key=lambda i: (i.datetime, i.id))
        self.items: dict[str, pystac.Item] = {it.id: it for it in items}
        for it in items:
            for a in it.assets.values():
                a.href = a.get_absolute_href()
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []
        self.tokens: set[str] = set()
        self.memo: dict = {}
        self.epoch = 0  # part of asset URLs: bump it to defeat clients' HTTP caches
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.base = ""

    # --- control -------------------------------------------------------------------------
    def start(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.base

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def inject(self, kind: str, prefix: str = "/", times: int = 1, delay_s: float = 2.0) -> None:
        with self.lock:
            self.faults.append(Fault(kind, prefix, times, delay_s))

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if path.startswith(f.prefix) and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def count(self, prefix: str, method: str | None = None) -> int:
        with self.lock:
            return sum(p.startswith(prefix) and method in (None, m) for m, p, _ in self.log)

    # --- content -------------------------------------------------------------------------
    def item_json(self, item: pystac.Item, assets: bool = True) -> dict:
        d = item.to_dict(include_self_link=False)
        d["links"] = []
        d["collection"] = "sentinel-2-l2a"
        if assets:
            for key in d["assets"]:
                d["assets"][key]["href"] = f"{self.base}/assets/e{self.epoch}/{item.id}/{key}.tif"
        else:
            d["assets"] = {}
        return d

    def search(self, bbox, dt: str | None) -> list[pystac.Item]:
        t0, t1 = _interval(dt)
        out = []
        for it in self.items.values():
            when = it.datetime.isoformat()
            b = it.bbox
            if bbox and (b[2] < bbox[0] or b[0] > bbox[2] or b[3] < bbox[1] or b[1] > bbox[3]):
                continue
            if (t0 and when < t0) or (t1 and when > t1):
                continue
            out.append(it)
        return out

    def items_of_day(self, day: str) -> list[pystac.Item]:
        return [it for it in self.items.values() if it.datetime.date().isoformat() == day]

    def new_token(self) -> dict:
        head = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
        body = {"sub": CLIENT_ID, "exp": int(time.time()) + 3600, "n": secrets.token_hex(8)}
        payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
        token = f"{head}.{payload}.x"
        with self.lock:
            self.tokens.add(token)
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}


def _interval(dt: str | None) -> tuple[str | None, str | None]:
    if not dt:
        return None, None
    a, _, b = dt.partition("/")
    norm = lambda s: None if s in ("", "..") else s.replace("Z", "+00:00")  # noqa: E731
    return norm(a), norm(b or a)


def _handler(st: StandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()  # no Nagle: headers and body go out as separate writes
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        # --- plumbing ----------------------------------------------------------------
        def _send(self, code: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
            fault = getattr(self, "_fault", None)
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            if fault is not None and fault.kind == "truncate":
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: max(1, len(body) // 3)])
                self.wfile.flush()
                self.close_connection = True
                return
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj, code: int = 200) -> None:
            self._send(code, json.dumps(obj).encode(), "application/json")

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _pre(self) -> bool:
            """Log, then apply an injected fault; True when the request was answered."""
            path = urlparse(self.path).path
            with st.lock:
                st.log.append((self.command, path, self.headers.get("Range", "")))
            self._fault = st.take_fault(path)
            f = self._fault
            if f is None:
                return False
            if f.kind == "slow":
                time.sleep(f.delay_s)
                return False
            if f.kind == "429":
                self._body()
                retry = {"Retry-After": "50"}
                self._send(429, b'{"error":"rate limit"}', "application/json", retry)
                return True
            if f.kind == "403":
                self._body()
                msg = b'{"error":{"status":403,"message":"Out of processing units"}}'
                self._send(403, msg, "application/json")
                return True
            if f.kind == "500":
                self._body()
                self._send(500, b'{"error":"internal"}', "application/json")
                return True
            if f.kind == "expire":
                with st.lock:
                    st.tokens.clear()
            return False

        def _authorized(self) -> bool:
            auth = self.headers.get("Authorization", "")
            ok = auth.startswith("Bearer ") and auth[7:] in st.tokens
            if not ok:
                self._body()
                self._json({"error": {"status": 401, "reason": "Unauthorized"}}, 401)
            return ok

        # --- routes -------------------------------------------------------------------
        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if self._pre():
                return
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path in ("/stac", "/stac/"):
                return self._json(self._landing())
            if url.path == "/stac/search":
                bbox = [float(v) for v in q["bbox"].split(",")] if "bbox" in q else None
                return self._search(bbox, q.get("datetime"), int(q.get("limit", 50)), q, "GET")
            if url.path.startswith("/static/"):
                return self._static(url.path.removeprefix("/static/"))
            m = re.fullmatch(r"/assets/e\d+/([^/]+)/([^/]+)\.tif", url.path)
            if m and m.group(1) in st.items:
                return self._asset(st.items[m.group(1)].assets[m.group(2)].href)
            self._json({"error": "not found"}, 404)

        def do_POST(self) -> None:
            if self._pre():
                return
            path = urlparse(self.path).path
            if path == TOKEN_PATH:
                form = parse_qs(self._body().decode())
                cid, sec = form.get("client_id", [""])[0], form.get("client_secret", [""])[0]
                if (cid, sec) != (CLIENT_ID, CLIENT_SECRET):
                    return self._json({"error": "invalid_client"}, 401)
                return self._json(st.new_token())
            if path == "/stac/search":
                b = json.loads(self._body() or b"{}")
                return self._search(b.get("bbox"), b.get("datetime"), b.get("limit", 50), b, "POST")
            if not path.startswith("/api/v1/") or not self._authorized():
                return None if path.startswith("/api/v1/") else self._json({}, 404)
            body = json.loads(self._body() or b"{}")
            if path == "/api/v1/catalog/1.0.0/search":
                return self._sh_catalog(body)
            if path == "/api/v1/process":
                return self._process(body)
            if path == "/api/v1/statistics":
                return self._json(statistics_for(st, body))
            self._json({"error": "not found"}, 404)

        # --- STAC ---------------------------------------------------------------------
        def _landing(self) -> dict:
            return {
                "type": "Catalog",
                "id": "tushu-standin",
                "stac_version": "1.0.0",
                "description": "loopback stand-in",
                "conformsTo": [
                    "https://api.stacspec.org/v1.0.0/core",
                    "https://api.stacspec.org/v1.0.0/item-search",
                ],
                "links": [
                    {"rel": "self", "href": f"{st.base}/stac", "type": "application/json"},
                    {"rel": "root", "href": f"{st.base}/stac", "type": "application/json"},
                    {"rel": "search", "href": f"{st.base}/stac/search", "method": "GET"},
                    {"rel": "search", "href": f"{st.base}/stac/search", "method": "POST"},
                ],
            }

        def _search(self, bbox, dt, limit: int, params: dict, method: str) -> None:
            found = st.search(bbox, dt)
            start = int(params.get("token") or 0)
            page = found[start : start + int(limit)]
            links = []
            if start + int(limit) < len(found):
                nxt = start + int(limit)
                if method == "GET":
                    qs = "&".join(f"{k}={v}" for k, v in {**params, "token": nxt}.items())
                    links.append({"rel": "next", "href": f"{st.base}/stac/search?{qs}"})
                else:
                    body = {**params, "token": nxt}
                    href = f"{st.base}/stac/search"
                    links.append({"rel": "next", "href": href, "method": "POST", "body": body})
            self._json(
                {
                    "type": "FeatureCollection",
                    "features": [st.item_json(it) for it in page],
                    "links": links,
                }
            )

        def _static(self, rel: str) -> None:
            """The static catalog's files as they are on disk (a catalog.json URL)."""
            path = (st.static_root / rel).resolve()
            if not path.is_file() or st.static_root not in path.parents:
                return self._json({"error": "not found"}, 404)
            if path.suffix == ".json":
                return self._send(200, path.read_bytes(), "application/json")
            return self._asset(str(path))

        def _asset(self, path: str) -> None:
            data = Path(path).read_bytes()
            rng = self.headers.get("Range")
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
            if m is None:
                return self._send(200, data, "image/tiff", {"Accept-Ranges": "bytes"})
            a = int(m.group(1))
            b = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            extra = {"Content-Range": f"bytes {a}-{b}/{len(data)}", "Accept-Ranges": "bytes"}
            self._send(206, data[a : b + 1], "image/tiff", extra)

        # --- Sentinel Hub -------------------------------------------------------------
        def _sh_catalog(self, body: dict) -> None:
            found = st.search(body.get("bbox"), body.get("datetime"))
            m = re.search(r"eo:cloud_cover\s*<=\s*([\d.]+)", str(body.get("filter", "")))
            if m:
                found = [it for it in found if it.properties["eo:cloud_cover"] <= float(m[1])]
            start, limit = int(body.get("next") or 0), int(body.get("limit", 100))
            page = found[start : start + limit]
            context = {"limit": limit, "returned": len(page)}
            if start + limit < len(found):
                context["next"] = start + limit
            feats = [st.item_json(it, assets=False) for it in page]
            self._json({"type": "FeatureCollection", "features": feats, "context": context})

        def _process(self, body: dict) -> None:
            arr, profile = render_grid(st, body)
            self._send(200, _geotiff(arr, profile), "image/tiff")

    return Handler


def _geotiff(arr: np.ndarray, profile: dict) -> bytes:
    from rasterio.io import MemoryFile

    with MemoryFile() as mem:
        with mem.open(driver="GTiff", count=arr.shape[0], dtype="uint16", **profile) as ds:
            ds.write(arr.astype("uint16"))
        return mem.read()
