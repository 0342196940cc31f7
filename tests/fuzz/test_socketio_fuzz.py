"""Hypothesis-generated payloads for every client -> server Socket.IO event, as a visitor and
as an agent, against one real server: every ack is ok or a contract error, never a crash; the
process stays up, chat still works and the log shows no exception."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.events import names
from tests.fuzz.conftest import CONTRACT_CODES, LogWatch, World, assert_chat_works, client
from tests.live import Client

#: Payloads per role; both roles together send at least 10,000.
PER_ROLE = 5_000
#: Payloads in flight at once: every event twice (kept below the server's database pool).
BATCH = 2 * len(names.CLIENT_EVENTS)
ACK_TIMEOUT_S = 20

#: 10**99: the most digits Engine.IO parses.
_BIG_INTS = [2**31 - 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**99, -1]
_NASTY_TEXT = ["", " ", "\x00", "\ud800", "\udfff", "a\x00b", "\u202e", "💬" * 300, "x" * 10_000]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(_BIG_INTS),
    st.floats(),  # NaN and infinities too: Python's JSON writes them and the server reads them
    st.text(max_size=40),
    st.sampled_from(_NASTY_TEXT),
)
junk = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _ids(world: World) -> st.SearchStrategy[Any]:
    """Ids that exist and are ours, exist and are not, are id-shaped, or are not ids at all."""
    return st.one_of(
        st.sampled_from(
            [world.ticket_id, world.foreign_ticket_id, world.message_id, "0" * 26, "z" * 26]
        ),
        st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=26, max_size=26),
        junk,
    )


def _valid(world: World) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """Per event, a value its schema accepts for every field (required and optional)."""
    own = st.just(world.ticket_id)
    seq = st.integers(min_value=0, max_value=60)
    return {
        names.MESSAGE_SEND: {
            "ticket_id": own,
            "client_id": st.text(min_size=1, max_size=64),
            "body": st.text(max_size=60).map(lambda text: text + " ?"),
            "kind": st.sampled_from(["text", "note"]),
        },
        names.TYPING: {"ticket_id": own, "typing": st.booleans()},
        names.DELIVERED: {"ticket_id": own, "seq": seq},
        names.READ: {"ticket_id": own, "seq": seq},
        names.TICKET_JOIN: {"ticket_id": own},
        names.TICKET_LEAVE: {"ticket_id": own},
        names.TICKET_HANDOFF: {"ticket_id": own},
        names.SYNC: {"tickets": st.dictionaries(own, seq, max_size=1)},
        names.PRESENCE_HEARTBEAT: {"status": st.sampled_from(["online", "away"])},
        names.BOT_FEEDBACK: {
            "ticket_id": own,
            "message_id": st.just(world.message_id),
            "helpful": st.booleans(),
        },
    }


def _wrong(world: World) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """Per event and field, values that are near misses or of the wrong kind altogether."""
    ids = _ids(world)
    seq = st.one_of(st.integers(min_value=-5, max_value=50), st.sampled_from(_BIG_INTS), junk)
    flag = st.one_of(st.sampled_from([0, 1, "true", "false", None]), junk)
    ref = {"ticket_id": ids}
    return {
        names.MESSAGE_SEND: {
            "ticket_id": ids,
            "client_id": st.one_of(st.text(min_size=0, max_size=70), junk),
            "body": st.one_of(st.text(max_size=60), st.sampled_from(_NASTY_TEXT), junk),
            "kind": st.one_of(st.sampled_from(["event", "TEXT", "", "note "]), junk),
        },
        names.TYPING: {"ticket_id": ids, "typing": flag},
        names.DELIVERED: {"ticket_id": ids, "seq": seq},
        names.READ: {"ticket_id": ids, "seq": seq},
        names.TICKET_JOIN: ref,
        names.TICKET_LEAVE: ref,
        names.TICKET_HANDOFF: ref,
        names.SYNC: {
            "tickets": st.one_of(st.dictionaries(ids.filter(_hashable), seq, max_size=4), junk)
        },
        names.PRESENCE_HEARTBEAT: {"status": st.one_of(st.sampled_from(["offline", ""]), junk)},
        names.BOT_FEEDBACK: {"ticket_id": ids, "message_id": ids, "helpful": flag},
    }


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _mutate(valid: dict[str, Any], key: str, value: Any, action: str) -> dict[str, Any]:
    payload = dict(valid)
    if action == "drop":
        payload.pop(key, None)
    elif action == "replace" and key in payload:
        payload[key] = value
    else:
        payload[f"{key}_extra" if action == "extra" else key] = value
    return payload


def _for_event(
    event: str, valid: dict[str, st.SearchStrategy[Any]], wrong: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[tuple[str, tuple[Any, ...]]]:
    """(event, emit arguments): a valid object, one with a field dropped, wrong or added,
    an object of random fields, junk of any type, no argument, or two arguments."""
    whole = st.fixed_dictionaries(valid)
    keys = sorted(wrong)
    mutated = st.builds(
        _mutate,
        whole,
        st.sampled_from(keys),
        st.one_of([wrong[key] for key in keys]),
        st.sampled_from(["drop", "replace", "replace", "extra"]),
    )
    mixed = st.fixed_dictionaries(
        {}, optional={key: st.one_of(valid[key], wrong[key]) for key in keys}
    )
    args = st.one_of(
        whole.map(lambda p: (p,)),
        mutated.map(lambda p: (p,)),
        mixed.map(lambda p: (p,)),
        junk.map(lambda p: (p,)),
        st.just(()),
        st.tuples(whole, junk),
    )
    return args.map(lambda a: (event, a))


def _batches(world: World) -> st.SearchStrategy[list[tuple[str, tuple[Any, ...]]]]:
    """Batches with every client event twice (hypothesis would favour the first event)."""
    valid, wrong = _valid(world), _wrong(world)
    assert set(valid) == set(wrong) == set(names.CLIENT_EVENTS)
    one_each = st.tuples(*[_for_event(e, valid[e], wrong[e]) for e in names.CLIENT_EVENTS])
    return st.lists(one_each, min_size=2, max_size=2).map(
        lambda rounds: [item for one_round in rounds for item in one_round]
    )


@dataclass
class Session:
    """One connection per role; reconnects if the server drops it, and counts that."""

    world: World
    role: str
    sent: int = 0
    reconnects: int = 0
    waited_s: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    conn: Client | None = None

    def connection(self) -> Client:
        if self.conn is None or not self.conn.sio.connected:
            if self.conn is not None:
                self.reconnects += 1
                self.conn.disconnect()
            self.conn = client(self.world, self.role)
        return self.conn

    def send_batch(self, batch: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """Emit every payload at once, each with an ack; wait for all acks."""
        conn = self.connection()
        acks: list[Any] = [None] * len(batch)
        left = [len(batch)]
        done = threading.Event()
        lock = threading.Lock()

        def record(index: int) -> Any:
            def callback(*args: Any) -> None:
                acks[index] = args[0] if len(args) == 1 else list(args)
                with lock:
                    left[0] -= 1
                    if left[0] == 0:
                        done.set()

            return callback

        for index, (event, args) in enumerate(batch):
            conn.sio.emit(event, args if args else None, callback=record(index))
        self.sent += len(batch)
        started = time.monotonic()
        acked = done.wait(ACK_TIMEOUT_S)
        self.waited_s += time.monotonic() - started
        if not acked:
            if conn.sio.connected:
                missing = [batch[i] for i, a in enumerate(acks) if a is None]
                raise AssertionError(f"no ack within {ACK_TIMEOUT_S}s for {missing[:3]!r}")
            self.reconnects += 1  # dropped by the server: not a failure by itself
        return acks

    def close(self) -> None:
        if self.conn is not None:
            self.conn.disconnect()


def _code(ack: Any) -> str:
    error = ack.get("error") if isinstance(ack, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else repr(ack)[:40]


def _is_contract_ack(ack: Any) -> bool:
    if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
        return False
    if ack["ok"]:
        return True
    error = ack.get("error")
    return (
        isinstance(error, dict)
        and error.get("code") in CONTRACT_CODES
        and error.get("code") != "unavailable"  # the database is healthy: input must not 503
        and isinstance(error.get("message"), str)
    )


@pytest.mark.parametrize("role", ["visitor", "agent"])
def test_fuzzed_socket_events_get_contract_acks_and_the_server_survives(
    world: World, role: str
) -> None:
    watch = LogWatch(world.server)
    session = Session(world, role)
    examples = PER_ROLE // BATCH

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],  # no shrinking: a failure reports its whole batch
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=_batches(world))
    def run(batch: list[tuple[str, tuple[Any, ...]]]) -> None:
        acks = session.send_batch(batch)
        for (event, _args), ack in zip(batch, acks, strict=True):
            code = "ok" if isinstance(ack, dict) and ack.get("ok") else _code(ack)
            session.outcomes[f"{event} {code}"] += 1
        bad = [
            (event, args, ack)
            for (event, args), ack in zip(batch, acks, strict=True)
            if ack is not None and not _is_contract_ack(ack)
        ]
        assert not bad, f"acks outside the contract: {bad[:5]!r}"

    started = time.monotonic()
    try:
        run()
    finally:
        session.close()
    print(
        f"{role}: {session.sent} payloads in {time.monotonic() - started:.1f}s, "
        f"{session.waited_s:.1f}s of them waiting for acks, {session.reconnects} reconnects"
    )
    print(sorted(session.outcomes.items()))
    assert session.sent >= PER_ROLE
    assert world.server.proc is not None and world.server.proc.poll() is None
    assert_chat_works(world)
    watch.assert_clean()
