"""pier/text-to-image: a small text-conditioned diffusion model, run as a Cog predictor."""

import shutil
import tempfile
import urllib.request
from collections.abc import Sequence

import denoiser as D
import torch
from cog import BasePredictor, Input, Path, current_scope
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
BASE_WEIGHTS = HERE / "denoiser.safetensors"
FORMATS = {"png": ("PNG", {}), "webp": ("WEBP", {"quality": 95}), "jpg": ("JPEG", {"quality": 95})}


def resolve_weights(weights: Path | str) -> Path:
    """A local file for the weights Pier hands to setup(): a path, a file:// URL, or an
    http(s) URL (downloaded into a temporary file)."""
    text = str(weights)
    if not text.startswith(("http://", "https://")):
        return Path(text.removeprefix("file://"))
    target = Path(tempfile.mkdtemp(prefix="text-to-image-weights-")) / "weights.safetensors"
    with urllib.request.urlopen(text) as response, target.open("wb") as out:  # noqa: S310
        shutil.copyfileobj(response, out)
    return target


def report(seed: int, ignored: list[str]) -> None:
    """Tell Pier (and the logs) the seed used and the prompt words this model ignored."""
    current_scope().record_metric("seed", seed)
    if ignored:
        print(f"Ignored words this model does not know: {', '.join(ignored)}")
        current_scope().record_metric("ignored_words", ignored)


class Predictor(BasePredictor):
    def setup(self, weights: Path | str | None = None) -> None:
        """Load the shipped weights, or those a training made (see train.py)."""
        path = resolve_weights(weights) if weights else BASE_WEIGHTS
        self.diffusion = D.Diffusion.load(path, D.pick_device())
        print(f"Loaded the denoiser on {self.diffusion.device}")

    def predict(
        self,
        prompt: str = Input(
            description="What to draw: a colour and a shape (circle, square, triangle, star, "
            "heart, cross, diamond, ring) or a digit, optionally a background (black, gray, "
            "white). Example: 'a pink heart on a black background'.",
            default="a red star on a black background",
        ),
        negative_prompt: str = Input(
            description="What to steer away from (replaces the empty prompt in guidance).",
            default="",
        ),
        width: int = Input(
            description="Output width; the sample is upscaled.", default=512, ge=64, le=1280
        ),
        height: int = Input(
            description="Output height; the sample is upscaled.", default=512, ge=64, le=1280
        ),
        num_inference_steps: int = Input(description="Denoising steps.", default=25, ge=1, le=100),
        guidance_scale: float = Input(
            description="Classifier-free guidance scale.", default=4.0, ge=1.0, le=10.0
        ),
        seed: int = Input(description="Random seed; leave empty for a random one.", default=None),
        num_outputs: int = Input(description="How many images.", default=1, ge=1, le=4),
        output_format: str = Input(
            description="Image file format.", default="png", choices=["png", "webp", "jpg"]
        ),
    ) -> list[Path]:
        seed = D.resolve_seed(seed)
        report(seed, self.diffusion.ignored_words([prompt]))
        samples = self.generate(
            [prompt] * num_outputs, negative_prompt, num_inference_steps, guidance_scale, seed
        )
        out_dir = Path(tempfile.mkdtemp(prefix="text-to-image-"))
        kind, options = FORMATS[output_format]
        paths = []
        for i, sample in enumerate(samples.numpy()):
            path = out_dir / f"out-{i}.{output_format}"
            D.fit(sample, width, height).save(path, kind, **options)
            paths.append(path)
        return paths

    def generate(
        self,
        prompts: Sequence[str],
        negative_prompt: str,
        steps: int,
        guidance: float,
        seed: int,
    ) -> torch.Tensor:
        """Sample one 32x32 image per prompt in one batch: (n, 32, 32, 3) uint8."""
        diffusion = self.diffusion
        cond = diffusion.encode(prompts)
        uncond = diffusion.encode([negative_prompt]).expand(len(prompts), -1)
        noise = D.seeded_noise(len(prompts), diffusion.cfg.size, seed)
        with tqdm(total=steps, desc="denoising") as bar:
            images = diffusion.sample(
                noise, cond, uncond, steps, guidance, on_step=lambda _: bar.update(1)
            )
        return D.to_uint8(images)
