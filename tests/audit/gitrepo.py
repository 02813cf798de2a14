"""A real temporary git repository with commits by several authors, and YAML builders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

JANE = "Jane Admin <jane@contoso.com>"
MARK = "Mark Contributor <mark@contoso.com>"
EVE = "Eve Outsider <eve@contoso.com>"


def git_env(author: str, when: int) -> dict[str, str]:
    name, email = author.rstrip(">").split(" <")
    date = f"{1_780_000_000 + when * 3600} +0000"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


class GitRepo:
    """Writes files and commits them as a given author, one hour apart."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.clock = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self.git("config", "user.email", "local@contoso.com")
        self.git("config", "user.name", "Local User")

    def git(self, *args: str, author: str = JANE) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=git_env(author, self.clock),
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self, author: str, message: str) -> str:
        self.clock += 1
        self.git("add", "-A", author=author)
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author)
        return self.git("rev-parse", "HEAD")


def connection(
    name: str = "klaviyo-marketing",
    usable_by: str = "admins",
    accepted: bool = True,
    accepted_by: str | None = "jane@contoso.com",
    display_name: str = "Klaviyo (marketing)",
) -> str:
    consent = f"consent:\n  accepted: {str(accepted).lower()}\n"
    if accepted_by:
        consent += f"  accepted_by: {accepted_by}\n  accepted_at: 2026-11-20\n"
    return (
        f"kind: Connection\nname: {name}\ndisplay_name: {display_name}\n"
        f"api_key: {{env: KLAVIYO_API_KEY}}\nusable_by: {usable_by}\n{consent}"
    )


def source_and_segment(segment: str = "vip-customers") -> str:
    return (
        "kind: Source\nname: profiles\nfiles: {profiles: data/profiles.csv}\n---\n"
        f"kind: Segment\nname: {segment}\nsource: profiles\n"
        "query: SELECT * FROM profiles WHERE lifetime_value > 1000\n"
    )


def export(
    name: str = "vip-to-klaviyo",
    connection_name: str = "klaviyo-marketing",
    enabled: bool = True,
    list_id: str = "Y6nRLr",
    mode: str = "mirror",
    segment: str = "vip-customers",
    schedule: str | None = None,
) -> str:
    text = (
        f"kind: Export\nname: {name}\nsegment: {segment}\nconnection: {connection_name}\n"
        f"list_id: {list_id}\nfields: {{email: email}}\nmode: {mode}\n"
        f"enabled: {str(enabled).lower()}\n"
    )
    return text + (f'schedule: "{schedule}"\n' if schedule else "")


def access(admins: list[str], contributors: list[str]) -> str:
    def quoted(names: list[str]) -> str:
        return ", ".join(f'"{n}"' for n in names)

    return f"kind: Access\nadmins: [{quoted(admins)}]\ncontributors: [{quoted(contributors)}]\n"


def docs(*parts: str) -> str:
    return "---\n".join(parts)
