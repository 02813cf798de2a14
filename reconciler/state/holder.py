"""Who holds a list lock: written beside (or into) the lock so a waiter can name the holder."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass, field

from reconciler.jsonable import fields_json
from reconciler.state.records import now


@dataclass(frozen=True)
class HolderInfo:
    """``holder`` is the caller's label (actor and run id); host, pid and since are added here."""

    key: str
    holder: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    since: dt.datetime = field(default_factory=now)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def describe(self) -> str:
        since = self.since.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.holder} on {self.host} (pid {self.pid}) since {since}"

    def as_dict(self) -> dict[str, object]:
        return fields_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> HolderInfo:
        return cls(
            key=str(data["key"]),
            holder=str(data["holder"]),
            host=str(data["host"]),
            pid=int(str(data["pid"])),
            since=dt.datetime.fromisoformat(str(data["since"])),
            token=str(data["token"]),
        )


UNKNOWN_HOLDER = "an unknown holder (no holder record)"
