"""Render the claims report's HTML page in headless Chromium, save a screenshot and check its layout
as the browser lays it out:

    python ci/screenshot_report.py [reports/claims-report.html] [--png reports/claims-report.png]

Checks, in the browser's own pixels: the page does not scroll sideways at 1280 px; every chart
lies inside the page's content width; every text of a chart lies inside its chart and overlaps
none of its other texts; every legend lies below its chart's plot area (it never covers data);
no box of fixed width overflows (a legend running off its chart); no figure shows an error box.
Prints one line per problem and exits 1 if there is any; prints a line and exits 0 (skipped)
where no Chromium is installed (Debian: ``apt-get install chromium``). The SVG-level tests in
``fixtures/tests/test_html_report.py`` check the same with estimated text widths and need no
browser.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")
WIDTH = 1280

# Runs in the page once it is laid out; writes what it found into <pre id="layout-check">.
CHECK = """
<script>
window.addEventListener("load", () => {
  const problems = [], body = document.body.getBoundingClientRect();
  const svgs = [...document.querySelectorAll("svg")];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`);
    const wide = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > body.right + 1
      && !(e.parentElement && e.parentElement.getBoundingClientRect().right > body.right + 1));
    wide.slice(0, 5).forEach(e => problems.push(`  ${e.tagName.toLowerCase()}${e.className ? "." + e.className : ""} `
      + `reaches ${Math.round(e.getBoundingClientRect().right - body.right)} px past the page: "${e.textContent.slice(0, 80)}"`));
  }
  svgs.forEach((svg, i) => {
    const name = (svg.querySelector("title") || {}).textContent || `chart ${i}`;
    const box = svg.getBoundingClientRect();
    if (box.right > body.right + 1) problems.push(`${name}: reaches ${Math.round(box.right - body.right)} px past the page`);
    const view = svg.viewBox.baseVal, boxes = [];
    for (const text of svg.querySelectorAll("text")) {
      const r = text.getBoundingClientRect();
      if (r.width > 0 && !text.closest("[transform*=rotate]")) boxes.push(r);
      const b = text.getBBox(), m = text.getCTM(), s = svg.getCTM();
      if (!view || !m || !s || text.closest("[transform*=rotate]") || text.getAttribute("transform")) continue;
      const x0 = b.x + (m.e - s.e) / s.a, x1 = x0 + b.width;  // in the chart's own units
      if (x0 < -1 || x1 > view.width + 1 || b.y + b.height > view.height + 1)
        problems.push(`${name}: text "${text.textContent}" runs outside the chart (${Math.round(x0)}..${Math.round(x1)} of ${view.width})`);
    }
    let overlaps = 0;
    boxes.forEach((a, j) => boxes.slice(j + 1).forEach(b => {
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) overlaps++;
    }));
    if (overlaps) problems.push(`${name}: ${overlaps} pairs of its texts overlap`);
    const frame = svg.querySelector("rect[fill=none]"), legend = svg.querySelector("g.legend");
    if (frame && legend) {
      const f = frame.getBoundingClientRect(), l = legend.getBoundingClientRect();
      if (l.top < f.bottom - 1 && l.right > f.left && l.left < f.right)
        problems.push(`${name}: its legend covers the plot area`);
    }
  });
  document.querySelectorAll("div[style*=width]").forEach(box => {
    if (box.scrollWidth > box.clientWidth + 1)
      problems.push(`a box of ${box.clientWidth} px holds ${box.scrollWidth} px: "${box.textContent.slice(0, 80)}"`);
  });
  document.querySelectorAll(".plot-error").forEach(e => problems.push(`error box: ${e.textContent.slice(0, 200)}`));
  const out = document.createElement("pre");
  out.id = "layout-check";
  out.textContent = JSON.stringify({charts: svgs.length, width: document.documentElement.scrollWidth, problems});
  document.body.appendChild(out);
});
</script>
"""


def browser() -> str | None:
    """The first Chromium-like browser on the PATH."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def run_browser(exe: str, args: list[str], profile: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=timeout)


def screenshot(exe: str, page: Path, png: Path, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = run_browser(exe, [f"--screenshot={png}", f"--window-size={WIDTH},{height}", page.resolve().as_uri()],
                           Path(profile))
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot: {done.stderr.strip()[-500:]}")


def layout_problems(exe: str, page: Path) -> dict:
    """{"charts", "width", "problems"} as the browser lays out ``page``."""
    with tempfile.TemporaryDirectory(prefix="report-check-") as tmp:
        checked = Path(tmp) / page.name
        checked.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"), encoding="utf-8")
        done = run_browser(exe, ["--dump-dom", f"--window-size={WIDTH},2000", "--virtual-time-budget=5000",
                                 checked.as_uri()], Path(tmp) / "profile")
    found = re.search(r'<pre id="layout-check">(.*?)</pre>', done.stdout, flags=re.S)
    if not found:
        raise RuntimeError(f"the layout check did not run in chromium: {done.stderr.strip()[-500:]}")
    return json.loads(html.unescape(found[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", nargs="?", default=str(ROOT / "reports" / "claims-report.html"))
    parser.add_argument("--png", default=None, help="where the screenshot goes (default: beside the page)")
    parser.add_argument("--height", type=int, default=4000, help="window height of the screenshot (default 4000)")
    args = parser.parse_args(argv)
    page = Path(args.page)
    if not page.is_file():
        print(f"error: {page} does not exist: run pytest first (it writes reports/claims-report.html)", file=sys.stderr)
        return 2
    exe = browser()
    if exe is None:
        print("skipped: no Chromium on this machine (Debian: `apt-get install chromium`); the SVG-level tests "
              "(fixtures/tests/test_html_report.py) still check every chart")
        return 0
    png = Path(args.png) if args.png else page.with_suffix(".png")
    screenshot(exe, page, png, args.height)
    found = layout_problems(exe, page)
    print(f"{page}: {found['charts']} charts, page {found['width']} px wide at a {WIDTH} px window; screenshot {png}")
    for problem in found["problems"]:
        print(f"problem: {problem}")
    return 1 if found["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
