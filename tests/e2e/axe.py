"""axe-core in the browser tests: the WCAG 2.2 A/AA rules, run in the page through Playwright.

axe-core's own build (axe.min.js) comes from the PyPI package axe-playwright-python (a dev dependency in
pyproject.toml), so CI needs no npm. It is evaluated through the DevTools protocol, which the pages'
Content-Security-Policy (scripts from our own origin only) does not apply to.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def axe_violations(page) -> list[dict]:
    """The serious and critical WCAG 2.2 A/AA violations on the page as it is now."""
    watch = getattr(page, "watch", None)  # conftest's PageWatch: axe's own probing is not the page's fault
    seen = len(watch.problems) if watch else 0
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = page.evaluate(f"axe.run(document, {json.dumps(options)})")
    if watch:
        # axe applies inline styles while it measures (refused by our CSP): drop only those reports.
        watch.problems[seen:] = [p for p in watch.problems[seen:] if "Applying inline style" not in p]
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(url: str, violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{url}: [{violation['impact']}] {violation['id']}: {violation['help']} at {targets}")
        for node in violation["nodes"][:2]:
            lines.append(f"    {node.get('failureSummary', '').splitlines()[-1:]} {node['html'][:160]}")
    return "\n".join(lines)


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
