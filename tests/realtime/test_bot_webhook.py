"""Bring-your-own bot: visitor messages in bot tickets reach the site's own bot as signed
webhooks, and it answers (or hands off) through the REST API with its secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from tests.live import Api, Client, Server, free_port


@pytest.fixture(scope="module")
def hook_server(pg_url: str) -> Iterator[Server]:
    # The receiving bot runs on loopback, which outgoing webhooks refuse unless allowed.
    server = Server({"DATABASE_URL": pg_url, "WEBHOOK_ALLOW_PRIVATE": "1"}).start()
    yield server
    server.stop()


class EchoBot:
    """A site's own bot: checks the signature, then echoes, or hands off on "human"."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.secret = ""
        self.site_id = ""
        self.deliveries: list[dict[str, Any]] = []
        self.bad_signatures = 0
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(bot.secret.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, self.headers.get("X-Parley-Signature", ""))
                self.send_response(200 if ok else 401)
                self.end_headers()
                if not ok:
                    bot.bad_signatures += 1
                    return
                delivery = json.loads(body)
                delivery["event_header"] = self.headers.get("X-Parley-Event")
                bot.deliveries.append(delivery)
                threading.Thread(target=bot.answer, args=(delivery,)).start()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = HTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}/bot"

    def answer(self, delivery: dict[str, Any]) -> None:
        message = delivery["data"]["message"]
        reply: dict[str, Any] = {"ticket_id": delivery["data"]["ticket_id"]}
        if "human" in message["body"]:
            reply["handoff"] = True
        else:
            reply.update(client_id=f"echo-{message['id']}", body=f"Echo: {message['body']}")
            reply["actions"] = ["handoff"]
        requests.post(
            f"{self.api_url}/sites/{self.site_id}/bot/replies",
            json=reply,
            headers={"Authorization": f"Bearer {self.secret}"},
            timeout=10,
        )

    def close(self) -> None:
        self.http.shutdown()


@pytest.fixture
def echo_bot(hook_server: Server) -> Iterator[EchoBot]:
    bot = EchoBot(hook_server.url + "/api/v1")
    yield bot
    bot.close()


def _site_with_own_bot(api: Api, bot: EchoBot) -> tuple[dict[str, Any], dict[str, Any]]:
    owner = api.signup()
    site = api.site(owner["token"], bot_enabled=True)
    hook = api.call(
        "PUT", f"/sites/{site['id']}/bot/webhook", owner["token"], json={"url": bot.url}
    )
    bot.secret, bot.site_id = hook["secret"], site["id"]
    return owner, site


def _guest(api: Api, hook_server: Server, site: dict[str, Any], transports: list[str]) -> Client:
    token = api.visitor(site)["visitor_token"]
    return Client(hook_server.url, {"visitor_token": token}, transports).connect()


def test_own_bot_gets_signed_messages_and_answers_through_the_api(
    hook_server: Server, echo_bot: EchoBot, transports: list[str]
) -> None:
    api = Api(hook_server.url)
    owner, site = _site_with_own_bot(api, echo_bot)
    guest = _guest(api, hook_server, site, transports)
    try:
        ack = guest.send("Where is my parcel?")
        ticket_id = ack["message"]["ticket_id"]
        got = guest.wait_for("message:new", lambda d: d["message"]["sender"]["type"] == "bot")
        assert got["message"]["body"] == "Echo: Where is my parcel?"
        assert got["message"]["meta"] == {"actions": ["handoff"]}
        delivery = echo_bot.deliveries[0]
        assert delivery["type"] == "bot.message" and delivery["event_header"] == "bot.message"
        assert delivery["data"]["ticket_id"] == ticket_id and echo_bot.bad_signatures == 0
        agent = Client(hook_server.url, {"token": owner["token"]}, transports).connect()
        try:
            guest.send("a human please", ticket_id)
            agent.wait_for(
                "ticket:updated",
                lambda d: d["ticket"]["id"] == ticket_id and d["ticket"]["status"] == "open",
            )
        finally:
            agent.disconnect()
        lines = api.call("GET", f"/tickets/{ticket_id}/messages", owner["token"])["messages"]
        assert "The site's bot handed the ticket to a person" in [m["body"] for m in lines]
        late = requests.post(
            f"{hook_server.url}/api/v1/sites/{site['id']}/bot/replies",
            json={"ticket_id": ticket_id, "client_id": "late", "body": "too late"},
            headers={"Authorization": f"Bearer {echo_bot.secret}"},
            timeout=10,
        )
        assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"
    finally:
        guest.disconnect()


def test_replies_need_the_sites_bot_secret(
    hook_server: Server, echo_bot: EchoBot, transports: list[str]
) -> None:
    api = Api(hook_server.url)
    _owner, site = _site_with_own_bot(api, echo_bot)
    for header in ({}, {"Authorization": "Bearer wrong"}):
        r = requests.post(
            f"{hook_server.url}/api/v1/sites/{site['id']}/bot/replies",
            json={"ticket_id": "x" * 26, "handoff": True},
            headers=header,
            timeout=10,
        )
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_an_unreachable_bot_hands_the_ticket_to_people(
    hook_server: Server, transports: list[str]
) -> None:
    api = Api(hook_server.url)
    owner = api.signup()
    site = api.site(owner["token"], bot_enabled=True)
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    api.call("PUT", f"/sites/{site['id']}/bot/webhook", owner["token"], json={"url": dead})
    guest = _guest(api, hook_server, site, transports)
    try:
        ack = guest.send("Hello?")
        got = guest.wait_for("message:new", lambda d: d["message"]["sender"]["type"] == "bot")
        assert "passing you to a person" in got["message"]["body"]
        ticket = api.call("GET", f"/tickets/{ack['message']['ticket_id']}", owner["token"])[
            "ticket"
        ]
        assert ticket["status"] == "open"
    finally:
        guest.disconnect()


def test_webhook_settings_are_for_owners_and_admins(api: Api) -> None:
    owner = api.signup()
    site = api.site(owner["token"], bot_enabled=True)
    agent = api.add_agent(owner["token"])
    r = requests.put(
        f"{api.url}/sites/{site['id']}/bot/webhook",
        json={"url": "https://bot.example/hook"},
        headers={"Authorization": f"Bearer {agent['token']}"},
        timeout=10,
    )
    assert r.status_code == 403
    bad = requests.put(
        f"{api.url}/sites/{site['id']}/bot/webhook",
        json={"url": "ftp://bot.example/hook"},
        headers={"Authorization": f"Bearer {owner['token']}"},
        timeout=10,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
