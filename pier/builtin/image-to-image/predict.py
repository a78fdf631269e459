"""pier/image-to-image: SDEdit with the text-to-image diffusion model.

The uploaded image is shrunk to the model's 32x32, noised part of the way (prompt_strength),
then denoised under the prompt, and scaled back to the upload's size (at most 1280 a side).
"""

import tempfile

import denoiser as D
import numpy as np
import torch
from cog import BasePredictor, Input, Path, current_scope
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
FORMATS = {"png": ("PNG", {}), "webp": ("WEBP", {"quality": 95}), "jpg": ("JPEG", {"quality": 95})}
MAX_SIDE = 1280


def report(seed: int, ignored: list[str]) -> None:
    """Tell Pier (and the logs) the seed used and the prompt words this model ignored."""
    current_scope().record_metric("seed", seed)
    if ignored:
        print(f"Ignored words this model does not know: {', '.join(ignored)}")
        current_scope().record_metric("ignored_words", ignored)


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.diffusion = D.Diffusion.load(HERE / "denoiser.safetensors", D.pick_device())
        print(f"Loaded the denoiser on {self.diffusion.device}")

    def predict(
        self,
        image: Path = Input(description="The image to start from (PNG, JPEG, WebP, ...)."),
        prompt: str = Input(
            description="What the result should show: a colour and a shape (circle, square, "
            "triangle, star, heart, cross, diamond, ring) or a digit, optionally a background "
            "(black, gray, white).",
            default="a blue heart on a white background",
        ),
        negative_prompt: str = Input(description="What to steer away from.", default=""),
        prompt_strength: float = Input(
            description="How far to noise the image: 0 keeps it, 1 ignores it.",
            default=0.7,
            ge=0.0,
            le=1.0,
        ),
        num_inference_steps: int = Input(
            description="Denoising steps for strength 1; fewer are run for lower strengths.",
            default=25,
            ge=1,
            le=100,
        ),
        guidance_scale: float = Input(
            description="Classifier-free guidance scale.", default=4.0, ge=1.0, le=10.0
        ),
        seed: int = Input(description="Random seed; leave empty for a random one.", default=None),
        output_format: str = Input(
            description="Image file format.", default="png", choices=["png", "webp", "jpg"]
        ),
    ) -> Path:
        seed = D.resolve_seed(seed)
        report(seed, self.diffusion.ignored_words([prompt]))
        source = open_image(image)
        result = self.edit(
            source,
            prompt,
            negative_prompt,
            prompt_strength,
            num_inference_steps,
            guidance_scale,
            seed,
        )
        width, height = output_size(source.size)
        out = Image.fromarray(result).resize((width, height), Image.Resampling.BICUBIC)
        path = Path(tempfile.mkdtemp(prefix="image-to-image-")) / f"out.{output_format}"
        kind, options = FORMATS[output_format]
        out.save(path, kind, **options)
        return path

    def edit(
        self,
        source: Image.Image,
        prompt: str,
        negative_prompt: str,
        strength: float,
        steps: int,
        guidance: float,
        seed: int,
    ) -> np.ndarray:
        """The edited 32x32 sample, HWC uint8."""
        diffusion = self.diffusion
        size = diffusion.cfg.size
        small = np.asarray(source.resize((size, size), Image.Resampling.BOX), np.float32)
        init = torch.from_numpy(small).permute(2, 0, 1)[None] / 127.5 - 1.0
        run = max(1, round(steps * strength))
        if strength <= 0:
            return D.to_uint8(init)[0].numpy()
        start = D.matching_time(strength, diffusion.cfg.shift)
        with tqdm(total=run, desc="denoising") as bar:
            images = diffusion.sample(
                D.seeded_noise(1, size, seed),
                diffusion.encode([prompt]),
                diffusion.encode([negative_prompt]),
                run,
                guidance,
                start=start,
                init=init,
                on_step=lambda _: bar.update(1),
            )
        return D.to_uint8(images)[0].numpy()


def open_image(path: Path) -> Image.Image:
    """The upload as RGB, upright, with transparency flattened onto white."""
    try:
        upload = Image.open(path)
    except UnidentifiedImageError:
        raise ValueError(f"image: {path.name} is not an image file this model can read") from None
    with upload:
        img = ImageOps.exif_transpose(upload)
        if img.mode in ("RGBA", "LA", "P"):
            rgba = img.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(flat, rgba).convert("RGB")
        return img.convert("RGB")


def output_size(size: tuple[int, int]) -> tuple[int, int]:
    """The upload's size, scaled down to fit MAX_SIDE and up to at least 64 a side."""
    width, height = size
    scale = min(1.0, MAX_SIDE / max(width, height))
    scale = max(scale, 64 / min(width, height))
    return min(MAX_SIDE, round(width * scale)), min(MAX_SIDE, round(height * scale))
