"""Stream tickets and dashboard sessions as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, SecretStr

from app.schemas.common import StrictModel, View


class StreamTicket(View):
    """A short-lived stand-in for the calling key: ``?ticket=`` on streams and WebSockets."""

    ticket: str = Field(description="Opaque; put it in the URL as ?ticket=")
    expires_at: datetime


class SignIn(StrictModel):
    """The dashboard's sign-in: the key is checked once and never stored by the browser."""

    key: SecretStr = Field(min_length=1, max_length=512, description="An API key")


class SessionInfo(View):
    """Who is signed in to the dashboard, and the token its changes must carry."""

    key_id: str
    role: str
    scope: str
    csrf_token: str = Field(description="Send as X-CSRF-Token with every change")
    expires_at: datetime
