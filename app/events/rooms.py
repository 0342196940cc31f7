"""Socket.IO room names: the only place that knows how rooms are spelled.

A visitor's connections join ``visitor_room``; an agent's join ``agent_room`` and
``workspace_room``; an agent viewing a ticket also joins ``ticket_agents_room``. A ticket's
group room is the union of its visitor's room, its viewers' room and its participants' rooms;
Socket.IO delivers an emit to a list of rooms once per connection.
"""

from __future__ import annotations

from collections.abc import Iterable


def visitor_room(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def workspace_room(workspace_id: str) -> str:
    return f"workspace:{workspace_id}"


def workspace_visitors_room(workspace_id: str) -> str:
    """Every visitor connection of a workspace: they hear when agents come and go."""
    return f"workspace:{workspace_id}:visitors"


def ticket_agents_room(ticket_id: str) -> str:
    return f"ticket:{ticket_id}:agents"


def ticket_rooms(
    ticket_id: str, visitor_id: str, participant_agent_ids: Iterable[str], *, agents_only: bool
) -> list[str]:
    """Every room of a ticket's group; without the visitor for agent-only events (notes)."""
    rooms = [ticket_agents_room(ticket_id)]
    rooms += [agent_room(a) for a in sorted(set(participant_agent_ids))]
    if not agents_only:
        rooms.append(visitor_room(visitor_id))
    return rooms
