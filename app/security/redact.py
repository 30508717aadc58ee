"""What a caller may see of a container or service: environment values only for operators and
admins."""

from __future__ import annotations

import copy

from app.schemas.containers import Container
from app.schemas.swarm import Service
from app.security.principal import Principal

HIDDEN = "***"


def container_for(view: Container, principal: Principal) -> Container:
    """The view with environment values (and their copy in ``attrs``) hidden from viewers."""
    if principal.sees_environment:
        return view
    update: dict[str, object] = {"environment": dict.fromkeys(view.environment)}
    if view.attrs is not None:
        attrs = copy.deepcopy(view.attrs)
        config = attrs.get("Config") or {}
        if config.get("Env"):
            config["Env"] = [e.partition("=")[0] + "=" + HIDDEN for e in config["Env"]]
        update["attrs"] = attrs
    return view.model_copy(update=update)


def service_for(view: Service, principal: Principal) -> Service:
    """The view with the task template's environment values hidden from viewers."""
    environment = view.spec.task.environment
    if principal.sees_environment or not environment:
        return view
    if isinstance(environment, dict):
        keys = list(environment)
    else:
        keys = [e.split("=", 1)[0] for e in environment]
    task = view.spec.task.model_copy(update={"environment": dict.fromkeys(keys)})
    return view.model_copy(update={"spec": view.spec.model_copy(update={"task": task})})
