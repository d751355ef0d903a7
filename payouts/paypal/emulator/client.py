"""Drive a running emulator from another process, over its /_emulator/ control endpoints."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class EmulatorClient:
    """Drive a running emulator over its control endpoints (e.g. one another process started)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, data: dict | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(data).encode() if data is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own loopback server
            return json.loads(response.read() or b"null")

    def fail_next(self, fault: str, *, path: str = "/v1/payments", times: int = 1, issue: str = "") -> None:
        self._call("POST", "/_emulator/faults", {"fault": fault, "path": path, "times": times, "issue": issue})

    def requests(self) -> list[dict]:
        return self._call("GET", "/_emulator/requests")

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})
