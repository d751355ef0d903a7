"""The emulator over HTTP: routing, its JSON answers, and the pages PayPal shows a browser."""

from __future__ import annotations

import html
import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .common import payer_id_for

if TYPE_CHECKING:  # core builds its handler from this one
    from .core import PayPalEmulator

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · PayPal (emulator)</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#142c8e}}
.note{{background:#fff4e0;padding:.5rem;border-radius:6px;color:#5a3b00}}label{{display:block;margin:1rem 0 .25rem}}
input{{font:inherit;width:100%;padding:.5rem;box-sizing:border-box}}button{{font:inherit;min-height:44px;
padding:.5rem 1rem;margin:1rem .5rem 0 0;border-radius:22px;border:1px solid #0070ba;background:#0070ba;color:#fff}}
button.secondary{{background:#fff;color:#0070ba}}</style></head>
<body><main><p class="note">PayPal emulator: a stand-in for PayPal in development and tests. No money moves.</p>
<h1>{title}</h1>{body}</main></body></html>"""


class Handler(BaseHTTPRequestHandler):
    emulator: PayPalEmulator
    server_version = "PayPalEmulator/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass  # quiet: request lines carry tokens and ids

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("PayPal-Debug-Id", "emulator")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _html(self, status: int, title: str, body: str) -> None:
        self._send(status, PAGE.format(title=html.escape(title), body=body).encode(), "text/html; charset=utf-8")

    def _redirect(self, url: str) -> None:
        self._send(302, b"", "text/plain", {"Location": url})

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self._read_body() if method == "POST" else b""
        try:
            if path.startswith(("/v1/", "/v2/")):
                answer = self.emulator.api(method, path, self.headers, body, query)
                if answer is None:
                    self.close_connection = True  # hang up: the client sees a timeout or a dropped connection
                    return
                self._json(*answer)
            elif path.startswith("/_emulator/"):
                self._control(method, path, body)
            elif path == "/checkoutnow":
                self._checkout(method, query, body)
            elif path == "/webapps/auth/protocol/openidconnect/v1/authorize":
                self._login(method, query, body)
            else:
                self._html(404, "Not found", "<p>The emulator has no such page.</p>")
        except (ValueError, KeyError, TypeError) as error:
            self._json(400, {"name": "MALFORMED_REQUEST", "message": f"Malformed request: {error}"})

    def _control(self, method: str, path: str, body: bytes) -> None:
        if path == "/_emulator/requests" and method == "GET":
            self._json(200, self.emulator.requests_seen())
        elif path == "/_emulator/faults" and method == "POST":
            data = json.loads(body or b"{}")
            self.emulator.add_fault(
                data["fault"],
                path=data.get("path", "/v1/payments"),
                times=int(data.get("times", 1)),
                issue=str(data.get("issue", "")),
            )
            self._json(201, {"ok": True})
        elif path == "/_emulator/reset" and method == "POST":
            self.emulator.reset()
            self._json(200, {"ok": True})
        elif path == "/_emulator/health":
            self._json(200, {"ok": True})
        else:
            self._json(404, {"name": "NOT_FOUND", "message": "No such control endpoint."})

    def _checkout(self, method: str, query: dict, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()} if method == "POST" else {}
        token = form.get("token") or query.get("token", "")
        order = self.emulator.order_for_token(token)
        # APPROVED too: after INSTRUMENT_DECLINED, PayPal sends the buyer back here to choose another way to pay.
        if order is None or order["status"] not in {"CREATED", "APPROVED"}:
            self._html(404, "Order not found", "<p>This order does not exist or is already complete.</p>")
            return
        if method == "POST" and form.get("action") == "cancel":
            self._redirect(_add_query(order["cancel_url"], {"token": token}))
            return
        if method == "POST" and form.get("action") == "approve":
            email = form.get("email", "").strip()
            if "@" not in email:
                self._checkout_page(order, token, "Enter the e-mail address of a PayPal account.")
                return
            self.emulator.approve_order(token, email)
            self._redirect(_add_query(order["return_url"], {"token": token, "PayerID": payer_id_for(email)}))
            return
        self._checkout_page(order, token)

    def _checkout_page(self, order: dict, token: str, error: str = "") -> None:
        esc = html.escape
        merchant = f" to {esc(order['brand_name'])}" if order["brand_name"] else ""
        body = (
            f'<p>Pay <strong id="amount">{esc(order["value"])} {esc(order["currency"])}</strong>{merchant}'
            f" for {esc(order['description'] or 'your purchase')}.</p>"
            + (f'<p role="alert">{esc(error)}</p>' if error else "")
            + f'<form method="post" action="/checkoutnow"><input type="hidden" name="token" value="{esc(token)}">'
            '<label for="email">Pay with the PayPal account</label>'
            '<input id="email" name="email" type="email" value="buyer@example.com" autocomplete="email">'
            '<button type="submit" name="action" value="approve">Approve</button>'
            '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>'
            "</form>"
        )
        self._html(200, "Review your payment", body)

    def _login(self, method: str, query: dict, body: bytes) -> None:
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()} if method == "POST" else query
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        if client_id != self.emulator.client_id or not redirect_uri or params.get("response_type") != "code":
            self._html(
                400,
                "Log in with PayPal",
                "<p>The application's request is invalid (client_id, "
                "redirect_uri and response_type=code are required).</p>",
            )
            return
        state = params.get("state", "")
        if method == "POST" and params.get("action") == "cancel":
            self._redirect(
                _add_query(
                    redirect_uri, {"error": "access_denied", "error_description": "The user cancelled", "state": state}
                )
            )
            return
        if method == "POST" and params.get("action") == "login":
            email = params.get("email", "").strip()
            if "@" in email:
                code = self.emulator.issue_code(
                    client_id=client_id,
                    redirect_uri=redirect_uri,
                    scope=params.get("scope", ""),
                    email=email,
                )
                self._redirect(_add_query(redirect_uri, {"code": code, "state": state}))
                return
        esc = html.escape
        hidden = "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(params.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "response_type", "scope", "state")
        )
        error = '<p role="alert">Enter the e-mail address of your PayPal account.</p>' if method == "POST" else ""
        body_html = (
            "<p>An application asks to confirm your PayPal account: your e-mail address and your PayPal account ID.</p>"
            + error
            + f'<form method="post" action="/webapps/auth/protocol/openidconnect/v1/authorize">{hidden}'
            '<label for="email">PayPal account e-mail</label>'
            f'<input id="email" name="email" type="email" value="{esc(params.get("email", ""))}" '
            'autocomplete="email" placeholder="you@example.com">'
            '<button type="submit" name="action" value="login">Log in and agree</button>'
            '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>'
            "</form>"
        )
        self._html(200, "Log in with PayPal", body_html)


def _add_query(url: str, params: dict) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)
