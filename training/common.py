"""Helpers shared by the training scripts: paths, seeding, loading model-directory modules."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = ROOT / "pier" / "builtin"
DIFFUSION_DIRS = tuple(
    BUILTIN / name for name in ("text-to-image", "text-to-video", "image-to-image")
)


def load_module(path: Path, name: str) -> ModuleType:
    """Import a file from a model directory (their names have hyphens, so not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def denoiser_module() -> ModuleType:
    """The canonical copy of the shared diffusion code."""
    return load_module(BUILTIN / "text-to-image" / "denoiser.py", "pier_training_denoiser")


def seed_everything(seed: int, threads: int) -> None:
    """Same seed and thread count give the same weights with the same torch build."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress)))


def warmup_lr(step: int, peak: float, warmup: int = 200) -> float:
    """Linear warm-up, then constant. With the EMA doing the averaging, the weights after N
    steps do not depend on the planned total, so a checkpoint at step N is exactly what a run
    with `--steps N` writes."""
    return peak * min(1.0, (step + 1) / warmup)


class EMA:
    """Exponential moving average of parameters, with the usual warm-up of the decay."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.shadow)
