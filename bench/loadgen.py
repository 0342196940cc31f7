"""The load client: a worker process speaking Engine.IO 4 / Socket.IO 5 over WebSocket.

Run as ``python -m bench.loadgen``; the orchestrator (``bench.runner``) drives it with one
JSON command per line on stdin and reads one JSON reply per line on stdout:

- ``{"cmd": "setup", "url", "conns": [{"auth", "join": [ticket_id], "source"?}], "tickets": [{"id",
  "members": [conn], "senders": [conn]}], "receipts", "concurrency", "prefix"}``: open every
  connection (agents then send ``ticket:join``), reply with connect times and failures.
- ``{"cmd": "run", "rate", "duration", "grace", "start_at"}``: from ``start_at``
  (``time.monotonic``, the same clock in every process on Linux) send ``message:send`` at
  ``rate`` msgs/s spread over the tickets, each ticket alternating its senders; then wait
  up to ``grace`` seconds for every ack and delivery; reply with raw latencies and counts.
- ``{"cmd": "hold", "seconds"}``: keep the connections open (answering pings); reply with
  how many are still open.
- ``{"cmd": "close"}``: close everything and exit.

The client is deliberately lean: frames are built with f-strings, only ``message:new`` and
acks are JSON-decoded, other events are counted by name. The python-socketio client costs
about 20 ms of CPU per 40 delivered packets, which would make the client the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

BODY = "Hello from the bench, how are you today?"
OPEN_TIMEOUT_S = 20.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _log(text: str) -> None:
    print(f"[loadgen] {text}", file=sys.stderr, flush=True)


class Refused(Exception):
    """The server answered the Socket.IO CONNECT with an error packet (``44``)."""


class Sent:
    """One ``message:send``: when it left, who must receive it, what its ack said."""

    __slots__ = ("t", "ticket", "sender", "pending", "t_ack", "code")

    def __init__(self, t: float, ticket: str, sender: int, pending: set[int]) -> None:
        self.t = t
        self.ticket = ticket
        self.sender = sender
        self.pending = pending
        self.t_ack: float | None = None
        self.code: str | None = None  # the error code of an ok:false ack


class Conn:
    """One Socket.IO client connection (namespace ``/``) over a raw WebSocket."""

    def __init__(self, gen: LoadGen, idx: int, auth: dict[str, Any], join: list[str]) -> None:
        self.gen = gen
        self.idx = idx
        self.auth = auth
        self.join = join
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.open = False
        self.next_ack = 1
        self.acks: dict[int, Any] = {}
        self.seen: set[str] = set()
        self.reader: asyncio.Task[None] | None = None
        self.connected = asyncio.get_running_loop().create_future()

    async def start(self, session: aiohttp.ClientSession, ws_url: str) -> float:
        """Open the WebSocket, do the Engine.IO and Socket.IO handshakes; return seconds."""
        t0 = time.monotonic()
        self.ws = await session.ws_connect(
            ws_url,
            autoping=False,
            heartbeat=None,
            compress=0,
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
        )
        first = await asyncio.wait_for(self.ws.receive(), OPEN_TIMEOUT_S)
        if first.type is not aiohttp.WSMsgType.TEXT or not str(first.data).startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {first.type} {first.data!r}")
        self.reader = asyncio.get_running_loop().create_task(self._read())
        await self.ws.send_str("40" + json.dumps(self.auth, separators=(",", ":")))
        await asyncio.wait_for(self.connected, OPEN_TIMEOUT_S)
        self.open = True
        return time.monotonic() - t0

    async def call(self, event: str, data: dict[str, Any], timeout: float = 20.0) -> Any:
        """Emit with an ack and wait for it (setup only; the hot path never awaits acks)."""
        assert self.ws is not None
        ack_id = self.next_ack
        self.next_ack += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        payload = json.dumps([event, data], separators=(",", ":"))
        await self.ws.send_str(f"42{ack_id}{payload}")
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        self.open = False
        if self.ws is not None and not self.ws.closed:
            try:
                await asyncio.wait_for(self.ws.close(), 2.0)
            except (TimeoutError, OSError, aiohttp.ClientError):
                pass
        if self.reader is not None:
            self.reader.cancel()

    async def _read(self) -> None:
        assert self.ws is not None
        ws = self.ws
        frame = self.gen.on_frame
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    reply = frame(self, msg.data)
                    if reply is not None:
                        await ws.send_str(reply)
                elif msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.ERROR,
                ):
                    break
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            pass
        finally:
            if not self.connected.done():
                self.connected.set_exception(ConnectionError("closed during handshake"))
            if self.open:
                self.open = False
                self.gen.on_lost(self)


class LoadGen:
    """Every connection of this worker, the send schedule and what was measured."""

    def __init__(self) -> None:
        self.conns: list[Conn] = []
        self.tickets: list[dict[str, Any]] = []
        self.receipts = "none"
        self.prefix = "b"
        self.run_no = 0
        self._reset()

    def _reset(self) -> None:
        self.records: dict[str, Sent] = {}
        self.latencies: list[float] = []
        self.ack_latencies: list[float] = []
        self.refused_latencies: list[float] = []
        self.refused: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.duplicates = 0
        self.foreign = 0
        self.disconnects = 0
        self.receipts_sent = 0
        self.receipt_acks_ok = 0
        self.receipt_acks_failed = 0
        self.receipt_latencies: list[float] = []
        self.out_acks = 0
        self.out_deliveries = 0
        self.last_delivery = 0.0

    # -- frames --------------------------------------------------------------------------

    def on_frame(self, conn: Conn, data: str) -> str | None:
        """Handle one Engine.IO packet; return a packet to send back, if any."""
        kind = data[0]
        if kind == "4":
            sub = data[1:2]
            if sub == "2":
                return self._on_event(conn, data)
            if sub == "3":
                self._on_ack(conn, data)
                return None
            if sub == "0":
                if not conn.connected.done():
                    conn.connected.set_result(True)
            elif sub == "4":
                if not conn.connected.done():
                    conn.connected.set_exception(Refused(data[2:200]))
            elif sub == "1":
                self.events["disconnect-packet"] += 1
            return None
        if kind == "2":
            return "3"
        if kind == "1":
            self.events["engineio-close"] += 1
        return None

    def _on_event(self, conn: Conn, data: str) -> str | None:
        if not data.startswith('42["message:new"'):
            end = data.find('"', 4)
            self.events[data[4:end] if end > 4 else "?"] += 1
            return None
        now = time.monotonic()
        message = json.loads(data[2:])[1]["message"]
        mid = message["id"]
        if mid in conn.seen:
            self.duplicates += 1
            return None
        conn.seen.add(mid)
        rec = self.records.get(message.get("client_id") or "")
        if rec is None:
            self.foreign += 1
            return None
        if conn.idx not in rec.pending:
            return None  # the sender's own echo, or a refused message delivered anyway
        rec.pending.discard(conn.idx)
        self.out_deliveries -= 1
        self.latencies.append(now - rec.t)
        self.last_delivery = now
        if self.receipts == "none":
            return None
        ack_id = conn.next_ack
        conn.next_ack += 1
        seq = int(message["seq"])
        self.receipts_sent += 1
        if self.receipts == "read":
            conn.acks[ack_id] = now
            return f'42{ack_id}["read",{{"ticket_id":"{rec.ticket}","seq":{seq}}}]'
        return f'42["delivered",{{"ticket_id":"{rec.ticket}","seq":{seq}}}]'

    def _on_ack(self, conn: Conn, data: str) -> None:
        now = time.monotonic()
        bracket = data.find("[", 2)
        try:
            ack_id = int(data[2:bracket])
        except ValueError:
            return
        waiter = conn.acks.pop(ack_id, None)
        if waiter is None:
            return
        args = json.loads(data[bracket:])
        reply = args[0] if args else None
        ok = isinstance(reply, dict) and reply.get("ok") is True
        if isinstance(waiter, Sent):
            self._on_send_ack(waiter, reply, ok, now)
        elif isinstance(waiter, float):
            if ok:
                self.receipt_acks_ok += 1
                self.receipt_latencies.append(now - waiter)
            else:
                self.receipt_acks_failed += 1
        elif isinstance(waiter, asyncio.Future) and not waiter.done():
            waiter.set_result(reply)

    def _on_send_ack(self, rec: Sent, reply: Any, ok: bool, now: float) -> None:
        if rec.t_ack is not None:
            return
        rec.t_ack = now
        self.out_acks -= 1
        if ok:
            self.ack_latencies.append(now - rec.t)
            return
        error = reply.get("error") if isinstance(reply, dict) else None
        rec.code = str(error.get("code")) if isinstance(error, dict) else "malformed"
        self.refused[rec.code] += 1
        self.refused_latencies.append(now - rec.t)
        self.out_deliveries -= len(rec.pending)
        rec.pending.clear()

    def on_lost(self, conn: Conn) -> None:
        self.disconnects += 1

    # -- commands ------------------------------------------------------------------------

    async def setup(self, cmd: dict[str, Any]) -> dict[str, Any]:
        url = str(cmd["url"]).replace("http://", "ws://", 1)
        ws_url = f"{url}/socket.io/?EIO=4&transport=websocket"
        self.receipts = str(cmd.get("receipts", "none"))
        self.prefix = str(cmd.get("prefix", "b"))
        self.tickets = list(cmd.get("tickets", []))
        for ticket in self.tickets:
            ticket["turn"] = 0
        self.conns = [
            Conn(self, i, c["auth"], c.get("join", [])) for i, c in enumerate(cmd["conns"])
        ]
        # A client session per source address (``source`` of a connection: 127.0.0.x, so
        # that nginx's ``hash $remote_addr`` can spread clients over processes).
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        for source in {str(c.get("source") or "") for c in cmd["conns"]} | {""}:
            local = (source, 0) if source else None
            connector = aiohttp.TCPConnector(limit=0, force_close=False, local_addr=local)
            self.sessions[source] = aiohttp.ClientSession(connector=connector)
        sources = [str(c.get("source") or "") for c in cmd["conns"]]
        semaphore = asyncio.Semaphore(int(cmd.get("concurrency", 50)))
        times: list[float] = []
        errors: Counter[str] = Counter()
        join_failed = 0
        cpu0, t0 = _cpu_s(), time.monotonic()

        async def one(conn: Conn) -> None:
            nonlocal join_failed
            async with semaphore:
                try:
                    session = self.sessions[sources[conn.idx]]
                    times.append(await conn.start(session, ws_url))
                except Refused as exc:
                    errors[f"refused {exc}"] += 1
                    await conn.close()
                    return
                except (TimeoutError, OSError, ConnectionError, aiohttp.ClientError) as exc:
                    errors[type(exc).__name__ + (f": {exc}"[:120])] += 1
                    await conn.close()
                    return
                for ticket_id in conn.join:
                    try:
                        reply = await conn.call("ticket:join", {"ticket_id": ticket_id})
                    except (TimeoutError, ConnectionError, OSError):
                        reply = None
                    if not (isinstance(reply, dict) and reply.get("ok")):
                        join_failed += 1
                        errors[f"ticket:join failed: {str(reply)[:120]}"] += 1

        await asyncio.gather(*(one(c) for c in self.conns))
        return {
            "connected": sum(1 for c in self.conns if c.open),
            "failed": len(self.conns) - sum(1 for c in self.conns if c.open),
            "join_failed": join_failed,
            "connect_ms": [round(t * 1000, 3) for t in times],
            "errors": dict(errors.most_common(10)),
            "elapsed_s": time.monotonic() - t0,
            "cpu_s": _cpu_s() - cpu0,
        }

    async def run(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Open-loop sends at a fixed rate, then wait for acks and deliveries."""
        self._reset()
        self.run_no += 1
        rate = float(cmd["rate"])
        duration = float(cmd["duration"])
        grace = float(cmd.get("grace", 5.0))
        start = float(cmd.get("start_at", time.monotonic()))
        total = int(round(rate * duration)) if rate > 0 else 0
        senders = [t for t in self.tickets if t.get("senders")]
        delay = start - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        cpu0 = _cpu_s()
        hard_end = start + duration + 2.0  # a lagging client stops anyway (bounded)
        sent = skipped = 0
        lag_max = 0.0
        first_send = last_send = 0.0
        k = 0
        while k < total and senders:
            now = time.monotonic()
            if now > hard_end:
                break
            due = min(total, int((now - start) * rate) + 1)
            while k < due:
                lag_max = max(lag_max, now - (start + k / rate))
                ticket = senders[k % len(senders)]
                k += 1
                if await self._send(ticket, k):
                    sent += 1
                    last_send = time.monotonic()
                    if sent == 1:
                        first_send = last_send
                else:
                    skipped += 1
            pause = start + k / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
        end_send = time.monotonic()
        deadline = end_send + grace
        while (self.out_acks > 0 or self.out_deliveries > 0) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        end = time.monotonic()
        cpu = _cpu_s() - cpu0
        return self._result(
            sent=sent,
            skipped=skipped,
            unscheduled=total - k,
            lag_max=lag_max,
            first_send=first_send,
            last_send=last_send,
            end_send=end_send,
            end=end,
            cpu=cpu,
        )

    async def _send(self, ticket: dict[str, Any], k: int) -> bool:
        senders = ticket["senders"]
        conn = self.conns[senders[ticket["turn"] % len(senders)]]
        ticket["turn"] += 1
        if not conn.open or conn.ws is None:
            return False
        client_id = f"{self.prefix}{self.run_no}-{k}"
        ack_id = conn.next_ack
        conn.next_ack += 1
        pending = {m for m in ticket["members"] if m != conn.idx}
        tid = ticket["id"]
        frame = (
            f'42{ack_id}["message:send",{{"ticket_id":"{tid}",'
            f'"client_id":"{client_id}","body":"{BODY} #{k}"}}]'
        )
        rec = Sent(time.monotonic(), tid, conn.idx, pending)
        conn.acks[ack_id] = rec
        self.records[client_id] = rec
        self.out_acks += 1
        self.out_deliveries += len(pending)
        try:
            await conn.ws.send_str(frame)
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            return True  # counted as sent: it will show as a missing ack and lost
        return True

    def _result(self, **m: Any) -> dict[str, Any]:
        ack_missing = sum(1 for r in self.records.values() if r.t_ack is None)
        lost_messages = sum(1 for r in self.records.values() if r.pending)
        lost_after_ok = sum(
            1 for r in self.records.values() if r.pending and r.t_ack is not None and not r.code
        )
        return {
            "sent": m["sent"],
            "skipped": m["skipped"],
            "unscheduled": m["unscheduled"],
            "expected": len(self.latencies) + sum(len(r.pending) for r in self.records.values()),
            "delivered": len(self.latencies),
            "lost": sum(len(r.pending) for r in self.records.values()),
            "lost_messages": lost_messages,
            "lost_after_ok": lost_after_ok,
            "duplicates": self.duplicates,
            "ack_ok": len(self.ack_latencies),
            "ack_missing": ack_missing,
            "refused": dict(self.refused),
            "latency_ms": [round(x * 1000, 3) for x in self.latencies],
            "ack_ms": [round(x * 1000, 3) for x in self.ack_latencies],
            "refused_ms": [round(x * 1000, 3) for x in self.refused_latencies],
            "receipt_ms": [round(x * 1000, 3) for x in self.receipt_latencies],
            "receipts_sent": self.receipts_sent,
            "receipt_acks_ok": self.receipt_acks_ok,
            "receipt_acks_failed": self.receipt_acks_failed,
            "events": dict(self.events),
            "foreign": self.foreign,
            "disconnects": self.disconnects,
            "open": sum(1 for c in self.conns if c.open),
            "lag_max_ms": round(m["lag_max"] * 1000, 3),
            "first_send": m["first_send"],
            "last_send": m["last_send"],
            "end_send": m["end_send"],
            "last_delivery": self.last_delivery,
            "end": m["end"],
            "cpu_s": m["cpu"],
        }

    async def hold(self, cmd: dict[str, Any]) -> dict[str, Any]:
        cpu0 = _cpu_s()
        self.disconnects = 0
        await asyncio.sleep(float(cmd.get("seconds", 1.0)))
        return {
            "open": sum(1 for c in self.conns if c.open),
            "disconnects": self.disconnects,
            "cpu_s": _cpu_s() - cpu0,
        }

    async def close(self) -> dict[str, Any]:
        """Close politely for up to 5 s, then drop whatever is left with the session."""
        semaphore = asyncio.Semaphore(200)

        async def one(conn: Conn) -> None:
            async with semaphore:
                await conn.close()

        try:
            await asyncio.wait_for(asyncio.gather(*(one(c) for c in self.conns)), 5.0)
        except TimeoutError:
            pass
        for conn in self.conns:
            conn.open = False
            if conn.reader is not None:
                conn.reader.cancel()
        for session in getattr(self, "sessions", {}).values():
            await session.close()
        return {"closed": len(self.conns)}


async def serve() -> None:
    """Read commands from stdin, answer on stdout, until ``close`` or end of input."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    gen = LoadGen()
    while True:
        line = await reader.readline()
        if not line:
            await gen.close()
            return
        cmd = json.loads(line)
        name = cmd.get("cmd")
        try:
            if name == "setup":
                reply = await gen.setup(cmd)
            elif name == "run":
                reply = await gen.run(cmd)
            elif name == "hold":
                reply = await gen.hold(cmd)
            elif name == "close":
                reply = await gen.close()
            else:
                reply = {"error": f"unknown command {name!r}"}
        except Exception as exc:  # reported to the orchestrator, which fails the run
            _log(f"{name} failed: {exc!r}")
            reply = {"error": repr(exc)}
        sys.stdout.write(json.dumps(reply, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        if name == "close":
            return


def main() -> None:
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    asyncio.run(serve())


if __name__ == "__main__":
    main()
