"""Accessibility audits of the pages in the browser tests, with axe-core (Deque, MPL-2.0).

RGAA 4 (the French public services' accessibility standard) builds on WCAG 2.1 AA; axe-core
checks its automatable part in the real page. The browser tests call :func:`assert_accessible`
at the states a resident, an agent or an administrator sees (a form, an answer, a tab), and a
test fails on any violation of impact "critical" or "serious", listing each rule and the
elements at fault.

axe-core is an npm package pinned in the repository's ``package.json`` and installed in
``node_modules/`` by ``scripts/test`` (``npm ci``): the audits read that file offline. Without
it the audit is skipped with its reason on a laptop, and fails in CI.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[1]
AXE_PACKAGE = ROOT / "node_modules" / "axe-core"
#: Impacts that fail a test; "moderate" and "minor" ones are left to review.
FAILING_IMPACTS = ("critical", "serious")
#: The rules run: WCAG 2.0 and 2.1 levels A and AA (what RGAA 4 requires) and axe's best
#: practices (landmarks, headings, names), of which only the serious ones fail a test.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")


def pinned_version() -> str:
    """The axe-core version that ``package.json`` pins."""
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    return str(manifest["devDependencies"]["axe-core"])


@cache
def axe_source() -> str:
    """The pinned axe-core script, read from ``node_modules`` (installed by ``npm ci``)."""
    wanted = pinned_version()
    try:
        installed = json.loads((AXE_PACKAGE / "package.json").read_text(encoding="utf-8"))
        source = (AXE_PACKAGE / "axe.min.js").read_text(encoding="utf-8")
    except OSError:
        unavailable(f"axe-core {wanted} is not installed in node_modules (run: npm ci)")
    if installed.get("version") != wanted:
        unavailable(
            f"node_modules holds axe-core {installed.get('version')}, package.json pins "
            f"{wanted} (run: npm ci)"
        )
    return source


def audit(page: Any, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core on ``page`` (a Playwright page) as it is now; return its violations.

    The script is evaluated through the DevTools protocol, which the pages' strict
    Content-Security-Policy does not govern; open shadow roots (the widget) are audited too.

    Args:
        page: The page, in the state to audit.
        exclude: CSS selectors of parts left out of the audit.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    options = {"runOnly": {"type": "tag", "values": list(TAGS)}, "resultTypes": ["violations"]}
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    result = page.evaluate(
        "([context, options]) => axe.run(context || document, options)"
        ".then((r) => r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,"
        " helpUrl: v.helpUrl, nodes: v.nodes.map((n) => ({target: n.target, html: n.html,"
        " summary: n.failureSummary}))})))",
        [context, options],
    )
    return list(result)


def selector(target: list[Any]) -> str:
    """An element's axe-core selector; inside a shadow root, the host first, then ``>>>``."""
    return " ".join(part if isinstance(part, str) else " >>> ".join(part) for part in target)


def report(violations: list[dict[str, Any]]) -> str:
    """The violations as text: each rule, its impact and help, then each element at fault."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    {selector(node['target'])}: {node['html'][:200]}")
            summary = " ".join(str(node["summary"] or "").split())
            if summary:
                lines.append(f"      {summary[:400]}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str, *, exclude: tuple[str, ...] = ()) -> None:
    """Fail the test if axe-core finds a critical or serious violation on ``page``.

    Args:
        page: The Playwright page, in the state to audit.
        where: What the page shows, for the failure message (e.g. "console, sign-in form").
        exclude: CSS selectors of parts left out of the audit.
    """
    failing = [v for v in audit(page, exclude=exclude) if v["impact"] in FAILING_IMPACTS]
    if failing:
        pytest.fail(
            f"axe-core {pinned_version()} finds {len(failing)} critical or serious "
            f"accessibility violation(s) on {where} ({page.url}):\n{report(failing)}",
            pytrace=False,
        )
