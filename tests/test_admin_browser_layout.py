"""The admin pages in a real browser on a phone, and every page load free of failed requests."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from fynix.caching.namespaces import NAMESPACES
from tests.browser import LiveServer, Session

pytestmark = [pytest.mark.browser, pytest.mark.redis]

# WCAG AA contrast of an element's text against the background it is painted on: the
# nearest ancestor with an opaque background, whose box must contain the element's box
# (text that overflows its dark bar is painted on the light page behind it).
CONTRAST_JS = """(el) => {
  const rgba = (css) => {
    const v = (css.match(/[\\d.]+/g) || []).map(Number);
    return v.length === 3 ? [...v, 1] : v;
  };
  const channel = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (e) => rgba(getComputedStyle(e).backgroundColor);
  let holder = el;
  while (holder.parentElement && background(holder)[3] === 0) holder = holder.parentElement;
  const [a, b] = [lum(rgba(getComputedStyle(el).color)), lum(background(holder))];
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  };
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  return {ratio: ratio, box: box(el), holder: box(holder)};
}"""
CHART_TEXT_JS = """(svg) => [...svg.querySelectorAll("text")].map((t) => {
  const r = t.getBoundingClientRect();
  const row = t.parentElement.dataset.namespace || null;
  return {text: t.textContent.trim(), kind: t.getAttribute("class"), row: row,
          left: r.left, right: r.right, height: r.height};
})"""
PHONE_PAGES = ["/admin/", "/admin/cache", "/admin/database", "/admin/users", "notify"]


def _inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return all(
        (inner[side] >= outer[side] - slack) if side in ("left", "top") else
        (inner[side] <= outer[side] + slack)
        for side in ("left", "right", "top", "bottom")
    )  # fmt: skip


def _assert_fits_the_screen(phone: Session) -> None:
    width = phone.page.evaluate("() => window.innerWidth")
    assert width == 420
    assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_every_admin_page_fits_a_phone_and_its_top_bar_stays_readable(phone, people, path):
    admin, user, _auth = people
    name = f"phone-{path.strip('/').replace('/', '-') or 'dashboard'}"
    if path == "notify":
        path = f"/admin/users/{user['id']}/notify"
    phone.goto(path)
    _assert_fits_the_screen(phone)  # the login page too
    phone.login(admin["username"])
    assert urlsplit(phone.page.url).path == path
    _assert_fits_the_screen(phone)
    items = [phone.page.locator("nav.mainnav a").nth(i) for i in range(4)]
    assert [item.inner_text() for item in items] == ["Dashboard", "Cache", "Database", "Users"]
    items += [phone.page.locator(".whoami"), phone.page.locator(".logout button")]
    assert items[4].inner_text() == admin["username"]
    screen = {"left": 0, "right": 420, "top": 0, "bottom": 10_000}
    for item in items:
        assert item.is_visible()
        seen = item.evaluate(CONTRAST_JS)
        assert _inside(seen["box"], seen["holder"]), (item.inner_text(), seen)
        assert _inside(seen["box"], screen), (item.inner_text(), seen)
        assert seen["ratio"] >= 4.5, (item.inner_text(), seen)
    phone.screenshot(name)
    phone.assert_only_own_host()


def test_dashboard_chart_labels_are_legible_on_a_phone(phone, people):
    admin, user, _auth = people
    phone.server.make_traffic(user["token"])
    phone.goto("/admin/")
    phone.login(admin["username"])
    chart = phone.page.locator("svg#hit-ratio-chart")
    box = chart.bounding_box()
    frame = {"left": box["x"], "right": box["x"] + box["width"]}
    texts = chart.evaluate(CHART_TEXT_JS)
    labels = [text for text in texts if text["kind"] == "label"]
    assert [text["text"] for text in labels] == list(NAMESPACES)
    for text in texts:
        assert text["left"] >= max(frame["left"], 0) - 0.5, text  # not clipped on the left
        assert text["right"] <= min(frame["right"], 420) + 0.5, text  # nor on the right
        assert text["height"] >= 12, text  # rendered at a readable size, not scaled down
    for label in labels:
        (value,) = [t for t in texts if t["kind"] == "value" and t["row"] == label["row"]]
        assert label["right"] < value["left"], (label, value)  # name and ratio never overlap
    phone.screenshot("phone-dashboard-chart")
    phone.assert_only_own_host()


# --- no failed request ---------------------------------------------------------------------


def _wait_until_served(server: LiveServer, path: str, seconds: float = 10.0) -> None:
    """The browser asks for the favicon after the page has loaded: wait for it (a hang guard)."""
    deadline = time.monotonic() + seconds
    while path not in [served for served, _status in server.served]:
        assert time.monotonic() < deadline, f"{path} was never requested: {server.served}"
        time.sleep(0.05)


def test_docs_and_admin_pages_load_with_no_failed_request(session, people):
    admin, _user, _auth = people
    session.goto("/api/docs")
    session.page.wait_for_selector(".swagger-ui .opblock")  # the spec was fetched and drawn
    _wait_until_served(session.server, "/favicon.ico")
    session.goto("/admin/login")
    session.login(admin["username"])
    for path in ("/admin/", "/admin/cache", "/admin/database", "/admin/users"):
        session.goto(path)
        session.page.wait_for_load_state("networkidle")
    failed = [(path, status) for path, status in session.server.served if status >= 400]
    assert failed == []
    assert ("/favicon.ico", 200) in session.server.served
    session.assert_only_own_host()
