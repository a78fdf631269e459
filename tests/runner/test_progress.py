"""tqdm lines → (percent, current, total)."""

from __future__ import annotations

import pytest

from pier.runner.progress import parse_progress


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 45%|████▌     | 45/100 [00:01<00:01, 40.1it/s]", (45.0, 45, 100)),
        ("100%|██████████| 4/4 [00:00<00:00, 1000.00it/s]\n", (100.0, 4, 4)),
        ("Sampling:  10%|█         | 1/10 [00:00<00:09]", (10.0, 1, 10)),
        ("first\n 20%|██ | 1/5\r 40%|████ | 2/5\r", (40.0, 2, 5)),
        ("  0%|          | 0/3 [00:00<?, ?it/s]", (0.0, 0, 3)),
        ("just a log line", None),
        ("ratio 3/4 done", None),
        (" 50%|x| 1/0", None),
    ],
)
def test_parse_progress(text: str, expected: tuple[float, int, int] | None) -> None:
    assert parse_progress(text) == expected
