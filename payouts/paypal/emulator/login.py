"""The emulator's "Log in with PayPal": authorization codes, the token service, userinfo."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from urllib.parse import parse_qs

from .common import (
    PAYPAL_ATTRIBUTES_SCOPE,
    State,
    payer_id_for,
)


class LoginApi:
    lock: threading.Lock
    state: State
    url: str
    client_id: str
    _client_ok: Callable[..., bool]  # PayPalEmulator's: checks the app's credentials

    def issue_code(self, *, client_id: str, redirect_uri: str, scope: str, email: str) -> str:
        code = secrets.token_urlsafe(24)
        email = email.strip().lower()
        with self.lock:
            self.state.auth_codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "email": email,
            }
            self.state.emails_by_payer_id[payer_id_for(email)] = email
        return code

    def _login_token(self, headers, body: bytes) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if not self._client_ok(headers, form):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        with self.lock:
            grant = self.state.auth_codes.pop(form.get("code", ""), None)
            if form.get("grant_type") != "authorization_code" or grant is None:
                return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
            if grant["redirect_uri"] != form.get("redirect_uri", grant["redirect_uri"]):
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
            token = secrets.token_urlsafe(24)
            self.state.login_tokens[token] = grant
        return 200, {
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": 28800,
            "refresh_token": secrets.token_urlsafe(24),
            "scope": grant["scope"],
        }

    def _userinfo(self, headers, body: bytes, query: dict) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()} if body else {}
        token = query.get("access_token") or form.get("access_token") or ""
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
        with self.lock:
            grant = self.state.login_tokens.get(token)
        if grant is None:
            return 401, {"error": "invalid_token", "error_description": "Access token is invalid"}
        email = grant["email"]
        name = email.split("@")[0].replace(".", " ").title()
        info = {
            "user_id": f"https://www.paypal.com/webapps/auth/identity/user/{hashlib.sha256(email.encode()).hexdigest()[:43]}",
            "name": name,
            "given_name": name.split(" ")[0],
            "family_name": name.split(" ")[-1],
            "email": email,
            "email_verified": True,
            "verified_account": "true",
        }
        if PAYPAL_ATTRIBUTES_SCOPE in grant["scope"].split():
            info["payer_id"] = payer_id_for(email)
        return 200, info
