"""A small text-conditioned diffusion model: prompt encoder, U-Net denoiser and DDIM sampler.

This file is shared by the three diffusion models (text-to-image, text-to-video,
image-to-image). Each model directory carries its own byte-identical copy so that it
builds on its own under Cog; tests/models/test_shared_code.py keeps the copies equal.

The prompt is a bag of words: the sum of one learned vector per known word, with colours
that name the background ("on white", "white background") read as their own words. The
network predicts v (Salimans & Ho, 2022) under a cosine noise schedule shifted towards more
noise (log-SNR - 2 log 4, as Hoogeboom et al. 2023 shift it for larger images): flat shapes
are still recognisable at noise levels where natural images are not, so without the shift the
prompt would decide the picture in only the first few steps. Sampling is DDIM with
classifier-free guidance: the unconditional branch is the negative prompt, or the empty
prompt, which the model saw in training through caption dropout.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

WORD = re.compile(r"[a-z]+|\d")
PAD, EMPTY = 0, 1


@dataclass(frozen=True)
class Config:
    """Hyperparameters, stored as JSON in the weights file's metadata."""

    vocab: tuple[str, ...]
    size: int = 32
    channels: tuple[int, ...] = (48, 96, 128)
    text_dim: int = 96
    max_tokens: int = 16
    emb_dim: int = 192
    shift: float = 0.25  # the noise schedule's log-SNR moves by 2 log(shift)


BACKGROUND_WORDS = ("background", "backdrop")
ARTICLES = ("a", "an", "the")
FILLER = (*ARTICLES, *BACKGROUND_WORDS, "and", "with")  # unknown, but nothing is lost


def words(prompt: str) -> list[str]:
    """Lowercase words; a word right after "on" (or "on a") or right before "background" is
    marked `bg_<word>`, so "a white star on black" and "a black star on white" differ."""
    found = WORD.findall(prompt.lower())
    out = []
    for i, word in enumerate(found):
        after_on = (i >= 1 and found[i - 1] == "on") or (
            i >= 2 and found[i - 2] == "on" and found[i - 1] in ARTICLES
        )
        before_background = i + 1 < len(found) and found[i + 1] in BACKGROUND_WORDS
        marked = (after_on or before_background) and word not in ARTICLES + BACKGROUND_WORDS
        out.append(f"bg_{word}" if marked else word)
    return out


class Tokenizer:
    """Words mapped to ids; words the model never saw are dropped."""

    def __init__(self, vocab: Sequence[str], max_tokens: int) -> None:
        self.ids = {w: i + 2 for i, w in enumerate(vocab)}
        self.max_tokens = max_tokens

    def __call__(self, prompts: Sequence[str]) -> Tensor:
        out = torch.full((len(prompts), self.max_tokens), PAD, dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids = [self.ids[w] for w in words(prompt) if w in self.ids]
            ids = ids[: self.max_tokens] or [EMPTY]
            out[row, : len(ids)] = torch.tensor(ids)
        return out


def unknown_words(prompts: Sequence[str], vocab: Sequence[str]) -> list[str]:
    """The words of the prompts that the model never saw, so it ignores them (in order, once
    each); a background colour it does not know reads "red (as a background)"."""
    known, found = set(vocab), []
    for prompt in prompts:
        for word in words(prompt):
            if word in known or word in FILLER:
                continue
            shown = f"{word[3:]} (as a background)" if word.startswith("bg_") else word
            if shown not in found:
                found.append(shown)
    return found


class TextEncoder(nn.Module):
    """The sum of one learned vector per word (the empty prompt has a vector of its own).

    A transformer with mean pooling was tried first: it let the prompt's shape word reach the
    image far more slowly than this plain sum, which keeps every word's full weight.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(cfg.vocab) + 2, cfg.text_dim)

    def forward(self, tokens: Tensor) -> Tensor:
        return (self.embed(tokens) * (tokens != PAD)[..., None]).sum(1)


class ResBlock(nn.Module):
    """Two 3x3 convolutions; the embedding sets a scale and shift between them."""

    def __init__(self, cin: int, cout: int, emb_dim: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(8, cin), nn.GroupNorm(8, cout)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[..., None, None].chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        return h + self.skip(x)


class SelfAttention2d(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.qkv, self.proj = nn.Conv2d(ch, 3 * ch, 1), nn.Conv2d(ch, ch, 1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).view(b, 3, 4, c // 4, h * w).transpose(-1, -2).unbind(1)
        out = F.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(b, c, h, w)
        return x + self.proj(out)


class UNet(nn.Module):
    """A U-Net over 2x2 patches: 16x16, 8x8 and 4x4 grids, self-attention at 4x4.

    Working on patches (pixel unshuffle) keeps the cost at a quarter of a pixel-level
    network, which is what lets the text-to-video defaults run on two CPU cores.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        c1, c2, c3 = cfg.channels
        e = cfg.emb_dim
        self.text = TextEncoder(cfg)
        self.time_mlp = nn.Sequential(nn.Linear(64, e), nn.SiLU(), nn.Linear(e, e))
        self.text_proj = nn.Linear(cfg.text_dim, e)
        self.stem = nn.Conv2d(12, c1, 3, padding=1)
        self.down1, self.down2 = ResBlock(c1, c1, e), ResBlock(c2, c2, e)
        self.pool1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.pool2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.mid1, self.mid2 = ResBlock(c3, c3, e), ResBlock(c3, c3, e)
        self.attn = SelfAttention2d(c3)
        self.up2 = ResBlock(c3 + c2, c2, e)
        self.up1 = ResBlock(c2 + c1, c1, e)
        self.out = nn.Sequential(nn.GroupNorm(8, c1), nn.SiLU(), nn.Conv2d(c1, 12, 3, padding=1))

    def embed(self, t: Tensor, text: Tensor) -> Tensor:
        """t in [0, 1]; text is the pooled prompt vector from `self.text`."""
        half = 32
        freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)
        angles = 1000 * t[:, None] * freqs[None]
        temb = self.time_mlp(torch.cat([angles.sin(), angles.cos()], dim=1))
        return F.silu(temb + self.text_proj(text))

    def forward(self, x: Tensor, t: Tensor, text: Tensor) -> Tensor:
        emb = self.embed(t, text)
        h1 = self.down1(self.stem(F.pixel_unshuffle(x, 2)), emb)
        h2 = self.down2(self.pool1(h1), emb)
        h = self.mid1(self.pool2(h2), emb)
        h = self.mid2(self.attn(h), emb)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.up2(torch.cat([h, h2], dim=1), emb)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.up1(torch.cat([h, h1], dim=1), emb)
        return F.pixel_shuffle(self.out(h), 2)


def alpha_sigma(t: Tensor, shift: float) -> tuple[Tensor, Tensor]:
    """Signal and noise scales at time t in [0, 1]: the cosine schedule, log-SNR shifted by
    2 log(shift) (shift < 1: noisier)."""
    angle = (t.clamp(0, 1) * 0.98 + 0.01) * math.pi / 2
    log_snr = -2 * torch.log(torch.tan(angle)) + 2 * math.log(shift)
    return torch.sigmoid(log_snr).sqrt(), torch.sigmoid(-log_snr).sqrt()


def matching_time(t: float, shift: float) -> float:
    """The time at which this (shifted) schedule is as noisy as the plain cosine schedule is
    at t: how image-to-image turns a prompt strength into a starting point."""
    angle = (min(max(t, 0.0), 1.0) * 0.98 + 0.01) * math.pi / 2
    shifted = math.atan(shift * math.tan(angle))
    return min(max((shifted * 2 / math.pi - 0.01) / 0.98, 0.0), 1.0)


def training_loss(model: UNet, images: Tensor, tokens: Tensor, gen: torch.Generator) -> Tensor:
    """v-prediction MSE at uniformly drawn times."""
    t = torch.rand(images.shape[0], generator=gen)
    noise = torch.randn(images.shape, generator=gen)
    a, s = (v[:, None, None, None] for v in alpha_sigma(t, model.cfg.shift))
    noisy = a * images + s * noise
    target = a * noise - s * images
    return F.mse_loss(model(noisy, t, model.text(tokens)), target)


class Diffusion:
    """A trained denoiser plus its tokenizer, ready to sample."""

    def __init__(self, model: UNet, cfg: Config, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.cfg = cfg
        self.device = device
        self.tokenize = Tokenizer(cfg.vocab, cfg.max_tokens)

    @classmethod
    def load(cls, path: Path, device: torch.device) -> Diffusion:
        tensors, meta = load_weights(path)
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(meta["config"]).items()
        }
        cfg = Config(**fields)
        model = UNet(cfg)
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
        return cls(model, cfg, device)

    def ignored_words(self, prompts: Sequence[str]) -> list[str]:
        """Words of the prompts this model does not know and so ignores."""
        return unknown_words(prompts, self.cfg.vocab)

    @torch.inference_mode()
    def encode(self, prompts: Sequence[str]) -> Tensor:
        return self.model.text(self.tokenize(prompts).to(self.device))

    @torch.inference_mode()
    def sample(
        self,
        noise: Tensor,
        cond: Tensor,
        uncond: Tensor,
        steps: int,
        guidance: float,
        start: float = 1.0,
        init: Tensor | None = None,
        on_step: Callable[[int], None] | None = None,
        blend: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:
        """DDIM (eta = 0) from time `start` to 0; returns images in [-1, 1].

        With `init` (images in [-1, 1]) and `start` < 1 this is SDEdit: `init` is noised to
        time `start` with `noise` and then denoised under the prompt.

        With `blend = (cond_b, w)`, sample i follows a mixture of two prompts: its guided
        direction is (1 - w[i]) times that of cond[i] plus w[i] times that of cond_b[i]
        (composable diffusion, Liu et al. 2022), which morphs one picture into another where
        interpolating the prompt vectors would jump between them.
        """
        noise, cond, uncond = noise.to(self.device), cond.to(self.device), uncond.to(self.device)
        times = torch.linspace(start, 0.0, steps + 1, device=self.device)
        shift = self.cfg.shift
        x = noise
        if init is not None:
            a, s = alpha_sigma(times[:1], shift)
            x = a * init.to(self.device) + s * noise
        for i in range(steps):
            t, t_next = times[i], times[i + 1]
            tt = t.expand(x.shape[0])
            if blend is None:
                v = self._guided_v(x, tt, cond, uncond, guidance)
            else:
                v = self._blended_v(x, tt, cond, uncond, guidance, *blend)
            a, s = alpha_sigma(t, shift)
            x0 = (a * x - s * v).clamp(-1, 1)
            if i == steps - 1:  # the last step returns the clean prediction
                x = x0
            else:
                a_next, s_next = alpha_sigma(t_next, shift)
                x = a_next * x0 + s_next * (x - a * x0) / s
            if on_step is not None:
                on_step(i)
        return x

    def _guided_v(self, x: Tensor, t: Tensor, cond: Tensor, uncond: Tensor, g: float) -> Tensor:
        if g == 1.0:
            return self.model(x, t, cond)
        both = self.model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([cond, uncond]))
        v_cond, v_uncond = both.chunk(2)
        return v_uncond + g * (v_cond - v_uncond)

    def _blended_v(
        self,
        x: Tensor,
        t: Tensor,
        cond: Tensor,
        uncond: Tensor,
        g: float,
        cond_b: Tensor,
        w: Tensor,
    ) -> Tensor:
        """Guided v for a per-sample mixture of two prompts; each prompt is run only for the
        samples that give it some weight."""
        w = w.to(x.device)
        a, b = w < 1, w > 0
        out = self.model(
            torch.cat([x, x[a], x[b]]),
            torch.cat([t, t[a], t[b]]),
            torch.cat([uncond, cond[a], cond_b.to(x.device)[b]]),
        )
        v_uncond, v_a, v_b = out.split([len(x), int(a.sum()), int(b.sum())])
        v_cond = torch.zeros_like(x)
        v_cond[a] += (1 - w[a])[:, None, None, None] * v_a
        v_cond[b] += w[b][:, None, None, None] * v_b
        return v_uncond + g * (v_cond - v_uncond)


def save_weights(model: UNet, cfg: Config, path: Path) -> None:
    """Half-precision tensors plus the JSON config in the safetensors metadata."""
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"config": json.dumps(asdict(cfg))})


def load_weights(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    return load_file(str(path)), meta


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] NCHW floats to NHWC uint8 on the CPU."""
    return ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()


def resolve_seed(seed: int | None) -> int:
    """The seed to use, drawn at random when none was given, and logged either way."""
    if seed is None or seed < 0:
        seed = int.from_bytes(os.urandom(4), "big") >> 1
    print(f"Using seed: {seed}")
    return seed


def seeded_noise(n: int, size: int, seed: int) -> Tensor:
    """Gaussian noise drawn on the CPU, so a seed gives the same image on any device."""
    return torch.randn((n, 3, size, size), generator=torch.Generator().manual_seed(seed))


def fit(sample: np.ndarray, width: int, height: int) -> Image.Image:
    """Upscale a square HWC uint8 sample to width x height without distorting it.

    The shorter side of the output shows the whole sample; the longer side is filled with the
    median colour of the sample's outer two pixels (the scenes have plain backgrounds; copying
    the edge pixels outwards instead would draw streaks).
    """
    side = sample.shape[0]
    scale = min(width, height) / side
    pad_x = max(0, round(width / scale) - side)
    pad_y = max(0, round(height / scale) - side)
    ring = np.concatenate(
        [
            sample[:2].reshape(-1, 3),
            sample[-2:].reshape(-1, 3),
            sample[:, :2].reshape(-1, 3),
            sample[:, -2:].reshape(-1, 3),
        ]
    )
    canvas = np.empty((side + pad_y, side + pad_x, 3), np.uint8)
    canvas[:] = np.median(ring, axis=0).astype(np.uint8)
    canvas[pad_y // 2 : pad_y // 2 + side, pad_x // 2 : pad_x // 2 + side] = sample
    return Image.fromarray(canvas).resize((width, height), Image.Resampling.BICUBIC)
