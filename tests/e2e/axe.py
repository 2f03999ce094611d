"""axe-core in the end-to-end suite: the vendored engine (tests/e2e/vendor/axe.min.js, axe-core
4.14.1 from the npm registry, MPL-2.0) is put into every document of a browser context by
Playwright's init script, which the pages' Content-Security-Policy does not govern — a
`<script>` tag added with `add_script_tag` is refused by `script-src 'self'`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page

AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_VERSION = "4.14.1"
BLOCKING_IMPACTS = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "")),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        shown = "\n    ".join(self.nodes[:5])
        more = f"\n    … {len(self.nodes) - 5} more" if len(self.nodes) > 5 else ""
        return f"{self.page}: [{self.impact}] {self.rule} — {self.help}\n    {shown}{more}"


def install_axe(context: BrowserContext) -> None:
    context.add_init_script(path=str(AXE_PATH))


def axe_violations(page: Page) -> list[Violation]:
    """The serious and critical violations axe finds in the page as it is now."""
    page.wait_for_function("() => window.axe !== undefined")
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return [
        Violation(page.url, v["id"], v["impact"], v["help"], tuple(v["nodes"]))
        for v in found if v["impact"] in BLOCKING_IMPACTS
    ]
