"""PDF report: the HTML record printed by headless Chromium, with no browser header or footer.

Why Chromium and not WeasyPrint (measured, docs/performance.md "PDF record"): Chromium is
already the suite's browser and what officers open the HTML record in, so the PDF is the page
they see; it costs no Python dependency (WeasyPrint adds ~1 s of import, 53 MiB and its own
Pango/HarfBuzz stack) and it honours the record's CSS page rules (A4, Decree 30 margins, the page
number at the top centre from page 2). It embeds subsets of the fonts it used, so the file reads
the same on a machine without them.

Chromium is started as a one-shot printer: a private profile in a 0700 temporary folder, no
extensions, no background networking, every host name resolving to nothing, and the page itself
forbids every fetch (its Content-Security-Policy). The sandbox stays on unless we run as root,
where Chromium refuses to start with it. The daemon never imports this module.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from typing import Optional

from ..errors import ScanError
from ..i18n import t

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120.0
MAX_PDF_BYTES = 64 * 1024 * 1024


def chromium() -> Optional[str]:
    """The browser to print with: $BMNN_CHROMIUM, else the first of BROWSERS on PATH."""
    forced = os.environ.get("BMNN_CHROMIUM")
    if forced:
        return forced if os.access(forced, os.X_OK) else None
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def command(browser: str, page: str, out: str, profile: str) -> list[str]:
    """The Chromium command line that prints ``page`` (a file path) to ``out``."""
    argv = [browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
            "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
            "--no-pdf-header-footer", "--print-to-pdf-no-header",  # the second for Chromium before 111
            f"--print-to-pdf={out}"]
    if os.geteuid() == 0:
        argv.append("--no-sandbox")
    return [*argv, "file://" + os.path.abspath(page)]


def render(html: str, lang: str = "vi", timeout: float = TIMEOUT_S) -> bytes:
    """Print an HTML document to PDF bytes; ScanError when no browser is there or it fails."""
    browser = chromium()
    if browser is None:
        raise ScanError(t("error.no_chromium", lang))
    with tempfile.TemporaryDirectory(prefix="bmnn-pdf-") as tmp:
        page, out = os.path.join(tmp, "record.html"), os.path.join(tmp, "record.pdf")
        with open(page, "w", encoding="utf-8") as fh:
            fh.write(html)
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_CACHE_HOME=tmp)
        proc = subprocess.Popen(command(browser, page, out, os.path.join(tmp, "profile")), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise ScanError(t("error.pdf_failed", lang, reason=f"no answer in {timeout:.0f} s")) from None
        finally:
            if proc.poll() is None:  # pragma: no cover - interrupted while waiting
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        data = b""
        if os.path.isfile(out):
            with open(out, "rb") as fh:
                data = fh.read(MAX_PDF_BYTES + 1)
        if not data.startswith(b"%PDF-") or len(data) > MAX_PDF_BYTES:
            lines = [x for x in err.decode("utf-8", "replace").splitlines() if x.strip() and "dbus" not in x]
            reason = lines[-1].strip()[:300] if lines else f"exit status {proc.returncode}, no PDF written"
            raise ScanError(t("error.pdf_failed", lang, reason=reason))
        return data


def report(doc: dict, lang: str = "vi") -> bytes:
    """The record (the HTML report) as PDF bytes."""
    from .html import report as html_report
    return render(html_report(doc, lang), lang)
