"""Paths a model directory names (cover image, model card) stay inside that directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pier.registry import ModelDirError
from tests.conftest import BUILTIN, Pier, model_dir


def with_meta(pier: Pier, meta: str) -> Path:
    directory = model_dir(pier.tmp, "hello_world.py")
    (directory / "pier.yaml").write_text(meta)
    return directory


@pytest.mark.parametrize(
    "cover",
    ["../secret.txt", "../../secret.txt", "sub/../../secret.txt", "SECRET_ABSOLUTE", "link.png"],
)
async def test_a_cover_outside_the_model_directory_is_refused_at_add(
    pier: Pier, cover: str
) -> None:
    secret = pier.tmp / "secret.txt"
    secret.write_text("not for the web")
    directory = with_meta(pier, "")
    (directory / "link.png").symlink_to(secret)
    cover = cover.replace("SECRET_ABSOLUTE", str(secret))
    (directory / "pier.yaml").write_text(f"cover_image: {cover}\nvisibility: public\n")
    with pytest.raises(ModelDirError, match="points outside the model directory"):
        await pier.add_model("test/sneaky", directory)
    assert (await pier.client.get("/v1/models/test/sneaky")).status_code == 404


async def test_a_model_card_linked_from_outside_is_refused(pier: Pier) -> None:
    secret = pier.tmp / "secret.md"
    secret.write_text("# private notes")
    directory = with_meta(pier, "")
    (directory / "README.md").symlink_to(secret)
    with pytest.raises(ModelDirError, match="README.md"):
        await pier.add_model("test/sneaky", directory)


async def test_a_cover_inside_is_served_and_one_outside_never(pier: Pier) -> None:
    directory = with_meta(pier, "cover_image: art/cover.png\nvisibility: public\n")
    (directory / "art").mkdir()
    shutil.copy(BUILTIN / "image-filter" / "cover.png", directory / "art" / "cover.png")
    await pier.add_model("test/covered", directory)
    model = (await pier.client.get("/v1/models/test/covered")).json()
    anonymous = {"Authorization": ""}
    served = await pier.client.get(model["cover_image_url"], headers=anonymous)
    assert served.status_code == 200
    assert served.content == (BUILTIN / "image-filter" / "cover.png").read_bytes()

    # A record that names a file elsewhere (written before this check existed, or edited by
    # hand) is not served either.
    secret = pier.tmp / "secret.txt"
    secret.write_text("not for the web")
    store = pier.services.store
    stored = await store.get_model("test", "covered")
    assert stored is not None
    stored_cover = Path(stored["cover_image"])
    for elsewhere in (str(secret), f"{stored_cover.parent}/../../../../secret.txt"):
        await store.update_model(stored["id"], cover_image=elsewhere)
        refused = await pier.client.get(model["cover_image_url"], headers=anonymous)
        assert refused.status_code == 404
        assert b"not for the web" not in refused.content
