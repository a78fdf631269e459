"""pier/text-to-video: frames from the text-to-image diffusion model along a smooth walk through
its noise and prompt space, encoded as H.264. The inputs are those of a popular hosted video
model, so code written for it runs here with only the model name changed.
"""

import math
import re
import tempfile

import denoiser as D
import imageio.v2 as imageio
import numpy as np
import torch
from cog import BasePredictor, Input, Path, current_scope
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
SCENE_BREAK = re.compile(r"\bthen\b|;|->|\bturning into\b", re.IGNORECASE)
HOLD = 0.35  # share of each scene-to-scene span spent still on a scene


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
        prompt: str = Input(
            description="What to show. Separate scenes with 'then' (or ';') and the video "
            "morphs from one to the next. The model knows colours, shapes (circle, square, "
            "triangle, star, heart, cross, diamond, ring), digits and backgrounds (black, gray, "
            "white).",
            default="a yellow star on a black background then a pink heart on a black background",
        ),
        width: int = Input(description="Width of the video.", default=864, ge=16, le=1280),
        height: int = Input(description="Height of the video.", default=480, ge=16, le=1280),
        video_length: int = Input(description="Number of frames.", default=129, ge=1, le=200),
        infer_steps: int = Input(description="Denoising steps.", default=50, ge=1),
        embedded_guidance_scale: float = Input(
            description="Guidance scale.", default=6.0, ge=1.0, le=10.0
        ),
        fps: int = Input(description="Frames per second.", default=24, ge=1),
        seed: int = Input(description="Random seed; leave empty for a random one.", default=None),
    ) -> Path:
        seed = D.resolve_seed(seed)
        report(seed, self.diffusion.ignored_words(SCENE_BREAK.split(prompt)))
        frames = self.frames(prompt, video_length, infer_steps, embedded_guidance_scale, seed)
        path = Path(tempfile.mkdtemp(prefix="text-to-video-")) / "out.mp4"
        write_mp4(frames, path, even(width), even(height), fps)
        return path

    def frames(self, prompt: str, count: int, steps: int, guidance: float, seed: int) -> np.ndarray:
        """(count, 32, 32, 3) uint8 frames, one diffusion sample each, denoised in one batch."""
        diffusion = self.diffusion
        scenes = [s.strip() for s in SCENE_BREAK.split(prompt) if s.strip()] or [""]
        cond, cond_b, weight = scene_walk(diffusion.encode(scenes), count)
        uncond = diffusion.encode([""]).expand(count, -1)
        noise = noise_walk(count, diffusion.cfg.size, seed)
        blend = None if cond_b is None else (cond_b, weight)
        with tqdm(total=steps, desc="denoising") as bar:
            images = diffusion.sample(
                noise,
                cond,
                uncond,
                steps,
                guidance,
                on_step=lambda _: bar.update(1),
                blend=blend,
            )
        return D.to_uint8(images).numpy()


def even(n: int) -> int:
    """H.264 in yuv420p needs even frame sizes."""
    return max(2, n - n % 2)


def smoothstep(x: torch.Tensor) -> torch.Tensor:
    return x * x * (3 - 2 * x)


def scene_walk(
    scenes: torch.Tensor, count: int
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Per frame: the scene before, the scene after, and how far (0..1) the frame has moved
    from one to the other. Each scene is held for a while, then eased into the next."""
    if len(scenes) == 1 or count == 1:
        return scenes[:1].expand(count, -1), None, torch.zeros(count)
    u = torch.linspace(0, len(scenes) - 1, count)
    left = u.floor().clamp(max=len(scenes) - 2).long()
    frac = ((u - left - HOLD / 2) / (1 - HOLD)).clamp(0, 1)
    device = scenes.device
    return scenes[left.to(device)], scenes[(left + 1).to(device)], smoothstep(frac)


def noise_walk(count: int, size: int, seed: int) -> torch.Tensor:
    """Per-frame starting noise: a shared part keeps the layout, plus a slow great-circle walk.

    The walk part is cos(a) * x + sin(a) * y for two fixed draws x and y, with the angle a
    moving through a quarter turn over the video, so every frame is unit-variance noise and
    neighbouring frames differ only a little.
    """
    base, x, y = D.seeded_noise(3, size, seed)
    angles = torch.linspace(0, math.pi / 2, count)[:, None, None, None]
    walk = angles.cos() * x + angles.sin() * y
    return math.sqrt(0.6) * base + math.sqrt(0.4) * walk


def write_mp4(frames: np.ndarray, path: Path, width: int, height: int, fps: int) -> None:
    writer = imageio.get_writer(
        str(path),
        format="FFMPEG",
        mode="I",
        fps=fps,
        codec="libx264",
        pixelformat="yuv420p",
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-preset", "veryfast"],
    )
    with writer:
        for frame in frames:
            writer.append_data(np.asarray(D.fit(frame, width, height)))
