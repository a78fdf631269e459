"""First start and every start: the admin account, its token, login links, built-in models."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pier.blobs import Blobs, BlobsUnavailable
from pier.dispatch import Dispatcher
from pier.dispatch.rows import new_prediction
from pier.queue import BACKGROUND_LANE
from pier.registry import ModelDir, ModelDirError, missing_packages, register
from pier.runner.errors import ModelLoadError
from pier.sdk.validate import validate_input
from pier.settings import Settings
from pier.store import Row, Store

log = logging.getLogger(__name__)

ADMIN = "admin"
BUILTIN = Path(__file__).resolve().parent / "builtin"
LOGIN_TTL = timedelta(hours=24)


@dataclass
class BootInfo:
    account: Row
    new_token: str | None  # set when this start created the admin token
    login_code: str


def token_file(data_dir: Path) -> Path:
    return data_dir / "admin-token"


async def ensure_admin(store: Store, settings: Settings) -> tuple[Row, str | None]:
    account = await store.get_account_by_username(ADMIN)
    created: str | None = None
    if account is None:
        account = await store.create_account(ADMIN, "Admin", is_admin=True)
        if not settings.admin_token:
            created = await store.create_token(account["id"], "admin (first start)")
    if settings.admin_token and await store.account_for_token(settings.admin_token) is None:
        await store.add_token(account["id"], settings.admin_token, "admin (PIER_ADMIN_TOKEN)")
    if created:
        path = token_file(settings.data_dir)
        path.write_text(created + "\n")
        os.chmod(path, 0o600)
    return account, created


async def bootstrap(store: Store, settings: Settings) -> BootInfo:
    account, created = await ensure_admin(store, settings)
    # Only the link this start prints works: links printed by earlier starts end here.
    await store.expire_login_codes()
    code = await store.create_login_code(account["id"], LOGIN_TTL)
    return BootInfo(account, created, code)


def builtin_dirs() -> list[Path]:
    return sorted(
        p for p in BUILTIN.iterdir() if (p / "cog.yaml").is_file() and (p / "pier.yaml").is_file()
    )


async def register_builtins(
    store: Store, blobs: Blobs, dispatcher: Dispatcher, settings: Settings, account: Row
) -> list[str]:
    """Register every built-in model whose packages are installed; returns their names.

    Models are inspected two at a time (each inspection imports the model in a subprocess).
    """
    gate = asyncio.Semaphore(2)

    async def one(path: Path) -> str | None:
        async with gate:
            try:
                model_dir = ModelDir.read(path)
                name = str(model_dir.meta.get("name") or f"pier/{path.name}")
                missing = missing_packages(model_dir.python_packages)
                if missing:
                    log.warning(
                        "built-in model %s needs %s; not registered", name, ", ".join(missing)
                    )
                    return None
                model, version, created = await register(
                    store, blobs, settings.data_dir, account, path, name
                )
            except (ModelDirError, ModelLoadError, BlobsUnavailable) as exc:
                log.warning("built-in model in %s was not registered: %s", path.name, exc)
                return None
        example = model_dir.meta.get("example")
        if created and isinstance(example, dict):
            await _run_example(store, dispatcher, account, model, version, example)
        return name

    names = await asyncio.gather(*(one(path) for path in builtin_dirs()))
    return [name for name in names if name]


async def _run_example(
    store: Store,
    dispatcher: Dispatcher,
    account: Row,
    model: Row,
    version: Row,
    example: dict[str, object],
) -> None:
    checked, errors = validate_input(
        version["openapi_schema"],
        dict(example),
        required_nullable=version.get("required_nullable"),
    )
    if errors:
        log.warning("the example of %s/%s is not valid: %s", model["owner"], model["name"], errors)
        return
    # Marked as an example (kept out of "Your predictions"), and queued in the background lane
    # so that a person's first prediction never waits behind it.
    row = new_prediction(
        account["id"], model, version, checked, source="example", lane=BACKGROUND_LANE
    )
    await dispatcher.submit(row, version)
    await store.update_model(model["id"], default_example_id=row["id"])
