"""The XSS corpus in the agent console (issue 9 item 4): every string a visitor, an agent or an
admin can store shows as text and runs nothing.

One world per module: each payload is a visitor's name, e-mail, current page and first message,
a site's name, an agent's name and e-mail, a canned response's title and body, a private note
and a FAQ answer the bot gives in a live chat. The console then shows them in the inbox, each
conversation with its visitor panel, the "/" picker (inserting into the composer) and the
settings pages. Chromium runs with the page's CSP bypassed, so the test checks the console's
own escaping (the CSP would otherwise stop inline handlers and hide a bug): no dialog, no
``window.xss``, no ``XSS-RAN`` log line, and a MutationObserver sees no script, image, frame,
handler attribute or ``javascript:``/``data:`` link enter the DOM.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.console_support import console_built, sign_in
from tests.live import PASSWORD, Api, Server
from tests.xss_corpus import URL_XSS, PayloadWatch, email_of
from tests.xss_corpus import XSS as CORPUS

__all__ = ["console_built"]
#: Every payload goes into every field.
XSS = CORPUS + URL_XSS
expect.set_options(timeout=TIMEOUT_MS)

#: One distinct word per payload: the bot's FAQ question that answers with that payload.
WORDS = (
    "apple banana cherry dolphin eagle falcon giraffe harbor igloo jaguar kettle lemon mango "
    "nectar otter parrot quartz raven salmon tiger umbrella violin walrus xylophone yacht zebra "
    "anchor blanket candle desert engine forest garden hammer island jacket kitten ladder "
    "magnet needle orchard pepper quilt"
).split()

#: What must never enter the console's DOM (the bundle's own script tag aside).
FORBIDDEN = (
    "script:not([src^='/console/assets/']), style, img, video, audio, source, object, embed, "
    "iframe:not([src^='/widget/frame']), body meta, base, details, marquee, math, noscript, "
    "form[action], input[autofocus], animate, set, svg script, "
    "a[href^='javascript' i], a[href^='data' i]"
)

#: Installed before the console's own script: records every forbidden element or ``on*``
#: attribute that enters the document, even one a later render removes again.
WATCH_DOM = """
window.__injected = [];
new MutationObserver((records) => {
  const bad = (el) => el.nodeType === 1 && (el.matches(FORBIDDEN_SELECTOR) ||
    [...el.attributes].some((a) => a.name.toLowerCase().startsWith("on")));
  for (const r of records) {
    if (r.type === "attributes" && r.attributeName.toLowerCase().startsWith("on"))
      window.__injected.push(r.target.outerHTML.slice(0, 200));
    for (const node of r.addedNodes) {
      if (node.nodeType !== 1) continue;
      for (const el of [node, ...node.querySelectorAll("*")])
        if (bad(el)) window.__injected.push(el.outerHTML.slice(0, 200));
    }
  }
}).observe(document, {childList: true, subtree: true, attributes: true});
""".replace("FORBIDDEN_SELECTOR", json.dumps(FORBIDDEN))


@dataclass
class World:
    owner: dict[str, Any]
    bot_site: dict[str, Any]
    sites: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    tickets: list[str]
    emails: list[str | None]
    bot_ticket: str


def _call(api: Api, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    """``Api.call`` with a generous timeout (a loaded CI machine hashes 40 passwords here),
    sending again after a 503 as the contract asks (writes carry their ``client_id``)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for attempt in range(10):
        r = requests.request(method, api.url + path, headers=headers, timeout=60, **kw)
        if r.status_code != 503:
            break
        time.sleep(0.2 * (attempt + 1))
    assert r.status_code < 300, (r.status_code, r.text)
    return r.json() if r.content else None


def _visitor_ticket(api: Api, site: dict[str, Any], payload: str, email: str | None) -> str:
    """A visitor on ``site`` whose name, e-mail, page and first message are the payload."""
    token = _call(api, "POST", "/widget/session", json={"site_key": site["site_key"]})[
        "visitor_token"
    ]
    about: dict[str, Any] = {"name": payload, "page": {"url": payload, "title": "Shop"}}
    if email:
        about["email"] = email
    _call(api, "PATCH", "/widget/visitor", token, json=about)
    body = {"client_id": uuid.uuid4().hex, "body": payload}
    return str(_call(api, "POST", "/tickets", token, json=body)["ticket"]["id"])


def _bot_chat(api: Api, site: dict[str, Any]) -> str:
    """A visitor asks every FAQ question in one chat; the bot answers each with its payload."""
    token = _call(api, "POST", "/widget/session", json={"site_key": site["site_key"]})[
        "visitor_token"
    ]
    first = {"client_id": uuid.uuid4().hex, "body": f"{WORDS[0]} {WORDS[0]}s"}
    ticket_id = str(_call(api, "POST", "/tickets", token, json=first)["ticket"]["id"])
    for word in WORDS[1 : len(XSS)]:
        body = {"client_id": uuid.uuid4().hex, "body": f"{word} {word}s"}
        _call(api, "POST", f"/tickets/{ticket_id}/messages", token, json=body)
    deadline = time.monotonic() + 60
    while True:
        history = _call(api, "GET", f"/tickets/{ticket_id}/messages?limit=200", token)
        answers = [m["body"] for m in history["messages"] if m["sender"]["type"] == "bot"]
        if all(any(p in a for a in answers) for p in XSS) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    missing = [p for p in XSS if not any(p in a for a in answers)]
    assert not missing, ("the bot did not answer with", missing[:3], answers[:3])
    return ticket_id


def _one_payload(api: Api, token: str, index: int, payload: str) -> tuple[Any, ...]:
    """Everything one payload goes into: a site, its visitor's ticket, an agent, a canned
    response."""
    site = _call(api, "POST", "/sites", token, json={"name": payload, "allowed_origins": []})
    email = email_of(payload)
    agent = {
        "name": payload,
        "email": email or f"agent-{index}-{uuid.uuid4().hex[:6]}@xss.example",
        "password": PASSWORD,
        "role": "agent",
    }
    agent = _call(api, "POST", "/agents", token, json=agent)["agent"]
    canned = {"shortcut": f"x{index:02d}", "title": payload, "body": payload}
    _call(api, "POST", "/canned-responses", token, json=canned)
    return site["site"], agent, email, _visitor_ticket(api, site["site"], payload, email)


@pytest.fixture(scope="module")
def world(app_server: Server, console_built: None) -> World:
    """Built through the REST API, several payloads at a time (the server takes them in
    parallel like it takes many users)."""
    api = Api(app_server.url)
    assert len(WORDS) >= len(XSS) and sum(email_of(p) is not None for p in XSS) >= 30
    owner = api.signup("XSS Outfitters")
    token = owner["token"]
    _call(api, "PATCH", "/workspace", token, json={"routing": {"mode": "manual"}})
    bot_site = _call(
        api,
        "POST",
        "/sites",
        token,
        json={"name": "Help centre", "allowed_origins": [], "settings": {"bot_enabled": True}},
    )["site"]
    faq = [{"question": f"{w} {w}s", "answer": p} for w, p in zip(WORDS, XSS, strict=False)]
    _call(api, "POST", f"/sites/{bot_site['id']}/faq/import", token, json=faq)
    with ThreadPoolExecutor(max_workers=4) as pool:
        bot = pool.submit(_bot_chat, api, bot_site)
        made = list(pool.map(lambda a: _one_payload(api, token, *a), enumerate(XSS)))
        tickets = [m[3] for m in made]
        notes = [  # private notes, all in the first conversation
            {"client_id": uuid.uuid4().hex, "body": payload, "kind": "note"} for payload in XSS
        ]
        list(
            pool.map(
                lambda n: _call(api, "POST", f"/tickets/{tickets[0]}/messages", token, json=n),
                notes,
            )
        )
        bot_ticket = bot.result()
    return World(
        owner,
        bot_site,
        [m[0] for m in made],
        [m[1] for m in made],
        tickets,
        [m[2] for m in made],
        bot_ticket,
    )


class Watch(PayloadWatch):
    """What would mean a payload ran: dialogs, ``XSS`` console lines, injected elements."""

    def assert_nothing_ran(self) -> None:
        assert self.page.evaluate("typeof window.xss") == "undefined"
        assert self.page.evaluate("window.__injected") == []
        assert self.page.evaluate("document.scripts.length") == 1  # the console's bundle
        assert self.dialogs == [] and self.console == []


@pytest.fixture
def console(browser: Any, app_server: Server, world: World) -> Iterator[tuple[Page, Watch]]:
    """The owner signed in to the console, in a context that ignores the page's CSP."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.add_init_script(WATCH_DOM)
    watch = Watch(page)
    sign_in(page, app_server.url, world.owner["agent"]["email"])
    yield page, watch
    ctx.close()


def _texts(page: Page, selector: str) -> list[str]:
    return page.evaluate(  # type: ignore[no-any-return]
        "s => [...document.querySelectorAll(s)].map(e => e.textContent)", selector
    )


def _load_whole_list(page: Page, count: int) -> None:
    """Scroll the ticket list until ``count`` rows are there (it pages 25 at a time)."""
    rows = page.locator(".tickets .ticket")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while rows.count() < count and time.monotonic() < deadline:
        page.locator(".list-scroll").evaluate("e => { e.scrollTop = e.scrollHeight; }")
        page.wait_for_timeout(100)
    expect(rows).to_have_count(count)


def _load_whole_conversation(page: Page) -> None:
    """Scroll the open conversation up until its start (it loads 50 messages at a time)."""
    start = page.locator(".messages .older.start")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while start.count() == 0 and time.monotonic() < deadline:
        page.locator(".messages").evaluate("e => { e.scrollTop = 0; }")
        page.wait_for_timeout(100)
    expect(start).to_have_count(1)


def test_the_inbox_conversations_and_visitor_panel_show_every_payload_as_text(
    console: tuple[Page, Watch], world: World
) -> None:
    page, watch = console
    _load_whole_list(page, len(XSS))
    assert sorted(_texts(page, ".ticket .name")) == sorted(XSS)
    assert sorted(_texts(page, ".ticket .site")) == sorted(XSS)
    previews = _texts(page, ".ticket .preview")
    # The first conversation's preview is its last note (they were posted concurrently).
    assert set(XSS[1:]) <= set(previews)
    assert [p for p in previews if p.startswith("Note: ") and p[len("Note: ") :] in XSS]
    assert set(XSS) <= set(_texts(page, ".site-filter option"))
    watch.assert_nothing_ran()

    ready = """([name, email, url, body]) => {
      const head = document.querySelector(".conv-head h2");
      const pane = document.querySelector(".visitor-pane");
      if (!head || head.textContent !== name || !pane || !pane.querySelector(".earlier"))
        return false;
      const fields = [...pane.querySelectorAll("dd")].map((d) => d.textContent);
      const bodies = [...document.querySelectorAll(".msg.visitor .body")].map((b) => b.textContent);
      return (email === null || fields.includes(email)) && fields.includes(url)
        && fields.includes(name) && bodies.includes(body)
        && pane.querySelector(".visitor-card h3").textContent === name;
    }"""
    for index, payload in enumerate(XSS):
        page.evaluate("id => { location.hash = '#/inbox/' + id; }", world.tickets[index])
        # name; e-mail; current page (site name as its "Site" row); first message
        page.wait_for_function(ready, arg=[payload, world.emails[index], payload, payload])
        assert set(XSS) <= set(_texts(page, ".conv-head select.assign option"))
        if payload.lower().startswith("https://"):  # the page URL becomes an inert link
            link = page.locator(".visitor-pane a[target=_blank]")
            assert link.get_attribute("href") == payload
            assert link.get_attribute("rel") == "noopener noreferrer"
    watch.assert_nothing_ran()

    # The first conversation holds every payload again as a private note.
    page.evaluate("id => { location.hash = '#/inbox/' + id; }", world.tickets[0])
    expect(page.locator(".msg.note .body")).to_have_count(len(XSS))
    assert sorted(_texts(page, ".msg.note .body")) == sorted(XSS)
    # The bot's answers in a live chat (a ticket still in the bot's hands).
    page.evaluate("id => { location.hash = '#/inbox/' + id; }", world.bot_ticket)
    _load_whole_conversation(page)
    answers = _texts(page, ".msg.bot .body")
    assert all(any(p in a for a in answers) for p in XSS)
    watch.assert_nothing_ran()


def test_the_canned_picker_shows_titles_as_text_and_inserts_bodies_as_plain_text(
    console: tuple[Page, Watch], world: World
) -> None:
    page, watch = console
    page.evaluate("id => { location.hash = '#/inbox/' + id; }", world.tickets[1])
    composer = page.locator("textarea").first
    expect(composer).to_be_visible()
    picker = page.locator(".canned-picker")
    for index, payload in enumerate(XSS):
        composer.fill(f"/x{index:02d}")
        option = picker.locator(f'li[data-shortcut="x{index:02d}"]')
        expect(option.locator("span")).to_have_text(payload, use_inner_text=False)
        assert picker.locator("li *:not(strong):not(span)").count() == 0
        option.click()
        assert composer.input_value() == payload
    composer.fill("")
    watch.assert_nothing_ran()


def test_the_settings_pages_show_every_payload_as_text(
    console: tuple[Page, Watch], world: World
) -> None:
    page, watch = console
    page.evaluate("() => { location.hash = '#/settings/sites'; }")
    expect(page.locator(".settings table.grid tbody tr")).to_have_count(len(XSS) + 1)
    assert set(XSS) <= set(_texts(page, ".settings table.grid tbody td a"))

    page.evaluate("() => { location.hash = '#/settings/bot'; }")
    page.locator("#site-pick").select_option(world.bot_site["id"])
    expect(page.locator("table.faq tbody tr")).to_have_count(len(XSS))
    answers = _texts(page, "table.faq tbody td:nth-child(2)")
    assert sorted(answers) == sorted(XSS)
    # The editor puts an answer back into its textarea as plain text.
    page.locator("table.faq tbody tr").nth(1).get_by_role("button", name="Edit").click()
    expect(page.get_by_role("textbox", name="Answer", exact=True)).to_have_value(answers[1])

    page.evaluate("() => { location.hash = '#/settings/agents'; }")
    expect(page.locator("table.agents tbody tr")).to_have_count(len(XSS) + 1)
    names = [n.removesuffix(" (you)") for n in _texts(page, "table.agents tbody td:first-child")]
    assert set(XSS) <= set(names)
    emails = set(_texts(page, "table.agents tbody td:nth-child(2)"))
    assert {a["email"] for a in world.agents} <= emails  # as stored (lower case)

    page.evaluate("() => { location.hash = '#/settings/canned'; }")
    expect(page.locator("table.canned tbody tr")).to_have_count(len(XSS))
    assert sorted(_texts(page, "table.canned tbody td:nth-child(2)")) == sorted(XSS)
    assert sorted(_texts(page, "table.canned tbody td:nth-child(3)")) == sorted(XSS)
    watch.assert_nothing_ran()

    # The control: markup that did reach the DOM would run here and would be caught.
    page.evaluate("h => document.querySelector('#app').insertAdjacentHTML('beforeend', h)", XSS[1])
    page.wait_for_function("window.xss === 1")
    assert page.evaluate("window.__injected.length") == 1
