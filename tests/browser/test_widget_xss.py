"""The XSS corpus (issue 5, item 7): every user-supplied string shows as text and runs nothing.

Forty classic payloads go in as the site's title and greeting, as agents' messages, and as the
visitor's name (through ``identify()`` and through the pre-chat form). Each one, if it ran,
would set ``window.xss``, open a dialog or log ``XSS-RAN``; none may, and each must read back
exactly as typed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    FRAME,
    LAUNCHER,
    STUB,
    TIMEOUT_MS,
    HostSite,
    join_first_ticket,
    make_site,
    widget_frame,
)
from tests.live import Api, Client, Server
from tests.xss_corpus import TITLES, XSS, PayloadWatch

expect.set_options(timeout=TIMEOUT_MS)


#: Elements none of the payloads may bring into the widget's DOM.
FORBIDDEN = (
    "script, style, img, iframe, object, embed, video, audio, source, svg:not(.snd svg), "
    "meta, base, details, marquee, math, noscript, .bd form, input[autofocus], "
    "a[href^='javascript' i], a[href^='data' i], [onerror], [onload], [onfocus], [ontoggle]"
)


def test_the_corpus_is_large_and_varied() -> None:
    assert len(XSS) >= 30
    assert len(set(XSS)) == len(XSS)
    assert len(TITLES) >= 30


Watch = PayloadWatch  # the widget needs no more than the shared watch


@pytest.fixture
def watch(page: Page) -> Iterator[Watch]:
    yield Watch(page)


def _texts(frame: Any, selector: str) -> list[str]:
    return frame.evaluate(  # type: ignore[no-any-return]
        f"[...document.querySelectorAll({json.dumps(selector)})].map(e => e.textContent)"
    )


def _forbidden_in_widget(frame: Any) -> int:
    return frame.evaluate(  # type: ignore[no-any-return]
        f"document.getElementById('parley').querySelectorAll({json.dumps(FORBIDDEN)}).length"
    )


def test_site_title_and_greeting_show_as_text(
    api: Api, app_server: Server, workspace: dict[str, Any], page: Page, watch: Watch
) -> None:
    """The frame page on its own (no host page needed to render the site's texts)."""
    site = make_site(api, workspace["token"], [])
    for index, payload in enumerate(XSS):
        title = TITLES[index % len(TITLES)]
        api.call(
            "PATCH",
            f"/sites/{site['id']}",
            workspace["token"],
            json={"settings": {"title": title, "greeting": payload}},
        )
        page.goto(f"{app_server.url}/widget/frame?site_key={site['site_key']}")
        page.wait_for_function("t => document.querySelector('.t')?.textContent === t", arg=title)
        assert _texts(page, ".t") == [title]
        assert _texts(page, ".greet .bd") == [payload]
        assert page.title() == title  # the server escaped it into <title>
        assert _forbidden_in_widget(page) == 0
        assert page.evaluate("document.querySelectorAll('.t *, .greet .bd *').length") == 0
        assert page.evaluate("typeof window.xss") == "undefined", payload
    assert watch.dialogs == [] and watch.console == []


def test_agent_messages_show_as_text(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    page: Page,
    watch: Watch,
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("<b>Hi</b> {{7*7}}")
    chat.locator("textarea").press("Enter")
    ticket_id, history = join_first_ticket(agent)
    assert history[0]["body"] == "<b>Hi</b> {{7*7}}"
    for payload in XSS:
        assert agent.send(payload, ticket_id)["ok"]
    expect(chat.locator(".m.them:not(.greet) .bd")).to_have_count(len(XSS))
    frame = widget_frame(page)
    assert _texts(frame, ".m.them:not(.greet) .bd") == XSS
    assert _texts(frame, ".m.me .bd") == ["<b>Hi</b> {{7*7}}"]
    assert _forbidden_in_widget(frame) == 0
    assert frame.evaluate("document.querySelectorAll('.bd *').length") == 0  # not even a link
    assert page.evaluate("typeof window.xss") == "undefined"
    assert frame.evaluate("typeof window.xss") == "undefined"
    assert watch.dialogs == [] and watch.console == []


def test_visitor_names_show_as_text(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    page: Page,
    watch: Watch,
) -> None:
    """Names come from identify() (pre-filled in the pre-chat form) and from the form."""
    fields = [
        {"name": "name", "label": "Name", "type": "text", "required": True},
        {"name": "email", "label": "E-mail", "type": "email", "required": True},
    ]
    site = make_site(api, workspace["token"], [host_site.origin], prechat_fields=fields)
    page.add_init_script(STUB + "Parley.open();")
    page.goto(host_site.page_url(site["site_key"]))
    chat = page.frame_locator(FRAME)
    name_box = chat.locator("#pc-name")
    expect(name_box).to_have_value("")
    for index, payload in enumerate(XSS):
        external_id = f"xss-{index}"
        digest = hmac.new(site["site_secret"].encode(), external_id.encode(), hashlib.sha256)
        identity = {"external_id": external_id, "user_hash": digest.hexdigest(), "name": payload}
        page.evaluate("identity => Parley.identify(identity)", identity)
        expect(name_box).to_have_value(payload)
    frame = widget_frame(page)
    assert _forbidden_in_widget(frame) == 0

    # Typed into the form: stored as typed, and the agent gets exactly that.
    typed = XSS[0] + " " + XSS[1]
    name_box.fill(typed)
    chat.locator("#pc-email").fill("xss@example.com")
    chat.get_by_role("button", name="Start chat").click()
    chat.locator("form.cp textarea").fill("Hello")
    chat.locator("form.cp textarea").press("Enter")
    created = agent.wait_for(
        "ticket:created", lambda d: d["ticket"]["visitor"]["name"] == typed, TIMEOUT_MS / 1000
    )
    assert created["ticket"]["visitor"]["email"] == "xss@example.com"
    assert _forbidden_in_widget(frame) == 0
    assert page.evaluate("typeof window.xss") == "undefined"
    assert frame.evaluate("typeof window.xss") == "undefined"
    assert watch.dialogs == [] and watch.console == []
