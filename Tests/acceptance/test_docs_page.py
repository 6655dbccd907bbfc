"""The /docs page in headless Chromium: it fetches /openapi.json and renders every operation."""
import html.parser
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT

SCREENSHOT = ROOT / ".build" / "docs-page.png"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def chromium(*args):
    """Runs headless Chromium with a throwaway profile; returns the completed process."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium is missing (neither `chromium` nor `chromium-browser` is on PATH): "
                    "install it, e.g. `apt-get install -y chromium`, to test the /docs page")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", *args],
            capture_output=True, text=True, timeout=60)


class Page(html.parser.HTMLParser):
    """Collects the text inside each element carrying data-operation-id, and every <h2>'s text."""

    def __init__(self):
        super().__init__()
        self.stack, self.operations, self.headings = [], {}, []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attrs = dict(attrs)
        operation = attrs.get("data-operation-id")
        if operation is not None:
            self.operations.setdefault(operation, "")
        self.stack.append((tag, operation, [] if tag == "h2" else None))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _, heading = self.stack.pop()
            if heading is not None:
                self.headings.append("".join(heading).strip())
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, operation, heading in self.stack:
            if operation is not None:
                self.operations[operation] += data
            if heading is not None:
                heading.append(data)


def test_docs_page_renders_the_openapi_document(http_base):
    result = chromium("--dump-dom", f"{http_base}/docs")
    assert result.returncode == 0, result.stderr
    page = Page()
    page.feed(result.stdout)
    page.close()
    assert page.operations, f"no element with data-operation-id in the rendered page:\n{result.stdout[:2000]}"
    deposit = [op for op, text in page.operations.items() if "/accounts/{id}/commands/deposit" in text]
    assert deposit, f"/accounts/{{id}}/commands/deposit is in no operation element: {sorted(page.operations)}"
    assert "account" in page.headings, page.headings
    assert not re.search(r'id="status"[^>]*class="[^"]*error', result.stdout), "the page says /openapi.json did not load"
    assert "Content Security Policy" not in result.stderr, result.stderr


def test_docs_page_screenshot(http_base):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    result = chromium("--hide-scrollbars", "--window-size=1280,2000", f"--screenshot={SCREENSHOT}", f"{http_base}/docs")
    assert result.returncode == 0, result.stderr
    assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 0, f"no screenshot at {SCREENSHOT}"
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
