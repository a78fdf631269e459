"""pier/text-to-image: teach the model a new word from a few pictures (Cog's `train()`).

The new word gets a vector of its own in the text encoder and the whole denoiser is tuned,
DreamBooth-style (Ruiz et al. 2022): half of every batch is the uploaded pictures captioned
with the word, the other half pictures the model drew itself before tuning, captioned with the
prompts that made them. On that second half the target is what the untuned model predicts
(distillation), so the words it already knew, and the empty prompt that guidance relies on,
stay where they were. The result is a complete weights file (3.4 MB) that
`Predictor.setup(weights)` loads in place of the shipped one.
"""

import io
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace

import denoiser as D
import numpy as np
import torch
import torch.nn.functional as F
from cog import BaseModel, Input, Path
from PIL import Image, UnidentifiedImageError
from predict import BASE_WEIGHTS, resolve_weights
from tqdm import tqdm

MAX_IMAGES = 500
MAX_UNPACKED = 512 * 1024 * 1024  # bytes of pictures read out of one zip at most
PRIOR_SAMPLES = 64
PRIOR_STEPS = 12
BATCH = 32  # half new pictures, half prior ones
WARMUP = 20
# The colours and backgrounds the model was trained on (training/scenes.py): a picture whose
# colours are near them is also captioned with their names, so "a green <word>" works.
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
NEAR = 60.0  # RGB distance within which a picture's colour takes one of those names
Look = tuple[str | None, str | None]  # a picture's colour and background names


class TrainingOutput(BaseModel):
    weights: Path


class Trainer:
    """Cog's trainer class: setup() picks the weights to start from, train() tunes them."""

    def setup(self, weights: Path | str | None = None) -> None:
        """Start from the shipped weights, or from those of a version trained before (which
        then knows both its words and the new one)."""
        self.start = resolve_weights(weights) if weights else BASE_WEIGHTS

    def train(
        self,
        images: Path = Input(
            description="A zip of pictures of the new thing (10 to 50 are plenty; PNG, JPEG "
            "or WebP, any size: each is cropped to a centred square and shrunk to 32x32)."
        ),
        word: str = Input(
            description="The new word that names it in prompts, e.g. 'arrow': one word of "
            "letters a-z that the model does not know yet.",
            regex=r"^\s*[A-Za-z]+\s*$",
        ),
        steps: int = Input(
            description="Training steps (32 pictures each).", default=100, ge=10, le=3000
        ),
        learning_rate: float = Input(
            description="Learning rate of the denoiser (AdamW); the new word's vector learns "
            "10 times faster.",
            default=5e-4,
            ge=1e-5,
            le=1e-2,
        ),
        seed: int = Input(description="Random seed; leave empty for a random one.", default=None),
    ) -> TrainingOutput:
        seed = D.resolve_seed(seed)
        torch.manual_seed(seed)
        threads = torch.get_num_threads()
        started = time.monotonic()
        diffusion = D.Diffusion.load(self.start, torch.device("cpu"))
        word = check_word(word, diffusion.cfg.vocab)
        pictures = load_pictures(Path(images))
        looks = [look_of(p) for p in pictures]
        print(f"Teaching the word {word!r} from {len(pictures)} pictures")
        try:
            prior, prior_captions = draw_prior(diffusion, seed)
            model, cfg = add_word(diffusion, word)
            batches = Batches(word, pictures, looks, prior, prior_captions, cfg, seed)
            tune(model, diffusion.model, batches, steps, learning_rate, seed)
        finally:
            torch.set_num_threads(threads)
        out = Path(tempfile.mkdtemp(prefix="text-to-image-train-")) / "weights.safetensors"
        D.save_weights(model, cfg, out)
        print(
            f"Trained in {time.monotonic() - started:.0f}s; weights are {out.stat().st_size} bytes"
        )
        return TrainingOutput(weights=out)


def check_word(word: str, vocab: tuple[str, ...]) -> str:
    """The word, lowercased; refused unless it is one new word of letters."""
    word = word.strip().lower()
    if not (word.isascii() and word.isalpha()):
        raise ValueError(f"word must be one word of letters a-z, not {word!r}")
    if word in vocab or word in D.FILLER or word == "on":
        raise ValueError(f"The model already reads {word!r}: choose a word it does not know")
    return word


def pictures_in(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each file in a zip, or the one file itself when it is not a zip."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        yield "the upload", data
        return
    unpacked = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or "__MACOSX" in name or name.rsplit("/", 1)[-1].startswith("."):
                continue
            unpacked += info.file_size
            if unpacked > MAX_UNPACKED:
                raise ValueError(f"The zip unpacks to more than {MAX_UNPACKED >> 20} MB")
            yield name, archive.read(info)


def load_pictures(path: Path) -> np.ndarray:
    """Every readable picture of the upload, as (n, 3, 32, 32) floats in [-1, 1]."""
    size = D.Config(vocab=()).size
    out, skipped = [], []
    try:
        for name, data in pictures_in(path.read_bytes()):
            try:
                with Image.open(io.BytesIO(data)) as img:
                    out.append(square(img, size))
            except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
                skipped.append(name)
            if len(out) > MAX_IMAGES:
                raise ValueError(f"Upload at most {MAX_IMAGES} pictures")
    except zipfile.BadZipFile as exc:
        raise ValueError(f"images is a broken zip file: {exc}") from None
    if skipped:
        print(f"Skipped {len(skipped)} files that are not pictures: {', '.join(skipped[:5])}")
    if not out:
        raise ValueError("images holds no picture: upload a zip of PNG, JPEG or WebP files")
    return np.stack(out).astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0


def square(img: Image.Image, size: int) -> np.ndarray:
    """A centred square crop shrunk to size x size; transparency is laid over black."""
    img = img.convert("RGBA")
    backdrop = Image.new("RGBA", img.size, (*BACKGROUNDS["black"], 255))
    img = Image.alpha_composite(backdrop, img).convert("RGB")
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    img = img.crop((left, top, left + side, top + side))
    return np.asarray(img.resize((size, size), Image.Resampling.BOX), np.uint8)


def look_of(picture: np.ndarray) -> Look:
    """The names of a picture's colour and background, where they are near known ones. The
    background is the median of the outer two pixels; the colour is the mean of the pixels
    that differ most from it."""
    rgb = (picture.transpose(1, 2, 0) + 1.0) * 127.5
    edges = [rgb[:2], rgb[-2:], rgb[:, :2], rgb[:, -2:]]
    background = np.median(np.concatenate([e.reshape(-1, 3) for e in edges]), axis=0)
    distance = np.linalg.norm(rgb - background, axis=-1)
    if distance.max() < 30:
        return None, nearest(background, BACKGROUNDS)
    colour = rgb[distance > 0.5 * distance.max()].mean(axis=0)
    return nearest(colour, COLOURS), nearest(background, BACKGROUNDS)


def nearest(rgb: np.ndarray, table: dict[str, tuple[int, int, int]]) -> str | None:
    name, ref = min(table.items(), key=lambda kv: float(np.linalg.norm(rgb - kv[1])))
    return name if float(np.linalg.norm(rgb - ref)) < NEAR else None


def caption(word: str, look: Look, rng: np.random.Generator) -> str:
    """A caption for a picture of `word`: half name only the word, the rest add the colour
    and background names the picture has."""
    colour, background = look
    text = f"a {colour} {word}" if colour and rng.random() < 0.5 else f"a {word}"
    if background and rng.random() < 0.35:
        text += f" on a {background} background"
    return text


def draw_prior(diffusion: D.Diffusion, seed: int) -> tuple[torch.Tensor, list[str]]:
    """Pictures the model draws before tuning, for prompts over its whole vocabulary (one in
    eight is the empty prompt). Drawn in four parts; the second and third are timed with all
    threads and with one, and the faster count is kept for the rest of the training: on a
    busy machine one thread is often several times faster than two that wait on each other."""
    rng = np.random.default_rng(seed)
    vocab = diffusion.cfg.vocab
    backgrounds = [w[3:] for w in vocab if w.startswith("bg_")]
    colours = [c for c in COLOURS if c in vocab]
    words = [w for w in vocab if not w.startswith("bg_")]
    captions = []
    for i in range(PRIOR_SAMPLES):
        text = f"a {rng.choice(colours)} {rng.choice(words)}"
        if rng.random() < 0.5:
            text += f" on a {rng.choice(backgrounds)} background"
        captions.append("" if i % 8 == 0 else text)
    noise = D.seeded_noise(len(captions), diffusion.cfg.size, seed)
    many = torch.get_num_threads()
    parts, seconds = [], {}
    for part, chunk in enumerate(np.array_split(np.arange(len(captions)), 4)):
        threads = {0: many, 1: many, 2: 1}.get(part) or min(seconds, key=seconds.__getitem__)
        torch.set_num_threads(threads)
        begun = time.perf_counter()
        cond = diffusion.encode([captions[i] for i in chunk])
        uncond = diffusion.encode([""]).expand(len(chunk), -1)
        parts.append(diffusion.sample(noise[chunk], cond, uncond, PRIOR_STEPS, 4.0))
        if part in (1, 2):  # the first part warms up and is not timed
            seconds[threads] = time.perf_counter() - begun
    print(f"Drew {len(captions)} pictures of known words; training on {threads} thread(s)")
    return torch.cat(parts).cpu(), captions


def add_word(diffusion: D.Diffusion, word: str) -> tuple[D.UNet, D.Config]:
    """A copy of the model whose vocabulary ends with `word`; the word's vector starts at
    random, as long as the others are on average."""
    cfg = replace(diffusion.cfg, vocab=(*diffusion.cfg.vocab, word))
    model = D.UNet(cfg)
    state = diffusion.model.state_dict()
    old = state["text.embed.weight"]
    vector = torch.randn(old.shape[1])
    vector *= old[2:].norm(dim=1).mean() / vector.norm()
    state["text.embed.weight"] = torch.cat([old, vector[None]])
    model.load_state_dict(state)
    return model, cfg


class Batches:
    """Batches of half new pictures with captions naming the word, half prior pictures."""

    def __init__(
        self,
        word: str,
        pictures: np.ndarray,
        looks: list[Look],
        prior: torch.Tensor,
        prior_captions: list[str],
        cfg: D.Config,
        seed: int,
    ) -> None:
        self.word, self.looks = word, looks
        self.pictures, self.prior, self.prior_captions = (
            torch.from_numpy(pictures),
            prior,
            prior_captions,
        )
        self.tokenize = D.Tokenizer(cfg.vocab, cfg.max_tokens)
        self.rng = np.random.default_rng(seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (BATCH, 3, 32, 32) and their tokens; the prior half comes second."""
        half = BATCH // 2
        new = self.rng.integers(len(self.pictures), size=half)
        old = self.rng.integers(len(self.prior), size=BATCH - half)
        captions = [caption(self.word, self.looks[i], self.rng) for i in new]
        captions += [self.prior_captions[i] for i in old]
        images = torch.cat([self.pictures[new], self.prior[old]])
        return images, self.tokenize(captions)


def tune(model: D.UNet, base: D.UNet, batches: Batches, steps: int, lr: float, seed: int) -> None:
    """AdamW on the v-prediction loss. On the prior half of each batch the target is what the
    untuned model `base` predicts for the same noisy picture and prompt."""
    gen = torch.Generator().manual_seed(seed)
    embed = model.text.embed.weight
    rest = [p for p in model.parameters() if p is not embed]
    peaks = (lr, lr * 10)
    opt = torch.optim.AdamW(
        [{"params": rest}, {"params": [embed], "weight_decay": 0.0}], lr=lr, weight_decay=0.01
    )
    half = BATCH // 2
    model.train()
    bar = tqdm(total=steps, desc="training", mininterval=1.0)
    for step in range(steps):
        for group, peak in zip(opt.param_groups, peaks, strict=True):
            group["lr"] = peak * min(1.0, (step + 1) / WARMUP)
        images, tokens = batches.next()
        t = torch.rand(BATCH, generator=gen)
        noise = torch.randn(images.shape, generator=gen)
        a, s = (v[:, None, None, None] for v in D.alpha_sigma(t, model.cfg.shift))
        noisy = a * images + s * noise
        target = a * noise - s * images
        with torch.no_grad():
            target[half:] = base(noisy[half:], t[half:], base.text(tokens[half:]))
        loss = F.mse_loss(model(noisy, t, model.text(tokens)), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
        bar.update(1)
    bar.close()
    model.eval()
