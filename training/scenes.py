"""Procedural training data for the diffusion models: one coloured object, and its caption.

An object is a shape drawn with PIL (circle, square, ...) or a handwritten digit from
scikit-learn's bundled digits data set (8x8 scans, upscaled and used as an alpha mask). Each
image is drawn at 4x and downsampled, so edges are anti-aliased. Captions come from a few
templates; some drop the colour, the object or everything (the empty caption teaches the
unconditional model that classifier-free guidance needs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

SIZE = 32
SUPER = 4

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 40),
    "green": (50, 180, 60),
    "cyan": (40, 200, 220),
    "blue": (40, 80, 230),
    "purple": (140, 60, 200),
    "pink": (240, 120, 190),
    "white": (245, 245, 245),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "black": (15, 15, 20),
    "gray": (115, 115, 120),
    "white": (240, 240, 240),
}
SHAPES = ("circle", "square", "triangle", "star", "heart", "cross", "diamond", "ring")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
OBJECTS: tuple[str, ...] = SHAPES + tuple(f"digit {d}" for d in range(10))
SYNONYMS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "dot"),
    "square": ("square", "box"),
    "triangle": ("triangle",),
    "star": ("star",),
    "heart": ("heart",),
    "cross": ("cross", "plus sign"),
    "diamond": ("diamond", "rhombus"),
    "ring": ("ring", "donut"),
}
TEMPLATES = (
    "a {c} {o}",
    "{c} {o}",
    "a {c} {o} on a {b} background",
    "a picture of a {c} {o}",
    "a {o} in {c}",
    "{c} {o} on {b}",
    "a {c} {o}, {b} background",
)


@dataclass(frozen=True)
class Jitter:
    """How much an object's size (share of the canvas), place (pixels) and angle vary."""

    size: tuple[float, float]
    shift: int
    rotate: float


WIDE = Jitter(size=(0.5, 0.75), shift=3, rotate=20.0)  # the judge learns from these
TIGHT = Jitter(size=(0.62, 0.72), shift=1, rotate=8.0)  # the diffusion model learns from these


@dataclass(frozen=True)
class Scene:
    obj: int  # index into OBJECTS
    colour: int  # index into COLOURS
    background: int  # index into BACKGROUNDS


@cache
def digit_scans() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's 1,797 8x8 digit scans (values 0..1) and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.images / 16.0).astype(np.float32), data.target.astype(np.int64)


def digit_mask(digit: int, rng: np.random.Generator, split: str) -> Image.Image:
    """An alpha mask of one scan of `digit`; `split` keeps train and held-out scans apart."""
    images, labels = digit_scans()
    idx = np.flatnonzero(labels == digit)
    cut = int(len(idx) * 0.85)
    idx = idx[:cut] if split == "train" else idx[cut:]
    scan = images[rng.choice(idx)]
    return Image.fromarray((scan * 255).astype(np.uint8), mode="L")


def shape_mask(name: str, box: float, rng: np.random.Generator, rotate: float) -> Image.Image:
    """A centred shape of width `box` on a (SIZE*SUPER)^2 canvas, rotated a little."""
    n = SIZE * SUPER
    img = Image.new("L", (n, n), 0)
    draw = ImageDraw.Draw(img)
    c, r = n / 2, box / 2
    if name == "circle":
        draw.ellipse([c - r, c - r, c + r, c + r], fill=255)
    elif name == "ring":
        draw.ellipse([c - r, c - r, c + r, c + r], fill=255)
        draw.ellipse([c - r * 0.55, c - r * 0.55, c + r * 0.55, c + r * 0.55], fill=0)
    elif name == "square":
        draw.polygon(_regular(c, r * 1.3, 4, math.pi / 4), fill=255)
    elif name == "diamond":
        draw.polygon([(c, c - r * 1.1), (c + r * 0.7, c), (c, c + r * 1.1), (c - r * 0.7, c)], 255)
    elif name == "triangle":
        draw.polygon(_regular(c, r * 1.15, 3, -math.pi / 2, dy=r * 0.2), fill=255)
    elif name == "star":
        outer = _regular(c, r * 1.1, 5, -math.pi / 2)
        inner = _regular(c, r * 0.45, 5, -math.pi / 2 + math.pi / 5)
        draw.polygon([p for pair in zip(outer, inner, strict=True) for p in pair], fill=255)
    elif name == "cross":
        w = r * 0.38
        draw.rectangle([c - w, c - r, c + w, c + r], fill=255)
        draw.rectangle([c - r, c - w, c + r, c + w], fill=255)
    elif name == "heart":
        k = r * 0.52
        draw.ellipse([c - 2 * k, c - 1.5 * k, c, c + 0.5 * k], fill=255)
        draw.ellipse([c, c - 1.5 * k, c + 2 * k, c + 0.5 * k], fill=255)
        draw.polygon(
            [(c - 1.93 * k, c - 0.2 * k), (c + 1.93 * k, c - 0.2 * k), (c, c + 2 * k)], 255
        )
    else:
        raise ValueError(f"unknown shape {name!r}")
    if name not in ("circle", "ring"):
        img = img.rotate(float(rng.uniform(-rotate, rotate)), resample=Image.Resampling.BICUBIC)
    return img


def _regular(
    c: float, r: float, k: int, phase: float, dy: float = 0.0
) -> list[tuple[float, float]]:
    angles = [phase + 2 * math.pi * i / k for i in range(k)]
    return [(c + r * math.cos(a), c + dy + r * math.sin(a)) for a in angles]


def render(
    scene: Scene, rng: np.random.Generator, split: str = "train", jitter: Jitter = WIDE
) -> np.ndarray:
    """One SIZE x SIZE x 3 uint8 image of the scene, with jittered size, place and colour."""
    n = SIZE * SUPER
    name = OBJECTS[scene.obj]
    box = float(rng.uniform(*jitter.size)) * n
    if name.startswith("digit"):
        scan = digit_mask(int(name[-1]), rng, split)
        side = int(box * 1.05)
        mask = Image.new("L", (n, n), 0)
        mask.paste(scan.resize((side, side), Image.Resampling.BICUBIC), ((n - side) // 2,) * 2)
    else:
        mask = shape_mask(name, box, rng, jitter.rotate)
    reach = jitter.shift * SUPER
    dx, dy = (int(v) for v in rng.integers(-reach, reach + 1, size=2))
    mask = mask.transform(mask.size, Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy))
    alpha = np.asarray(mask.resize((SIZE, SIZE), Image.Resampling.BOX), np.float32)[..., None]
    fg = _jitter(list(COLOURS.values())[scene.colour], rng, 18)
    bg = _jitter(list(BACKGROUNDS.values())[scene.background], rng, 10)
    out = bg + (fg - bg) * (alpha / 255.0)
    return out.round().clip(0, 255).astype(np.uint8)


def _jitter(rgb: tuple[int, int, int], rng: np.random.Generator, amount: int) -> np.ndarray:
    return np.asarray(rgb, np.float32) + rng.uniform(-amount, amount, size=3).astype(np.float32)


def random_scene(rng: np.random.Generator) -> Scene:
    colour = int(rng.integers(len(COLOURS)))
    backgrounds = [i for i, b in enumerate(BACKGROUNDS) if b != list(COLOURS)[colour]]
    return Scene(int(rng.integers(len(OBJECTS))), colour, int(rng.choice(backgrounds)))


def object_words(obj: int, rng: np.random.Generator) -> str:
    name = OBJECTS[obj]
    if not name.startswith("digit"):
        return str(rng.choice(SYNONYMS[name]))
    d = int(name[-1])
    forms = (
        f"digit {d}",
        f"number {d}",
        DIGIT_WORDS[d],
        f"handwritten {d}",
        f"{DIGIT_WORDS[d]} digit",
        str(d),
        f"number {DIGIT_WORDS[d]}",
    )
    return str(rng.choice(forms))


def caption(scene: Scene, rng: np.random.Generator) -> str:
    """A caption for the scene; ~10% empty, and some leave out the colour or the object."""
    roll = rng.random()
    if roll < 0.1:
        return ""
    colour = list(COLOURS)[scene.colour]
    background = list(BACKGROUNDS)[scene.background]
    obj = object_words(scene.obj, rng)
    if roll < 0.17:
        return f"something {colour}"
    if roll < 0.27:
        return f"a {obj}" if rng.random() < 0.5 else f"a {obj} on a {background} background"
    return str(rng.choice(TEMPLATES)).format(c=colour, o=obj, b=background)


def prompt_for(obj: int, colour: int) -> str:
    """The canonical prompt used by the quality test and the examples."""
    name = OBJECTS[obj]
    if name.startswith("digit"):
        name = f"digit {name[-1]}"
    return f"a {list(COLOURS)[colour]} {name}"


def vocabulary() -> tuple[str, ...]:
    """Every word a caption can contain, sorted (the text encoder's vocabulary)."""
    import re

    words: set[str] = set(COLOURS) | set(BACKGROUNDS) | set(DIGIT_WORDS)
    words |= {str(d) for d in range(10)}
    for text in (*TEMPLATES, *(" ".join(v) for v in SYNONYMS.values())):
        words |= set(re.findall(r"[a-z]+", re.sub(r"\{\w\}", "", text)))
    words |= {"digit", "number", "handwritten", "something", "background"}
    words |= {f"bg_{b}" for b in BACKGROUNDS}  # see `words()` in denoiser.py
    return tuple(sorted(words))


def batch(
    n: int, rng: np.random.Generator, split: str = "train", jitter: Jitter = WIDE
) -> tuple[np.ndarray, list[str], list[Scene]]:
    """n images (n, 3, SIZE, SIZE) float32 in [-1, 1], their captions and their scenes."""
    scenes = [random_scene(rng) for _ in range(n)]
    images = np.stack([render(s, rng, split, jitter) for s in scenes]).astype(np.float32)
    images = images.transpose(0, 3, 1, 2) / 127.5 - 1.0
    return images, [caption(s, rng) for s in scenes], scenes
