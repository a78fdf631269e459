"""An independent judge for the diffusion models: a small CNN that names the object and the
colour in a 32x32 image. It never sees a diffusion sample: it learns from the renderer in
training/scenes.py (train split of the digits) and is checked on held-out digit scans.

    python training/classifier.py                     # writes training/classifier.safetensors
    python training/classifier.py --steps 3 --out /tmp/c.safetensors
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scenes
import torch
import torch.nn.functional as F
from common import lr_at, seed_everything
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

WEIGHTS = Path(__file__).resolve().parent / "classifier.safetensors"


class Judge(nn.Module):
    def __init__(self) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            conv = nn.Conv2d(cin, cout, 3, padding=1)
            return nn.Sequential(conv, nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

        self.features = nn.Sequential(
            block(3, 32),
            block(32, 64),
            block(64, 128),
            block(128, 128),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.objects = nn.Linear(128, len(scenes.OBJECTS))
        self.colours = nn.Linear(128, len(scenes.COLOURS))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(x)
        return self.objects(h), self.colours(h)


def augment(x: Tensor, gen: torch.Generator) -> Tensor:
    """Blur some images and add a little noise, so softer diffusion samples look familiar."""
    n = x.shape[0]
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    pick = (torch.rand(n, 1, 1, 1, generator=gen) < 0.3).float()
    x = pick * blurred + (1 - pick) * x
    return x + 0.04 * torch.randn(x.shape, generator=gen)


def labels(batch: list[scenes.Scene]) -> tuple[Tensor, Tensor]:
    return torch.tensor([s.obj for s in batch]), torch.tensor([s.colour for s in batch])


def train(
    steps: int, batch: int, seed: int, threads: int, out: Path, evaluate: int = 2000
) -> dict[str, float]:
    seed_everything(seed, threads)
    model = Judge()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    rng = np.random.default_rng(seed + 1000)
    gen = torch.Generator().manual_seed(seed + 1000)
    started = time.monotonic()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, 3e-3, warmup=min(100, steps))
        images, _, batch_scenes = scenes.batch(batch, rng)
        objs, cols = labels(batch_scenes)
        obj_logits, col_logits = model(augment(torch.from_numpy(images), gen))
        loss = F.cross_entropy(obj_logits, objs) + F.cross_entropy(col_logits, cols)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.monotonic() - started:5.0f}s")
    model.eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out))
    accuracy = held_out_accuracy(model, np.random.default_rng(seed + 2000), evaluate)
    print(f"wrote {out}; held-out accuracy {accuracy}")
    return accuracy


@torch.inference_mode()
def held_out_accuracy(model: Judge, rng: np.random.Generator, n: int = 2000) -> dict[str, float]:
    """Accuracy on fresh renders that use only the held-out digit scans."""
    images, _, batch_scenes = scenes.batch(n, rng, split="heldout")
    objs, cols = labels(batch_scenes)
    obj_pred, col_pred = classify(model, torch.from_numpy(images))
    return {
        "object": float((obj_pred == objs).float().mean()),
        "colour": float((col_pred == cols).float().mean()),
    }


def load(path: Path = WEIGHTS) -> Judge:
    model = Judge()
    model.load_state_dict(load_file(str(path)))
    return model.eval()


@torch.inference_mode()
def classify(model: Judge, images: Tensor) -> tuple[Tensor, Tensor]:
    """images: (n, 3, 32, 32) in [-1, 1]; returns object and colour indices."""
    obj_logits, col_logits = model(images.float())
    return obj_logits.argmax(1), col_logits.argmax(1)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    p.add_argument("--eval", type=int, default=2000, help="held-out renders to score")
    args = p.parse_args(argv)
    train(args.steps, args.batch, args.seed, args.threads, args.out, args.eval)


if __name__ == "__main__":
    main()
