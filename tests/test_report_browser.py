"""A report written by ``dagforge report`` renders in a real browser with its images.

Needs a Chromium (Debian: ``apt-get install chromium``); skipped with that reason when
none is installed. The page is loaded headless from a copy with a probe script that
counts the images the browser decoded and writes the count into the title, which
``--dump-dom`` prints."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dagforge.cli import main
from helpers import FIVE_NODE, sample_five_node

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)
PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = `images ${ok}/${imgs.length}`;
});
</script></body>"""


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_report_renders_with_its_images(tmp_path: Path) -> None:
    X = sample_five_node(300)
    (tmp_path / "data.csv").write_text(
        "a,b,c,d,e\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in X))
    names = "abcde"
    (tmp_path / "truth.csv").write_text("source,target\n" + "\n".join(
        f"{names[i]},{names[j]}" for i, j in np.argwhere(FIVE_NODE != 0)) + "\n")
    fit = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "data.csv"), "--seed", "0", "--out", str(fit)]) == 0
    assert main(["report", str(fit), "--true", str(tmp_path / "truth.csv")]) == 0
    page = fit / "report" / "report.html"
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE),
                     encoding="utf-8")
    out = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>images (\d+)/(\d+)</title>", out.stdout)
    assert title, out.stdout[-500:] + out.stderr[-500:]
    loaded, total = int(title[1]), int(title[2])
    assert total >= 4 and loaded == total  # adjacency, graph, training, PR / threshold
