"""The client files bootstrap writes to the data dir: `clouds.yaml` and `openrc-<user>`.

They hold the bootstrap passwords and the static token, so they are created with mode 0600
(atomically, never briefly world-readable), and they are the only place those passwords live.
"""

import contextlib
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pier.api.identity.catalog import identity_url
from pier.settings import AuthMode, Settings

CLOUDS_FILE = "clouds.yaml"


@dataclass(frozen=True, slots=True)
class CloudAccount:
    user: str
    project: str
    password: str = field(repr=False)

    @property
    def cloud(self) -> str:
        return f"pier-{self.user}"


def openrc_path(data_dir: Path, user: str) -> Path:
    return data_dir / f"openrc-{user}"


def clouds_document(settings: Settings, accounts: list[CloudAccount]) -> dict[str, Any]:
    clouds: dict[str, Any] = {
        account.cloud: {
            "auth_type": "password",
            "auth": {
                "auth_url": identity_url(settings),
                "username": account.user,
                "password": account.password,
                "project_name": account.project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": settings.region,
            "identity_api_version": 3,
            "interface": "public",
        }
        for account in accounts
    }
    if settings.auth is AuthMode.TOKEN:
        clouds["pier-token"] = {
            "auth_type": "admin_token",
            "auth": {"endpoint": settings.base_url, "token": settings.static_token},
            "region_name": settings.region,
        }
    if settings.auth is AuthMode.NOAUTH:
        clouds["pier-noauth"] = {
            "auth_type": "none",
            "auth": {"endpoint": settings.base_url},
            "region_name": settings.region,
        }
    return {"clouds": clouds}


def openrc_text(settings: Settings, account: CloudAccount) -> str:
    variables = {
        "OS_AUTH_URL": identity_url(settings),
        "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": account.user,
        "OS_PASSWORD": account.password,
        "OS_PROJECT_NAME": account.project,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": settings.region,
        "OS_INTERFACE": "public",
    }
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in variables.items())


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by the owner only, at every instant."""
    temporary = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    temporary.replace(path)


def write_client_files(settings: Settings, accounts: list[CloudAccount]) -> list[Path]:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    clouds = data_dir / CLOUDS_FILE
    write_private(clouds, yaml.safe_dump(clouds_document(settings, accounts), sort_keys=False))
    written = [clouds]
    for account in accounts:
        path = openrc_path(data_dir, account.user)
        write_private(path, openrc_text(settings, account))
        written.append(path)
    return written


def read_passwords(data_dir: Path) -> dict[str, str]:
    """User name → password from an existing `clouds.yaml`; empty if there is none usable."""
    try:
        document = yaml.safe_load((data_dir / CLOUDS_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    clouds = document.get("clouds") if isinstance(document, dict) else None
    found: dict[str, str] = {}
    for cloud in (clouds or {}).values() if isinstance(clouds, dict) else ():
        auth = cloud.get("auth") if isinstance(cloud, dict) else None
        if isinstance(auth, dict):
            user, password = auth.get("username"), auth.get("password")
            if isinstance(user, str) and isinstance(password, str):
                found[user] = password
    return found
