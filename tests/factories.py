"""One helper per thing a test makes: containers, volumes, networks, keys — labelled and removed.

Use the ``make`` fixture: everything made through it carries the run label and is removed when the
test ends, pass or fail (the session's sweep in conftest catches what a test made by a raw call).
Each helper asserts the service answered 201, so a setup failure reads as one, not as a KeyError.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiodocker
import httpx

from app.security.keys import ApiKey, KeyStore
from tests.support import run_labels, spec, unique_name


class Factory:
    """Makes objects through the API (``client=`` another key's client) and removes them after."""

    def __init__(self, api: httpx.AsyncClient, docker: aiodocker.Docker, keys: KeyStore) -> None:
        self.api = api
        self.docker = docker
        self.keys = keys
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []
        self.key_ids: list[str] = []

    async def container(
        self, *, start: bool = False, client: httpx.AsyncClient | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A labelled container on the test image (created; started with ``start=True``)."""
        params = {"start": "true"} if start else {}
        response = await (client or self.api).post(
            "/v1/containers", params=params, json=spec(**fields)
        )
        assert response.status_code == 201, response.text
        made: dict[str, Any] = response.json()
        self.containers.append(made["id"])
        return made

    async def running(
        self, *, client: httpx.AsyncClient | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A started container (``sleep 600`` unless told)."""
        fields.setdefault("command", ["sleep", "600"])
        return await self.container(start=True, client=client, **fields)

    async def quiet(self, *, client: httpx.AsyncClient | None = None) -> str:
        """A running container that prints nothing and needs no network: its id."""
        return str((await self.running(client=client, network="none"))["id"])

    async def volume(
        self, name: str | None = None, *, client: httpx.AsyncClient | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A labelled volume (``name`` made up unless given)."""
        made = await self._labelled("volumes", name or unique_name("vol"), client, fields)
        self.volumes.append(str(made["name"]))
        return made

    async def network(
        self, name: str | None = None, *, client: httpx.AsyncClient | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A labelled network (``name`` made up unless given)."""
        made = await self._labelled("networks", name or unique_name("net"), client, fields)
        self.networks.append(str(made["id"]))
        return made

    async def _labelled(
        self,
        collection: str,
        name: str,
        client: httpx.AsyncClient | None,
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        """POST /v1/<collection> with the run label added to ``fields``' labels; 201 asserted."""
        body = {"name": name, **fields, "labels": {**run_labels(), **fields.get("labels", {})}}
        response = await (client or self.api).post(f"/v1/{collection}", json=body)
        assert response.status_code == 201, response.text
        made: dict[str, Any] = response.json()
        return made

    def key(self, role: str, profile: str = "baseline", **fields: Any) -> tuple[ApiKey, str]:
        """A key in the session's keys file (revoked when the test ends): (key, token)."""
        key, token = self.keys.create(role=role, profile=profile, **fields)  # type: ignore[arg-type]
        self.key_ids.append(key.id)
        return key, token

    def track(self, kind: str, ref: str) -> str:
        """Remove ``ref`` (a container, volume or network made by a call under test) at the end."""
        {"container": self.containers, "volume": self.volumes, "network": self.networks}[
            kind
        ].append(ref)
        return ref

    async def remove_all(self) -> None:
        """Containers first (with their anonymous volumes), then what they used."""
        await asyncio.gather(
            *(self._delete(f"containers/{c}?force=1&v=1") for c in self.containers)
        )
        await asyncio.gather(
            *(self._delete(f"volumes/{v}?force=1") for v in self.volumes),
            *(self._delete(f"networks/{n}") for n in self.networks),
        )
        for key_id in self.key_ids:
            self.keys.revoke(key_id)

    async def _delete(self, path: str) -> None:
        try:
            async with self.docker._query(path, "DELETE") as response:
                await response.read()
        except aiodocker.DockerError:
            pass  # already gone (auto-removed, or removed by the test itself)
