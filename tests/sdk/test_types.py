"""The author-facing types, the scope, the `cog` shim, and a light `import pier`."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

import pier
from pier import BasePredictor, CancelationException, Input, Path, Secret, current_scope
from pier.sdk.input import FieldInfo
from pier.sdk.scope import Scope, set_current_scope

ROOT = pathlib.Path(pier.__file__).resolve().parents[1]


def test_path_is_a_posix_path() -> None:
    path = Path("/tmp/a.png")
    assert isinstance(path, pathlib.PosixPath) and path.name == "a.png"
    assert isinstance(path.parent, Path)


def test_secret_hides_its_value() -> None:
    token = Secret("abc")
    assert token.get_secret_value() == "abc"
    assert str(token) == "**********" and repr(token) == "Secret('**********')"
    assert f"{token}" == "**********"
    assert Secret("abc") == token and Secret("x") != token
    assert str(Secret("")) == ""


def test_input_keeps_its_options() -> None:
    info = Input(description="d", ge=1, le=2, choices=iter(["a"]), deprecated=True)
    assert isinstance(info, FieldInfo)
    assert (info.description, info.ge, info.le, info.choices) == ("d", 1, 2, ("a",))
    assert not info.has_default and Input(default=None).has_default


def test_cancelation_is_not_an_exception() -> None:
    assert issubclass(CancelationException, BaseException)
    assert not issubclass(CancelationException, Exception)


def test_base_predictor_defaults() -> None:
    predictor = BasePredictor()
    assert predictor.setup() is None
    with pytest.raises(NotImplementedError):
        predictor.predict()


def test_scope_outside_the_runner() -> None:
    scope = current_scope()
    scope.record_metric("n", 1)
    scope.set_progress(1, 2)
    assert scope.context == {}
    scope.record_metric("seed", 7)
    scope.record_metric("ignored_words", ("dolphin", "crates"))
    assert scope.metrics["ignored_words"] == ["dolphin", "crates"]
    for bad in ({"a": 1}, True, [None], object()):
        with pytest.raises(TypeError):
            scope.record_metric("bad", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        scope.record_metric("bad", float("nan"))


def test_scope_hooks() -> None:
    seen: list[tuple[str, object]] = []

    class Hooks:
        def metric(self, name: str, value: object) -> None:
            seen.append(("metric", (name, value)))

        def progress(self, current: int, total: int) -> None:
            seen.append(("progress", (current, total)))

    set_current_scope(Scope({"id": "p1"}, Hooks()))
    try:
        pier.emit_metric("tokens", 3)
        current_scope().set_progress(7, 5)
        assert current_scope().context == {"id": "p1"}
    finally:
        set_current_scope(None)
    assert seen == [("metric", ("tokens", 3)), ("progress", (5, 5))]


def test_basemodel_fields_take_pier_types() -> None:
    class Out(pier.BaseModel):
        image: Path
        token: Secret | None = None
        model_name: str = "x"  # allowed: no protected namespace warning

    out = Out(image="/tmp/x.png", token="k")  # type: ignore[arg-type]
    assert isinstance(out.image, Path) and isinstance(out.token, Secret)
    assert json.loads(out.model_dump_json())["image"] == "/tmp/x.png"
    assert out.model_json_schema()["properties"]["image"] == {
        "format": "uri",
        "title": "Image",
        "type": "string",
    }


def _python(code: str, *path: str) -> str:
    env_path = ":".join([*path, str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return done.stdout.strip()


def test_import_pier_stays_light() -> None:
    code = (
        "import sys, pier; "
        "heavy = ['fastapi', 'starlette', 'sqlalchemy', 'httpx', 'uvicorn', 'pydantic']; "
        "print([m for m in heavy if m in sys.modules])"
    )
    assert _python(code) == "[]"


def test_cog_shim_reexports_pier() -> None:
    code = (
        "import cog, pier, pier.sdk.types as t; "
        "from cog.server.exceptions import CancelationException; "
        "from cog.types import Path, Secret, BaseModel; "
        "from cog.predictor import BasePredictor; "
        "print(cog.Path is pier.Path is Path, cog.BaseModel is BaseModel is pier.BaseModel, "
        "CancelationException is pier.CancelationException, "
        "BasePredictor is pier.BasePredictor, cog.__version__)"
    )
    assert _python(code, str(ROOT / "pier" / "_shim")) == "True True True True 0.16.12"
