"""HTTP handler for POST /v1/tickets: a stream ticket for the calling key."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.deps import AppStateDep, CurrentKey
from app.schemas.tickets import StreamTicket

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StreamTicket)
async def create_ticket(state: AppStateDep, caller: CurrentKey) -> StreamTicket:
    """A short-lived ticket bound to the calling key (any role), for browsers.

    ``EventSource`` and ``WebSocket`` cannot send ``Authorization``: put the ticket in the URL as
    ``?ticket=``. It is accepted on GET stream routes asked for as ``text/event-stream`` and on
    WebSocket routes only, never on JSON routes or changes; it expires after
    ``DOCKYARD_TICKET_TTL_SECONDS`` and dies with its key.
    """
    ticket, expires_at = state.tickets.mint(caller.key_id)
    return StreamTicket(ticket=ticket, expires_at=expires_at)
