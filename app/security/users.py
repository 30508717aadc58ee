"""Who a process runs as, the way the engine reads ``User`` (pure functions, no engine calls).

The engine (runc's ``GetExecUser``) splits ``user[:group]`` on ':', parses the user with Go's
``strconv.Atoi`` and otherwise looks the name up in the *image's* /etc/passwd. So ``+0``, ``-0``,
``00`` and ``0:0`` are uid 0, ``root`` is uid 0, and any name may be uid 0 in some image; an
empty user means the image's default, which is root unless the image says otherwise. The only
spelling whose uid is known without the image is a plain decimal number: Kubernetes makes the
same call (``runAsNonRoot`` refuses a non-numeric image user it cannot verify).
"""

from __future__ import annotations

import re

# A non-zero decimal uid (no sign, no leading zero, no spaces), optionally ":gid" (decimal).
_NON_ROOT = re.compile(r"^[1-9][0-9]{0,9}(:[0-9]{1,10})?$")
_MAX_ID = 2**31 - 1  # runc refuses larger ids


def is_verified_non_root(user: str | None) -> bool:
    """True only when ``user`` is certainly not uid 0, whatever the image holds."""
    if user is None or not _NON_ROOT.match(user):
        return False
    uid, _, gid = user.partition(":")
    return int(uid) <= _MAX_ID and (not gid or int(gid) <= _MAX_ID)


def non_root_message(user: str | None) -> str:
    shown = "unset (the image's default, often root)" if not user else repr(user)
    return f"user is {shown}; set a numeric non-zero uid such as '1000' or '1000:1000'"
