"""What a caller may see of a container: environment values only for operators and admins."""

from __future__ import annotations

import copy

from app.schemas.containers import Container
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
