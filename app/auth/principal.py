"""The principal: who is acting, passed explicitly to every service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["agent", "visitor", "bot", "system"]


@dataclass(frozen=True)
class Principal:
    """An authenticated agent, a visitor of one site, the bot, or the system (CLI, jobs)."""

    kind: PrincipalKind
    workspace_id: str
    id: str
    name: str = ""
    role: str | None = None
    site_id: str | None = None
    #: The agent's bearer token or console session, so logout can revoke it.
    token_id: str | None = None

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"

    @property
    def is_visitor(self) -> bool:
        return self.kind == "visitor"

    @property
    def subject(self) -> dict[str, str]:
        return {"type": self.kind, "id": self.id}


def system_principal(workspace_id: str, name: str = "Parley") -> Principal:
    """The principal for work nobody in particular does (system events, the CLI)."""
    return Principal(kind="system", workspace_id=workspace_id, id="system", name=name)
