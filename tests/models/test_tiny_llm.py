"""pier/tiny-llm: streams text as it samples, honours its inputs, matches its model card."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.models.conftest import BUILTIN, call, import_predict, require

SLUG = "tiny-llm"


@pytest.fixture(scope="module")
def predictor(load_predictor: Any) -> Any:
    return load_predictor(SLUG)


def test_streams_tokens_as_they_are_sampled(predictor: Any) -> None:
    stream = call(predictor, seed=1, max_new_tokens=40)
    first = next(stream)  # a generator: the first token exists before the rest are sampled
    assert isinstance(first, str) and first
    rest = list(stream)
    text = first + "".join(rest)
    assert len(rest) >= 20
    assert 1 <= len(text.encode()) <= 40


def test_seed_and_greedy_decoding_are_reproducible(predictor: Any) -> None:
    def run(**kw: Any) -> str:
        return "".join(call(predictor, max_new_tokens=60, **kw))

    assert run(seed=5) == run(seed=5)
    assert run(seed=5) != run(seed=6)
    assert run(temperature=0.0, seed=1) == run(temperature=0.0, seed=2)


def test_writes_docstring_english(predictor: Any) -> None:
    text = "".join(call(predictor, prompt="Return the", temperature=0.0, max_new_tokens=80))
    words = re.findall(r"[a-z]+", text.lower())
    common = {"the", "a", "of", "to", "is", "and", "if", "in", "for", "object", "string", "list"}
    assert len(words) >= 8 and sum(w in common for w in words) >= 2, text


def test_multibyte_characters_are_never_split(predictor: Any, monkeypatch: Any) -> None:
    torch = require("torch")
    gpt = import_predict(SLUG).gpt
    planned = iter("é—a".encode())
    monkeypatch.setattr(gpt, "sample_next", lambda *_: next(planned))
    chunks = list(gpt.generate(predictor.model, "x", 6, 1.0, 1.0, torch.Generator()))
    assert chunks == ["é", "—", "a"]


def test_model_card_reports_the_held_out_loss_in_the_weights() -> None:
    require("torch")
    gpt = import_predict(SLUG).gpt
    _, meta = gpt.load(BUILTIN / SLUG / "model.safetensors", require("torch").device("cpu"))
    card = (BUILTIN / SLUG / "README.md").read_text()
    assert f"{meta['held_out_loss']:.3f}" in card
