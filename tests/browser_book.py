"""The rendered book in a real browser: `make browser-test` (after `jupyter-book build .`).

Not collected by a plain `pytest tests` (the file name does not start with test_): it needs the
built book in _build/html and Debian's Chromium at /usr/bin/chromium, driven by Playwright
(PyPI) with `executable_path`, so no browser is ever downloaded. It serves _build/html on a
free loopback port and opens every page of `_toc.yml` (chapters: `book/NN_slug`), asserting:

- no console error, no uncaught exception, no failed request, no request off the machine
  (MathJax is served from the book's _static, see _config.yml);
- math rendered: MathJax output present on pages with math, no raw `$$` or `\\begin{` left;
- every image loads (naturalWidth > 0), figures included; chapters have at least one;
- every same-site link resolves, and every citation points at an entry of the bibliography;
- moving each static explorer's slider changes the displayed frame and `data-frame`;
- no code block or printed output of any page is cut at the right edge (no horizontal
  scroll bar in a 1280-px window): check lines and code are readable whole;
- chapters have the Colab and Binder launch buttons and the .ipynb download button;
- on a phone (390 px) and a tablet (900 px) every page's sidebar toggle opens the navigation
  (a dialog with the table of contents), on a 1280-px screen it collapses and restores the
  sidebar; and at 390 px nothing on any page is cut: whatever is wider than the column sits
  in a scroll container, and a display equation that scrolls shows a cue (a shadow) that it does.

A full-page screenshot of each page goes to _build/screenshots/ (phone: the first screen and
the opened navigation, in _build/screenshots/390/).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("DLT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHAPTER = re.compile(r"^book/\d\d_[^/]+$")


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(str(node["file"]))
        if "root" in node:
            out.append(str(node["root"]))
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                out += _toc_files(child)
    return out


def pages() -> list[str]:
    """Every page of the book, in _toc.yml order (docnames without suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [f.rsplit(".", 1)[0] if f.endswith((".md", ".ipynb")) else f for f in _toc_files(toc)]


PAGES = pages()
CHAPTERS = [p for p in PAGES if CHAPTER.match(p)]


def test_every_chapter_notebook_is_in_the_toc():
    on_disk = {f"book/{p.stem}" for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb")}
    assert on_disk <= set(CHAPTERS), (
        f"chapters missing from _toc.yml: {sorted(on_disk - set(CHAPTERS))}"
    )
    assert CHAPTERS, "no chapter book/NN_slug in _toc.yml"


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail(
            "no built book in _build/html: run `jupyter-book build .` (make browser-test does)"
        )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set DLT_CHROMIUM)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


_IMAGES_JS = """async () => {
  const imgs = Array.from(document.querySelectorAll("img"));
  await Promise.all(imgs.map(i => { i.loading = "eager"; return i.decode().catch(() => null); }));
  return imgs.map(i => ({src: i.currentSrc.slice(0, 80), w: i.naturalWidth,
                         figure: !!i.closest(".cell_output, figure, .dlt-explorer")}));
}"""

_CUT_JS = """() => Array.from(document.querySelectorAll(".bd-article pre"))
  .filter(e => e.scrollWidth > e.clientWidth + 2)
  .map(e => e.innerText.split("\\n").sort((a, b) => b.length - a.length)[0].slice(0, 100))"""

# Code lines must also fit without wrapping at this width (the book's CSS wraps rather than
# cutting, so a line over the column would show as one line broken in two).
_WRAPPED_JS = """() => Array.from(document.querySelectorAll(".cell_input pre"))
  .filter(e => {
    const s = getComputedStyle(e);
    const inner = e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
    const lines = e.innerText.replace(/\\n$/, "").split("\\n").length;
    return Math.round(inner / parseFloat(s.lineHeight)) > lines;
  })
  .map(e => e.innerText.split("\\n").sort((a, b) => b.length - a.length)[0].slice(0, 100))"""

# Anything in the article wider than its box, or reaching past the window's right edge, must be
# inside an element that scrolls sideways (overflow-x auto or scroll): otherwise it is cut.
_UNSCROLLED_JS = """(INLINE) => {
  const root = document.querySelector(".bd-article") || document.body;
  const width = document.documentElement.clientWidth;
  const scrolls = s => s.overflowX === "auto" || s.overflowX === "scroll";
  const inScroller = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(getComputedStyle(a)) && a.scrollWidth > a.clientWidth) return true;
    }
    return false;
  };
  const out = [];
  for (const e of root.querySelectorAll("*")) {
    const s = getComputedStyle(e);
    if (s.display === "none" || s.visibility === "hidden" || s.position === "fixed") continue;
    if (e.closest("mjx-assistive-mml")) continue;  // MathJax's screen-reader copy, clipped on purpose
    if (e.closest(".toggle-hidden")) continue;  // a closed dropdown hides its content on purpose
    // Inline formulas are left to the reader's wrap (MathJax 3 cannot break them): see INLINE_MATH
    if (e.closest("span.math") && !INLINE) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    // (a few pixels of a glyph's overhang past an inline formula's box are not a cut)
    const clipped = e.scrollWidth > e.clientWidth + 8 && (s.overflowX === "hidden" || s.overflowX === "clip");
    const spills = r.right > width + 1;
    if ((clipped || spills) && !scrolls(s) && !inScroller(e)) {
      const text = (e.innerText || e.getAttribute("alt") || "").replace(/\\s+/g, " ").slice(0, 60);
      out.push(`${e.tagName.toLowerCase()}.${e.className}: ${Math.round(e.scrollWidth)} px in ${Math.round(e.clientWidth)} (${text})`);
    }
  }
  return out;
}"""

# A display equation that scrolls sideways shows the scroll-shadow cue of _ext/static/dlt.css.
_MATH_CUE_JS = """() => Array.from(document.querySelectorAll(
    ".bd-article div.math, .bd-article mjx-container[display='true']"))
  .filter(e => e.scrollWidth > e.clientWidth + 2 && ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
  .filter(e => !(e.matches("div.math") && getComputedStyle(e).backgroundImage.includes("gradient")))
  .map(e => e.innerText.slice(0, 60))"""

_TEXT_JS = """() => {
  const main = (document.querySelector("main") || document.body).cloneNode(true);
  main.querySelectorAll("pre, code, mjx-container, script, style, .highlight").forEach(e => e.remove());
  return main.innerText;
}"""


@pytest.mark.parametrize("page_name", PAGES)
def test_page_in_browser(page_name, server, browser):
    path = HTML / f"{page_name}.html"
    assert path.exists(), f"{page_name}.html was not built"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on(
        "requestfailed", lambda r: problems.append(f"request failed: {r.url[:120]} {r.failure}")
    )
    offsite: list[str] = []

    def route(r):
        host = urllib.parse.urlparse(r.request.url).hostname
        if r.request.url.startswith("data:") or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            offsite.append(r.request.url[:120])
            r.abort()

    page.route("**/*", route)
    url = f"{server}/{page_name}.html"
    page.goto(url, wait_until="load")
    try:
        # ---- math
        has_math = page.evaluate(
            "() => !!document.querySelector('.math, .MathJax, mjx-container, div.math')"
        )
        if has_math:
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=20_000,
                )
            except Exception:
                pytest.fail(
                    f"{page_name}: MathJax did not load in 20 s; requests off the machine: {offsite}; "
                    f"problems: {problems}"
                )
            page.evaluate("() => MathJax.startup.promise")
            n_math = page.evaluate("() => document.querySelectorAll('mjx-container').length")
            assert n_math > 0, (
                f"{page_name}: math on the page but no MathJax output (mjx-container)"
            )
        text = page.evaluate(_TEXT_JS)
        assert "$$" not in text and "\\begin{" not in text, (
            f"{page_name}: raw TeX left in the rendered text"
        )
        # ---- images and figures
        images = page.evaluate(_IMAGES_JS)
        broken = [i["src"] for i in images if i["w"] == 0]
        assert not broken, f"{page_name}: images that do not load: {broken}"
        # ---- links: same-site links resolve, citations point at bibliography entries
        links = page.evaluate(
            "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
        )
        local = sorted({h.split("#")[0] for h in links if h.startswith(server)})
        dead = [h for h in local if _status(h) != 200]
        assert not dead, f"{page_name}: links that do not resolve: {dead}"
        cites = page.evaluate("""() => Array.from(document.querySelectorAll('a[href*="bibliography.html#"]'))
                                     .map(a => a.href.split('#')[1])""")
        if cites:
            bib = context.new_page()
            bib.goto(f"{server}/book/bibliography.html", wait_until="load")
            missing = [
                c for c in cites if not bib.evaluate(f"() => !!document.getElementById({c!r})")
            ]
            bib.close()
            assert not missing, (
                f"{page_name}: citations whose bibliography entry is missing: {missing}"
            )
        # ---- every page: no code block, output or line cut at the right edge
        cut = page.evaluate(_CUT_JS)
        assert not cut, (
            f"{page_name}: code or output blocks cut at the right edge (a check line or code line "
            f"hidden behind a scroll bar): {cut[:3]}"
        )
        unscrolled = page.evaluate(_UNSCROLLED_JS, False)
        assert not unscrolled, (
            f"{page_name}: cut at 1280 px, outside a scroll container: {unscrolled[:3]}"
        )
        # ---- chapters: figures, citations, explorers, launch and download buttons
        if page_name in CHAPTERS:
            assert any(i["figure"] for i in images), f"{page_name}: a chapter without a figure"
            assert cites, f"{page_name}: a chapter without a citation"
            _check_explorers(page, page_name)
            wrapped = page.evaluate(_WRAPPED_JS)
            assert not wrapped, (
                f"{page_name}: code lines wider than the text column (wrapped at 1280 px): "
                f"{wrapped[:3]}"
            )
            hrefs = " ".join(links)
            assert "colab.research.google.com" in hrefs, f"{page_name}: no Colab launch button"
            assert "mybinder.org" in hrefs or "binder" in hrefs.lower(), (
                f"{page_name}: no Binder launch button"
            )
            ipynb = [h for h in links if h.startswith(server) and h.endswith(".ipynb")]
            assert ipynb, f"{page_name}: no .ipynb download button"
            assert _status(ipynb[0]) == 200, f"{page_name}: the .ipynb download link is dead"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate(
            "() => { if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); }"
        )
        page.screenshot(
            path=str(SHOTS / f"{page_name.replace('/', '_')}.png"), full_page=True, timeout=120_000
        )
        assert not offsite, (
            f"{page_name}: requests off the machine (the book must work offline): {offsite}"
        )
        assert not problems, f"{page_name}: " + "\n".join(problems)
    finally:
        context.close()


def _open_page(browser, server, page_name: str, width: int, height: int = 844):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(f"{server}/{page_name}.html", wait_until="load")
    if page.evaluate("() => !!document.querySelector('.math')"):
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000
        )
        page.evaluate("() => MathJax.startup.promise")
    return context, page, errors


_NAV_JS = """() => {
  const dialog = document.getElementById("pst-primary-sidebar-modal");
  const sidebar = document.getElementById("pst-primary-sidebar");
  const links = dialog && dialog.open
    ? Array.from(dialog.querySelectorAll("nav a")).filter(a => a.getBoundingClientRect().width > 0)
    : [];
  return {dialog: !!(dialog && dialog.open), links: links.length,
          hidden: !!(sidebar && sidebar.classList.contains("pst-sidebar-hidden"))};
}"""


def _toggle(page) -> None:
    toggle = page.locator(".primary-toggle:visible")
    assert toggle.count() == 1, f"{toggle.count()} visible sidebar toggles"
    toggle.first.click()
    page.wait_for_timeout(300)


@pytest.mark.parametrize("page_name", PAGES)
def test_page_on_a_phone(page_name, server, browser):
    """390 px: the toggle opens the navigation, and nothing is cut outside a scroll container."""
    context, page, errors = _open_page(browser, server, page_name, 390)
    try:
        unscrolled = page.evaluate(_UNSCROLLED_JS, False)
        assert not unscrolled, (
            f"{page_name}: cut at 390 px, outside a scroll container: {unscrolled[:3]}"
        )
        no_cue = page.evaluate(_MATH_CUE_JS)
        assert not no_cue, f"{page_name}: equations that scroll without a cue: {no_cue[:3]}"
        (SHOTS / "390").mkdir(parents=True, exist_ok=True)
        # the first screen (the API reference at phone width is tens of thousands of pixels
        # high; the assertions above cover the whole page)
        page.screenshot(path=str(SHOTS / "390" / f"{page_name.replace('/', '_')}.png"))
        _toggle(page)
        nav = page.evaluate(_NAV_JS)
        assert nav["dialog"] and nav["links"] > 5, (
            f"{page_name}: at 390 px the sidebar toggle does not open the navigation: {nav}"
        )
        page.screenshot(path=str(SHOTS / "390" / f"{page_name.replace('/', '_')}-nav.png"))
        page.keyboard.press("Escape")
        assert not page.evaluate(_NAV_JS)["dialog"], f"{page_name}: Escape does not close it"
        assert not errors, f"{page_name}: " + "\n".join(errors)
    finally:
        context.close()


@pytest.mark.parametrize("width", [900, 1280])
def test_sidebar_toggle_on_a_tablet_and_a_screen(width, server, browser):
    """900 px: the toggle opens the navigation as on a phone; 1280 px: it hides the sidebar and
    shows it again."""
    context, page, errors = _open_page(browser, server, CHAPTERS[0], width)
    try:
        _toggle(page)
        nav = page.evaluate(_NAV_JS)
        if width < 992:  # the themes' breakpoint between the dialog and the side column
            assert nav["dialog"] and nav["links"] > 5, f"{width} px: no navigation: {nav}"
        else:
            assert nav["hidden"] and not nav["dialog"], f"{width} px: sidebar not hidden: {nav}"
            _toggle(page)
            assert not page.evaluate(_NAV_JS)["hidden"], f"{width} px: sidebar not restored"
        assert not errors, "\n".join(errors)
    finally:
        context.close()


def _check_explorers(page, page_name: str) -> None:
    explorers = page.locator("div.dlt-explorer")
    assert explorers.count() > 0, f"{page_name}: a chapter without an explorer"
    for e in range(explorers.count()):
        root = explorers.nth(e)
        sliders = root.locator("input.dlt-explorer-slider")
        assert sliders.count() > 0, f"{page_name}: explorer {e} has no slider"
        for s in range(sliders.count()):
            slider = sliders.nth(s)
            if slider.get_attribute("max") == "0":
                continue
            before_frame = root.get_attribute("data-frame")
            before_src = root.locator("img.dlt-explorer-frame:visible").first.get_attribute("src")
            slider.scroll_into_view_if_needed()
            slider.focus()
            # a real key press, as a reader would move it (to the other end when it opens at the
            # last value: an explorer opens on the frame its text discusses)
            at_end = slider.input_value() == slider.get_attribute("max")
            page.keyboard.press("Home" if at_end else "End")
            after_frame = root.get_attribute("data-frame")
            visible = root.locator("img.dlt-explorer-frame:visible")
            assert visible.count() == 1, (
                f"{page_name}: explorer {e} shows {visible.count()} frames at once"
            )
            assert after_frame != before_frame, (
                f"{page_name}: explorer {e} slider {s} did not change data-frame"
            )
            assert visible.first.get_attribute("src") != before_src, (
                f"{page_name}: explorer {e} slider {s} did not change the displayed frame"
            )
            page.keyboard.press("End" if at_end else "Home")
