"""A byte-level GPT: causal self-attention over raw UTF-8 bytes (vocabulary of 256).

Pre-norm transformer blocks, learned positions, input and output embeddings tied. Weights are
stored in half precision in a safetensors file whose metadata holds the JSON config and the
held-out loss measured when training finished.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

KV = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class Config:
    context: int = 128
    dim: int = 128
    layers: int = 4
    heads: int = 4
    vocab: int = 256


class Block(nn.Module):
    def __init__(self, cfg: Config) -> None:
        super().__init__()
        d = cfg.dim
        self.heads = cfg.heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: Tensor, past: KV | None = None) -> tuple[Tensor, KV]:
        """Causal attention over x; with `past` (cached keys and values), x is one new token."""
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        if past is not None:
            assert n == 1, "with a cache, feed one token at a time"
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=past is None)
        x = x + self.proj(attn.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.norm2(x)), (k, v)


class GPT(nn.Module):
    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.dim)
        self.pos = nn.Parameter(torch.zeros(cfg.context, cfg.dim))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, tokens: Tensor) -> Tensor:
        """(batch, n) byte ids -> (batch, n, 256) next-byte logits."""
        return self.run(tokens, None, 0)[0]

    def run(self, tokens: Tensor, past: list[KV] | None, offset: int) -> tuple[Tensor, list[KV]]:
        """Logits for `tokens` at positions offset.., and every block's keys and values."""
        x = self.embed(tokens) + self.pos[offset : offset + tokens.shape[1]]
        cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if past is None else past[i])
            cache.append(kv)
        return self.norm(x) @ self.embed.weight.T, cache

    def loss(self, tokens: Tensor) -> Tensor:
        """Mean next-byte cross-entropy (nats) over windows of context + 1 bytes."""
        logits = self(tokens[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def sample_next(logits: Tensor, temperature: float, top_p: float, gen: torch.Generator) -> int:
    """Nucleus sampling from one row of logits; temperature 0 means greedy."""
    if temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    sorted_probs, order = probs.sort(descending=True)
    keep = sorted_probs.cumsum(0) - sorted_probs < top_p  # always keeps the most likely byte
    sorted_probs = sorted_probs * keep
    choice = torch.multinomial(sorted_probs.cpu(), 1, generator=gen)
    return int(order[choice.to(order.device)])


@torch.inference_mode()
def generate(
    model: GPT,
    prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    gen: torch.Generator,
) -> Iterator[str]:
    """Yield text as bytes are sampled; multi-byte characters are held until complete.

    Keys and values are cached, so each new byte costs one position. When the window is full,
    it slides by half: the last context/2 bytes are run again at positions 0.., and sampling
    goes on from there with the cache.
    """
    device = model.pos.device
    size = model.cfg.context
    history = list(prompt.encode("utf-8")) or [ord("\n")]
    window = history[-size:]
    logits, cache = model.run(torch.tensor([window], device=device), None, 0)
    position = len(window)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for _ in range(max_new_tokens):
        byte = sample_next(logits[0, -1], temperature, top_p, gen)
        history.append(byte)
        text = decoder.decode(bytes([byte]))
        if text:
            yield text
        if position >= size:
            window = history[-(size // 2) :]
            logits, cache = model.run(torch.tensor([window], device=device), None, 0)
            position = len(window)
        else:
            logits, cache = model.run(torch.tensor([[byte]], device=device), cache, position)
            position += 1
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def save(model: GPT, path: Path, held_out_loss: float) -> None:
    """Half-precision weights; the metadata is one JSON entry (safetensors writes several
    entries in no fixed order, which would make the file's bytes differ between runs)."""
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    info = {"config": asdict(model.cfg), "held_out_loss": round(held_out_loss, 4)}
    save_file(state, str(path), metadata={"pier": json.dumps(info, sort_keys=True)})


def load(path: Path, device: torch.device) -> tuple[GPT, dict[str, Any]]:
    """The model on `device`, and its metadata (`config`, `held_out_loss`)."""
    with safe_open(str(path), framework="pt") as f:
        info: dict[str, Any] = json.loads((f.metadata() or {})["pier"])
    model = GPT(Config(**info["config"]))
    model.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    return model.to(device).eval(), info
