"""Score the text-to-image model with the independent classifier (training/classifier.py).

    python training/evaluate_diffusion.py [--samples 100] [--seed 0]

Prompts cycle through every object (8 shapes, 10 digits) and every colour; all samples are
drawn in one batch at the predictor's default settings. A sample counts as right when the
classifier names both the object and the colour the prompt asked for.
"""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import classifier
import scenes
import torch

Generate = Callable[[list[str], str, int, float, int], torch.Tensor]


def prompt_set(n: int) -> tuple[list[str], list[tuple[int, int]]]:
    """n (prompt, (object, colour)) pairs covering objects and colours evenly."""
    targets = [(i % len(scenes.OBJECTS), (i * 5 + i // 18) % len(scenes.COLOURS)) for i in range(n)]
    return [scenes.prompt_for(o, c) for o, c in targets], targets


def predict_defaults(predictor: Any) -> dict[str, Any]:
    params = inspect.signature(predictor.predict).parameters
    return {k: getattr(p.default, "default", p.default) for k, p in params.items()}


def quality(predictor: Any, n: int = 100, seed: int = 0) -> dict[str, Any]:
    """Accuracy of `predictor.generate` at the defaults of `predictor.predict`."""
    d = predict_defaults(predictor)
    prompts, targets = prompt_set(n)
    samples = predictor.generate(
        prompts, d["negative_prompt"], d["num_inference_steps"], d["guidance_scale"], seed
    )
    images = samples.permute(0, 3, 1, 2).float() / 127.5 - 1.0
    obj_pred, col_pred = classifier.classify(classifier.load(), images)
    objs = torch.tensor([o for o, _ in targets])
    cols = torch.tensor([c for _, c in targets])
    right = (obj_pred == objs) & (col_pred == cols)
    misses = [
        f"{prompts[i]} -> {scenes.OBJECTS[obj_pred[i]]}, {list(scenes.COLOURS)[col_pred[i]]}"
        for i in range(n)
        if not right[i]
    ]
    return {
        "accuracy": float(right.float().mean()),
        "object": float((obj_pred == objs).float().mean()),
        "colour": float((col_pred == cols).float().mean()),
        "misses": misses,
        "samples": samples,
    }


def main() -> None:
    import sys

    from common import BUILTIN

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", help="also save the samples as a PNG grid here")
    p.add_argument("--weights", help="score this weights file instead of the shipped one")
    args = p.parse_args()
    sys.path[:0] = [str(BUILTIN.parent / "_shim"), str(BUILTIN / "text-to-image")]
    from predict import Predictor  # type: ignore[import-not-found]

    predictor = Predictor()
    predictor.setup()
    if args.weights:
        predictor.diffusion = type(predictor.diffusion).load(
            Path(args.weights), predictor.diffusion.device
        )
    result = quality(predictor, args.samples, args.seed)
    if args.grid:
        save_grid(result["samples"], args.grid)
    del result["samples"]
    print(json.dumps(result, indent=2))


def save_grid(samples: torch.Tensor, path: str, columns: int = 10) -> None:
    from PIL import Image

    n, h, w, _ = samples.shape
    rows = (n + columns - 1) // columns
    grid = torch.zeros(rows * h, columns * w, 3, dtype=torch.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = samples[i]
    Image.fromarray(grid.numpy()).resize(
        (columns * w * 4, rows * h * 4), Image.Resampling.NEAREST
    ).save(path)


if __name__ == "__main__":
    main()
