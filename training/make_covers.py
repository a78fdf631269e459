"""Make each diffusion model's cover.png from real outputs of its predictor.

    python training/make_covers.py

text-to-image: outputs of four prompts, 2x2. text-to-video: five frames of the
example video in a row. image-to-image: the example upload and the result, side by side.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import yaml
from common import BUILTIN
from PIL import Image

TILE = 128


def predictor(slug: str) -> Any:
    model_dir = BUILTIN / slug
    sys.path[:0] = [str(BUILTIN.parent / "_shim"), str(model_dir)]
    spec = importlib.util.spec_from_file_location(
        f"cover_{slug.replace('-', '_')}", model_dir / "predict.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    instance = module.Predictor()
    instance.setup()
    return instance


def example(slug: str) -> dict[str, Any]:
    meta = yaml.safe_load((BUILTIN / slug / "pier.yaml").read_text())
    return dict(meta["example"])


def row(images: Sequence[Image.Image], columns: int) -> Image.Image:
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * TILE, rows * TILE))
    for i, img in enumerate(images):
        sheet.paste(
            img.convert("RGB").resize((TILE, TILE)), ((i % columns) * TILE, (i // columns) * TILE)
        )
    return sheet


COVER_PROMPTS = (
    "a red star on a black background",
    "a blue ring on a white background",
    "a yellow heart on a gray background",
    "a green digit 7 on a black background",
)


def text_to_image() -> Image.Image:
    p = predictor("text-to-image")
    tiles = []
    for i, prompt in enumerate(COVER_PROMPTS):
        inputs = {**defaults(p), "prompt": prompt, "seed": i, "width": TILE, "height": TILE}
        tiles += [Image.open(path) for path in p.predict(**inputs)]
    return row(tiles, columns=2)


def text_to_video() -> Image.Image:
    p = predictor("text-to-video")
    inputs = {**defaults(p), **example("text-to-video")}
    frames = decode(p.predict(**inputs), inputs["width"], inputs["height"])
    picks = [frames[round(i * (len(frames) - 1) / 4)] for i in range(5)]
    return row([Image.fromarray(f).crop(centre_square(f.shape)) for f in picks], columns=5)


def decode(path: Path, width: int, height: int) -> np.ndarray:
    """The video's frames as RGB arrays, decoded by the ffmpeg that imageio-ffmpeg ships."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)]
    raw = subprocess.run(
        [*command, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def image_to_image() -> Image.Image:
    p = predictor("image-to-image")
    inputs = {**defaults(p), **example("image-to-image")}
    upload = Path("/tmp/pier-cover-input.png")
    upload.write_bytes(base64.b64decode(inputs["image"].partition(",")[2]))
    inputs["image"] = upload
    return row([Image.open(upload), Image.open(p.predict(**inputs))], columns=2)


def centre_square(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    side = min(h, w)
    return ((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2)


def defaults(p: Any) -> dict[str, Any]:
    import inspect

    out = {}
    for name, param in inspect.signature(p.predict).parameters.items():
        value = getattr(param.default, "default", param.default)
        if value is not inspect.Parameter.empty and value is not Ellipsis:
            out[name] = value
    return out


def main() -> None:
    for slug, make in (
        ("text-to-image", text_to_image),
        ("text-to-video", text_to_video),
        ("image-to-image", image_to_image),
    ):
        buffer = io.BytesIO()
        make().save(buffer, "PNG", optimize=True)
        (BUILTIN / slug / "cover.png").write_bytes(buffer.getvalue())
        print(f"wrote {slug}/cover.png ({len(buffer.getvalue()):,} bytes)")


if __name__ == "__main__":
    main()
