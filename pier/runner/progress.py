"""Progress from tqdm-style log lines: ` 45%|████▌     | 45/100 [00:01<00:01, 40.1it/s]`."""

from __future__ import annotations

import re

# The pattern Replicate's clients use on the last log line, with the first group optional so
# that bars without a percentage (`desc: |████| 3/10`) still count.
_BAR = re.compile(r"^\s*(?:.*?:\s*)?(\d+)%\s*\|.*?\|\s*(\d+)/(\d+)")


def parse_progress(text: str) -> tuple[float, int, int] | None:
    """The progress shown by the last tqdm bar in `text` as (percent, current, total).

    `text` may hold several lines, separated by `\\n` or `\\r`; None when none is a bar.
    """
    for line in reversed(re.split(r"[\r\n]", text)):
        match = _BAR.match(line)
        if match is None:
            continue
        current, total = int(match.group(2)), int(match.group(3))
        if total <= 0:
            continue
        return min(100.0, 100.0 * current / total), current, total
    return None
