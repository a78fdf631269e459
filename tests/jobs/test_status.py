"""The one status vocabulary: its transitions, and every other place that must agree with it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pier.jobs import TERMINAL, TRANSITIONS, Status
from pier.runner import messages as m
from pier.sdk.openapi_base import document

ROOT = Path(__file__).resolve().parents[2]
STATUS_JS = ROOT / "pier" / "web" / "js" / "status.js"


def test_terminal_statuses_have_no_way_out_and_others_reach_them() -> None:
    assert set(TRANSITIONS) == set(Status)
    for status in Status:
        assert status.terminal == (status in TERMINAL)
        assert not TRANSITIONS[status] if status.terminal else TRANSITIONS[status]
    assert TERMINAL == {"succeeded", "failed", "canceled"}  # strings find them too


def test_the_playground_terminal_set_is_the_enum() -> None:
    found = re.search(r"export const TERMINAL = new Set\((\[[^\]]*\])\);", STATUS_JS.read_text())
    assert found, "status.js no longer spells TERMINAL as a Set of a list literal"
    assert set(json.loads(found.group(1))) == set(TERMINAL)


def test_the_openapi_status_enum_is_the_enum_in_cogs_order() -> None:
    schema = document(with_training=False)["components"]["schemas"]["Status"]
    assert schema["enum"] == ["starting", "processing", "succeeded", "canceled", "failed"]
    assert schema["enum"] == [status.value for status in Status]


def test_a_done_message_carries_a_terminal_status() -> None:
    line = m.Done("p1", Status.CANCELED).to_json()
    assert json.loads(line)["status"] == "canceled"
    decoded = m.decode(line)
    assert isinstance(decoded, m.Done) and decoded.status is Status.CANCELED
    for bad in ("processing", "done"):
        with pytest.raises(ValueError):
            m.decode(json.dumps({"type": "done", "id": "p1", "status": bad}))


def test_the_model_process_imports_the_vocabulary_without_anything_else() -> None:
    """The OpenAPI schema is built inside the model process: pier.jobs must stay standard-library
    only, so that a model's environment needs nothing more than before."""
    code = (
        "import sys; before = set(sys.modules); import pier.jobs, pier.sdk.schema; "
        "print(sorted({n.split('.')[0] for n in set(sys.modules) - before} "
        "- set(sys.stdlib_module_names)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.strip() == "['pier']"
