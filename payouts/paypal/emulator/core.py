"""The emulator itself: running on 127.0.0.1, faults, the record of requests, idempotency, and routing."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import ThreadingHTTPServer

from .common import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, FAULTS, ApiError, Fault, State
from .login import LoginApi
from .orders import OrdersApi
from .pages import Handler as BaseHandler
from .payouts import PayoutsApi


class PayPalEmulator(OrdersApi, PayoutsApi, LoginApi):
    """The emulator's state and behaviour; `serve()` puts it on 127.0.0.1 in a thread."""

    def __init__(
        self,
        *,
        port: int = 0,
        client_id: str = EMULATOR_CLIENT_ID,
        client_secret: str = EMULATOR_CLIENT_SECRET,
        hang_seconds: float = 30.0,
    ) -> None:
        self.port = port
        self.client_id, self.client_secret = client_id, client_secret
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.state = State()
        self._release = threading.Event()  # set to free hanging requests (reset, stop)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Running ---

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> PayPalEmulator:
        emulator = self

        class Handler(BaseHandler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="paypal-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever_started(self) -> None:
        """Block until the server stops (after serve())."""
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.5)  # a timeout, so Ctrl-C is noticed

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self.lock:
            # Issued access tokens stay valid, as PayPal's do: a client that cached one keeps working.
            self.state = State(tokens=self.state.tokens)
            self._release.set()
            self._release = threading.Event()

    # --- Faults and the record of requests (tests use these directly or over /_emulator/) ---

    def add_fault(self, kind: str, *, path: str = "/v1/payments", times: int = 1, issue: str = "") -> None:
        if kind not in FAULTS:
            raise ValueError(f"fault is one of {sorted(FAULTS)}")
        if kind == "refuse" and not issue:
            raise ValueError("a refuse fault names the issue PayPal answers with")
        with self.lock:
            self.state.faults.append(Fault(kind, path, times, issue))

    def requests_seen(self) -> list[dict]:
        with self.lock:
            return list(self.state.requests)

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.state.faults:
                if path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.state.faults.remove(fault)
                    return fault
        return None

    def hang(self) -> None:
        self._release.wait(self.hang_seconds)

    # --- API ---

    def api(self, method: str, path: str, headers, body: bytes, query: dict) -> tuple[int, dict] | None:
        """Answer an API call: (status, JSON body), or None for "hang up without an answer"."""
        request_id = headers.get("PayPal-Request-Id", "")
        with self.lock:
            self.state.requests.append({"method": method, "path": path, "request_id": request_id})
        taken = self._take_fault(path)
        fault = taken.kind if taken else None
        if fault == "timeout":
            self.hang()
            return None
        if fault == "server_error":
            return 503, {"name": "SERVICE_UNAVAILABLE", "message": "Service Unavailable.", "debug_id": "emulator"}
        if fault == "refuse":
            detail = {"issue": taken.issue, "description": "The emulator was told to refuse this request."}
            return 422, ApiError(
                422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.", [detail]
            ).body()
        # Idempotency applies to authenticated API calls only: PayPal checks the token first.
        idempotent = method == "POST" and bool(request_id) and path.startswith(("/v1/payments", "/v2/"))
        if idempotent:
            try:
                self._authorize(headers)
            except ApiError as error:
                return error.status, error.body()
        key = (path, request_id)
        digest = hashlib.sha256(body).hexdigest()
        with self.lock:
            replay = self.state.answered.get(key) if idempotent else None
        if replay is not None and replay[0] != digest:
            # PayPal replays only the same request: the id reused for another body is refused.
            answer = ApiError(
                400, "DUPLICATE_REQUEST_ID", "The value of PayPal-Request-Id header has already been used"
            ).as_answer()
        elif replay is not None:
            answer = replay[1]
        else:
            try:
                answer = self._route(method, path, headers, body, query)
            except ApiError as error:
                answer = error.as_answer()
            if idempotent and answer[0] < 500:
                with self.lock:
                    self.state.answered[key] = (digest, answer)
        if fault == "accept_then_timeout":
            self.hang()
            return None
        return answer

    def _route(self, method: str, path: str, headers, body: bytes, query: dict) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p]
        if path == "/v1/oauth2/token" and method == "POST":
            return self._oauth_token(headers)
        if parts[:3] == ["v1", "identity", "openidconnect"]:
            if parts[3:] == ["tokenservice"] and method == "POST":
                return self._login_token(headers, body)
            if parts[3:] == ["userinfo"]:
                return self._userinfo(headers, body, query)
        self._authorize(headers)
        data = json.loads(body or b"{}") if method == "POST" else {}
        if parts[:3] == ["v2", "checkout", "orders"]:
            if len(parts) == 3 and method == "POST":
                return self._create_order(data)
            if len(parts) == 4 and method == "GET":
                return 200, self._order(parts[3])
            if len(parts) == 5 and parts[4] == "capture" and method == "POST":
                return self._capture_order(parts[3])
        if parts[:3] == ["v2", "payments", "captures"]:
            if len(parts) == 4 and method == "GET":
                return 200, self._capture(parts[3])
            if len(parts) == 5 and parts[4] == "refund" and method == "POST":
                return self._refund_capture(parts[3], data)
        if parts[:3] == ["v2", "payments", "refunds"] and len(parts) == 4 and method == "GET":
            return 200, self._refund(parts[3])
        if parts[:3] == ["v1", "payments", "payouts"]:
            if len(parts) == 3 and method == "POST":
                return self._create_payout(data)
            if len(parts) == 4 and method == "GET":
                return 200, self._batch(parts[3])
        if parts[:3] == ["v1", "payments", "payouts-item"] and len(parts) == 4 and method == "GET":
            return 200, self._item(parts[3])
        raise ApiError(404, "NOT_FOUND", f"No {method} {path} in the emulator.")

    def _client_ok(self, headers, form: dict | None = None) -> bool:
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
        elif form is not None:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            return False
        return secrets.compare_digest(client_id, self.client_id) and secrets.compare_digest(secret, self.client_secret)

    def _oauth_token(self, headers) -> tuple[int, dict]:
        if not self._client_ok(headers):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = "A21AA" + secrets.token_urlsafe(24)
        with self.lock:
            self.state.tokens.add(token)
        return 200, {
            "scope": "https://api.paypal.com/v1/payments/.*",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-EMULATOR",
            "expires_in": 32400,
        }

    def _authorize(self, headers) -> None:
        auth = headers.get("Authorization", "")
        with self.lock:
            known = auth.startswith("Bearer ") and auth[7:] in self.state.tokens
        if not known:
            raise ApiError(401, "AUTHENTICATION_FAILURE", "Authentication failed due to invalid credentials.")
