"""The workspace's agents."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.web import current_principal
from app.errors import Invalid
from app.schemas.agents import (
    AgentIn,
    AgentListOut,
    AgentOutEnvelope,
    AgentPatchIn,
    AgentUpdateIn,
)
from app.services import accounts, agents
from app.services.views import agent_view, agent_views


@endpoint(
    "/agents",
    "GET",
    EndpointDoc("The workspace's agents", "agents", response=AgentListOut, errors=(401, 403)),
)
def list_agents() -> tuple[Response, int]:
    principal = current_principal()
    agents = accounts.list_agents(principal)
    views = agent_views(agents)
    return reply(AgentListOut(), {"agents": [views[a.id] for a in agents]})


@endpoint(
    "/agents",
    "POST",
    EndpointDoc(
        "Add an agent (owners and admins)",
        "agents",
        auth="manager",
        body=AgentIn,
        response=AgentOutEnvelope,
        status=201,
        errors=(401, 403, 409, 422),
    ),
)
def create_agent() -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(AgentIn())
    agent = accounts.create_agent(
        principal, data["name"], data["email"], data["password"], data["role"]
    )
    return reply(AgentOutEnvelope(), {"agent": agent_view(agent)}, 201)


@endpoint(
    "/agents/me",
    "PATCH",
    EndpointDoc(
        "Set the calling agent's availability (online or away)",
        "agents",
        body=AgentPatchIn,
        response=AgentOutEnvelope,
        errors=(401, 422),
    ),
)
def update_me() -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(AgentPatchIn())
    agent = accounts.get_agent(principal)
    if "availability" in data:
        agent = accounts.set_availability(principal, data["availability"])
    return reply(AgentOutEnvelope(), {"agent": agent_view(agent)})


@endpoint(
    "/agents/<agent_id>",
    "PATCH",
    EndpointDoc(
        "Rename an agent, change its role, deactivate or reactivate it (owners and admins)",
        "agents",
        auth="manager",
        body=AgentUpdateIn,
        response=AgentOutEnvelope,
        errors=(401, 403, 404, 409, 422),
    ),
)
def update_agent(agent_id: str) -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(AgentUpdateIn())
    if not data:
        raise Invalid("Nothing to change: send name, role and/or active.")
    agent = agents.update_agent(principal, agent_id, data)
    return reply(AgentOutEnvelope(), {"agent": agent_view(agent)})
