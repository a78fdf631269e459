"""Train tiny-llm, the byte-level GPT, on the standard library's docstrings.

    python training/train_llm.py                         # the shipped weights
    python training/train_llm.py --steps 3 --out /tmp/x

The corpus (training/data/stdlib_docstrings.txt.gz, made by build_corpus.py) is cut into 4 KiB
pieces; every 20th piece is held out. The held-out loss (nats per byte, over every held-out
window) is printed and stored in the weights' metadata.
"""

from __future__ import annotations

import argparse
import gzip
import math
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from build_corpus import CORPUS
from common import BUILTIN, EMA, load_module, seed_everything, warmup_lr

PIECE = 4096
WEIGHTS = "model.safetensors"


def split_corpus(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(train bytes, held-out bytes): every 20th 4 KiB piece is held out."""
    pieces = [data[i : i + PIECE] for i in range(0, len(data), PIECE)]
    held = b"".join(p for i, p in enumerate(pieces) if i % 20 == 19)
    train = b"".join(p for i, p in enumerate(pieces) if i % 20 != 19)
    return np.frombuffer(train, np.uint8), np.frombuffer(held, np.uint8)


def windows(data: np.ndarray, starts: np.ndarray, length: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([data[s : s + length] for s in starts]).astype(np.int64))


@torch.no_grad()
def evaluate(model: Any, data: np.ndarray, context: int, limit: int) -> float:
    """Mean loss over non-overlapping windows of the held-out bytes (at most `limit`)."""
    model.eval()
    starts = np.arange(0, len(data) - context - 1, context)[:limit]
    losses = [model.loss(windows(data, chunk, context + 1)) for chunk in np.array_split(starts, 8)]
    model.train()
    return float(torch.stack(losses).mean())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-windows", type=int, default=100_000)
    p.add_argument("--out", type=Path, default=BUILTIN / "tiny-llm")
    p.add_argument("--checkpoints", type=Path, help="also save EMA weights every 500 steps here")
    return p.parse_args(argv)


def train(args: argparse.Namespace) -> float:
    seed_everything(args.seed, args.threads)
    gpt = load_module(BUILTIN / "tiny-llm" / "gpt.py", "pier_training_gpt")
    with gzip.open(CORPUS, "rb") as f:
        train_bytes, held_bytes = split_corpus(f.read())
    cfg = gpt.Config()
    model = gpt.GPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "pos"]
    other = [p for n, p in model.named_parameters() if p.dim() < 2 or n == "pos"]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    ema = EMA(model, decay=0.995)
    rng = np.random.default_rng(args.seed)
    started, running = time.monotonic(), 0.0
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = warmup_lr(step, args.lr)
        starts = rng.integers(0, len(train_bytes) - cfg.context - 1, size=args.batch)
        loss = model.loss(windows(train_bytes, starts, cfg.context + 1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model)
        running = loss.item() if step == 0 else 0.98 * running + 0.02 * loss.item()
        if step % 200 == 0 or step == args.steps - 1:
            print(
                f"step {step:5d}  loss {running:.4f}  {time.monotonic() - started:6.0f}s",
                flush=True,
            )
        if args.checkpoints and (step + 1) % 500 == 0 and step + 1 < args.steps:
            save_ema(gpt, ema, cfg, held_bytes, args.eval_windows, args.checkpoints, step + 1)
    return save_ema(gpt, ema, cfg, held_bytes, args.eval_windows, args.out, None)


def save_ema(
    gpt: ModuleType,
    ema: EMA,
    cfg: Any,
    held_bytes: np.ndarray,
    eval_windows: int,
    out: Path,
    step: int | None,
) -> float:
    """Save the EMA weights (as WEIGHTS, or stepN.safetensors) with their held-out loss,
    measured as shipped: rounded to half precision."""
    model = gpt.GPT(cfg)
    ema.copy_to(model)
    model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    held_out = evaluate(model, held_bytes, cfg.context, eval_windows)
    bits = held_out / math.log(2)
    where = "final" if step is None else f"step {step}"
    print(f"{where}: held-out loss {held_out:.4f} nats/byte ({bits:.3f} bits/byte)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (WEIGHTS if step is None else f"step{step}.safetensors")
    gpt.save(model, path, held_out)
    print(f"wrote {path}")
    return held_out


if __name__ == "__main__":
    train(parse_args())
