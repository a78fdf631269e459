"""pier/tiny-llm: a byte-level GPT trained on Python's standard-library docstrings."""

import os
from collections.abc import Iterator

import gpt
import torch
from cog import BasePredictor, ConcatenateIterator, Input, Path, current_scope

HERE = Path(__file__).resolve().parent


class Predictor(BasePredictor):
    def setup(self) -> None:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if device.type == "cpu":
            # Its matrices are too small to gain from more threads, and one thread stays fast
            # when other processes keep the cores busy.
            torch.set_num_threads(1)
        self.model, meta = gpt.load(HERE / "model.safetensors", device)
        print(f"Loaded tiny-llm on {device}; held-out loss {meta.get('held_out_loss')} nats/byte")

    def predict(
        self,
        prompt: str = Input(
            description="Text to continue. The model has read only docstrings, so it writes "
            "like one: try a function header such as 'json.dumps(obj)' on its own line.",
            default="Return a new list containing",
        ),
        max_new_tokens: int = Input(
            description="How many bytes to generate.", default=256, ge=1, le=4096
        ),
        temperature: float = Input(
            description="Sampling temperature; 0 is greedy.", default=0.8, ge=0.0, le=5.0
        ),
        top_p: float = Input(
            description="Sample from the smallest set of bytes whose "
            "probabilities add up to top_p.",
            default=0.95,
            ge=0.01,
            le=1.0,
        ),
        seed: int = Input(description="Random seed; leave empty for a random one.", default=None),
    ) -> ConcatenateIterator[str]:
        if seed is None or seed < 0:
            seed = int.from_bytes(os.urandom(4), "big") >> 1
        print(f"Using seed: {seed}")
        current_scope().record_metric("seed", seed)  # a tweak repeats it exactly
        gen = torch.Generator().manual_seed(seed)
        stream: Iterator[str] = gpt.generate(
            self.model, prompt, max_new_tokens, temperature, top_p, gen
        )
        yield from stream
