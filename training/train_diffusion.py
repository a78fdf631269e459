"""Train the text-conditioned diffusion model shared by text-to-image, text-to-video and
image-to-image, and write its weights into each of those model directories.

    python training/train_diffusion.py                    # the shipped weights (about 25 min)
    python training/train_diffusion.py --steps 3 --out /tmp/x

Seeded: the same seed, step count and thread count give the same file with the same torch
build. Data are drawn on the fly by training/scenes.py (shapes and scikit-learn digits).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scenes
import torch
from common import DIFFUSION_DIRS, EMA, denoiser_module, seed_everything, warmup_lr

WEIGHTS = "denoiser.safetensors"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--out",
        type=Path,
        nargs="*",
        default=list(DIFFUSION_DIRS),
        help="directories to write denoiser.safetensors into (default: the three models)",
    )
    p.add_argument("--checkpoints", type=Path, help="also save EMA weights every 1000 steps here")
    return p.parse_args(argv)


def train(args: argparse.Namespace) -> dict[str, float]:
    seed_everything(args.seed, args.threads)
    D = denoiser_module()
    cfg = D.Config(vocab=scenes.vocabulary(), channels=(48, 96, 128))
    model = D.UNet(cfg)
    tokenize = D.Tokenizer(cfg.vocab, cfg.max_tokens)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    ema = EMA(model, decay=0.999)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    started, running = time.monotonic(), 0.0
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = warmup_lr(step, args.lr)
        images, captions, _ = scenes.batch(args.batch, rng, jitter=scenes.TIGHT)
        loss = D.training_loss(model, torch.from_numpy(images), tokenize(captions), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model)
        running = loss.item() if step == 0 else 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0 or step == args.steps - 1:
            print(
                f"step {step:5d}  loss {running:.4f}  {time.monotonic() - started:6.0f}s",
                flush=True,
            )
        if args.checkpoints and (step + 1) % 1000 == 0:
            snapshot = D.UNet(cfg)
            ema.copy_to(snapshot)
            args.checkpoints.mkdir(parents=True, exist_ok=True)
            D.save_weights(snapshot, cfg, args.checkpoints / f"step{step + 1}.safetensors")
    ema.copy_to(model)
    for out in args.out:
        out.mkdir(parents=True, exist_ok=True)
        D.save_weights(model, cfg, out / WEIGHTS)
        print(f"wrote {out / WEIGHTS}")
    return {"loss": running, "seconds": time.monotonic() - started}


if __name__ == "__main__":
    train(parse_args())
