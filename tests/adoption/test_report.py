"""``reconciler report``: one self-contained page, checked in a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emails import mask_email
from reconciler.sandbox import SandboxServer
from tests.adoption.conftest import Repo, addresses, export, lenient_config

AUTHOR = {
    "GIT_AUTHOR_NAME": "Jane Doe",
    "GIT_AUTHOR_EMAIL": "jane@contoso.com",
    "GIT_COMMITTER_NAME": "Jane Doe",
    "GIT_COMMITTER_EMAIL": "jane@contoso.com",
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def git(root: Path, *args: str) -> None:
    env = {**os.environ, **AUTHOR}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Repo, Path]]:
    """Two exports with three runs between them, in a git repository, then the report."""
    with SandboxServer(lenient_config()) as server:
        repo = Repo(root=tmp_path_factory.mktemp("report"), server=server)
        yield repo, make_report(repo)


def make_report(repo: Repo) -> Path:
    git(repo.root, "init", "-q", "-b", "main")
    (repo.root / ".gitignore").write_text("state.db*\n*.html\n")
    members = addresses("m", 6)
    repo.seed_list("Rep001", "VIP", members)
    repo.seed_list("Rep002", "News", [])
    exports = [
        export("vip-list", "vip", "Rep001", schedule="0 6 * * *"),
        export("news-list", "news", "Rep002"),
    ]
    repo.write({"vip": [*members[2:], *addresses("v", 3)], "news": addresses("n", 4)}, exports)
    commit(repo.root, "Add the VIP and news exports")
    assert repo.run("apply", "--yes").exit_code == 0
    exports[0]["description"] = "Customers who spent the most"
    repo.write({"vip": [*members[3:], *addresses("v", 5)], "news": addresses("n", 7)}, exports)
    commit(repo.root, "More VIPs and subscribers")
    assert repo.run("apply", "--yes").exit_code == 0
    out = repo.root / "report.html"
    result = repo.run("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Report of 2 export(s) written" in result.stdout
    return out


def test_the_page_is_self_contained_and_holds_the_figures(reported: tuple[Repo, Path]) -> None:
    _, out = reported
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc=", html) and "<link" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "url(" not in html and "@import" not in html
    assert html.count("<svg") == 4  # a size chart and a changes chart per export
    vip = section(html, "vip-list")
    assert ">8<" in vip  # list size now: 3 kept + 5 new
    assert "due now" not in vip and "UTC" in vip  # next due: tomorrow 06:00 UTC (it just ran)
    jane = mask_email("jane@contoso.com")
    assert f"accepted by {jane} on 2026-11-20" in vip
    assert f"Jane Doe ({jane})" in vip  # who enabled it
    assert re.search(r'class="added">5<', vip) and re.search(r'class="removed">3<', vip)
    assert "every apply (no schedule)" in section(html, "news-list")
    trail = html[html.index("Audit trail") :]
    assert "More VIPs and subscribers" in trail and "(description)" in trail
    known = ["jane@contoso.com", *addresses("m", 6), *addresses("v", 5), *addresses("n", 7)]
    assert not [a for a in known if a in html]  # no full address anywhere


def section(html: str, name: str) -> str:
    start = html.index(f'id="export-{name}"')
    return html[start : html.index("</article>", start)]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing: .ci/run installs the Debian package 'chromium'")
    pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_rows(path: Path) -> tuple[int, int, Iterator[bytes]]:
    """Width, height and the unfiltered rows (lazily) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks += [body] if kind == b"IDAT" else []
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6) and header[12] == 0
    channels = 4 if color == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    return width, height, _unfilter(raw, width * channels, channels, height)


def _unfilter(raw: bytes, stride: int, bpp: int, height: int) -> Iterator[bytes]:
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                near = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + near) & 255
        prev = line
        yield bytes(line)


def colours(path: Path, enough: int) -> set[bytes]:
    """Distinct RGB colours (every 2nd pixel), read until ``enough`` are found."""
    width, _, rows = png_rows(path)
    found: set[bytes] = set()
    for row in rows:
        step = len(row) // width
        found.update(row[x * step : x * step + 3] for x in range(0, width, 2))
        if len(found) >= enough:
            break
    return found


@pytest.mark.parametrize("width,height", [(1280, 1800), (390, 1800)], ids=["desktop", "phone"])
def test_chromium_renders_it_at_desktop_and_phone_widths(
    reported: tuple[Repo, Path], tmp_path: Path, width: int, height: int
) -> None:
    _, out = reported
    shot = tmp_path / f"report-{width}.png"
    done = browse(
        out, tmp_path / "profile", f"--window-size={width},{height}", f"--screenshot={shot}"
    )
    assert shot.is_file(), done.stderr[-2000:]
    assert len(colours(shot, enough=40)) >= 40  # anti-aliased text and cards: not blank
    w, h, _ = png_rows(shot)
    assert (w, h) == (width, height)


def test_the_rendered_dom_holds_the_figures(reported: tuple[Repo, Path], tmp_path: Path) -> None:
    _, out = reported
    done = browse(out, tmp_path / "profile", "--dump-dom")
    dom = done.stdout
    assert done.returncode == 0 and "<html" in dom, done.stderr[-2000:]
    assert dom.count("<svg") == 4
    assert 'data-export="vip-list"' in dom and 'data-export="news-list"' in dom
    assert re.search(r'id="total-members">15<', dom)  # 8 + 7
    assert re.search(r'id="total-exports">2<', dom)
    vip = section(dom, "vip-list")
    assert "vip-list: list size" in vip and "vip-list: adds and removes per run" in vip
    assert '<desc class="value">8</desc>' in vip  # the chart's last point: 8 members
    assert '<desc class="value">3</desc>' in vip  # first run added 3


def test_an_offline_report_asks_klaviyo_nothing(
    reported: tuple[Repo, Path], tmp_path: Path
) -> None:
    repo, _ = reported
    before = repo.server.admin.stats()["requests"]
    out = tmp_path / "offline.html"
    result = repo.run("report", "--offline", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert repo.server.admin.stats()["requests"] == before
    assert "list sizes were not read from Klaviyo (--offline)" in result.stderr
    vip = section(out.read_text(), "vip-list")
    assert ">unknown<" in vip and "<svg" in vip  # the runs still chart (adds and removes)
