"""A visitor's side of a Parley chat with python-socketio (docs/PROTOCOL.md).

Usage: python python_client.py BASE_URL SITE_KEY [polling]
"""

from __future__ import annotations

import sys
import uuid

import requests
import socketio


def main(base: str, site_key: str, polling: bool = False) -> None:
    # 1. A widget session gives the visitor its token.
    session = requests.post(
        f"{base}/api/v1/widget/session", json={"site_key": site_key}, timeout=10
    ).json()
    # 2. Connect with the token.
    sio = socketio.Client()
    sio.on(
        "message:new", lambda data: print("new", data["message"]["seq"], data["message"]["body"])
    )
    sio.connect(
        base,
        auth={"visitor_token": session["visitor_token"]},
        transports=["polling"] if polling else ["polling", "websocket"],
    )
    # 3. Send with a client_id; resending the same id after a lost ack never duplicates.
    client_id = uuid.uuid4().hex
    ack = sio.call(
        "message:send", {"client_id": client_id, "body": "Hello from Python"}, timeout=10
    )
    print("ack", ack["ok"], "seq", ack["message"]["seq"], "ticket", ack["message"]["ticket_id"])
    again = sio.call(
        "message:send", {"client_id": client_id, "body": "Hello from Python"}, timeout=10
    )
    print("resend duplicate", again["duplicate"], "seq", again["message"]["seq"])
    # 4. Catch up from the highest seq held (here: everything).
    synced = sio.call("sync", {"tickets": {ack["message"]["ticket_id"]: 0}}, timeout=10)
    print("sync", ",".join(str(m["seq"]) for m in synced["messages"]))
    sio.disconnect()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], polling=len(sys.argv) > 3 and sys.argv[3] == "polling")
