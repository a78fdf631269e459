"""GPU placement on a worker with GPUs: the pure bookkeeping with made-up GPU ids, the reading
of nvidia-smi's answer, and what a model process sees (CUDA_VISIBLE_DEVICES) when a Pier with
two (pretend) GPUs runs versions that need one, two or three of them. No GPU is needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pier.dispatch.gpus import GpuError, GpuPlacer, gpus_needed, parse_compute_apps
from tests.conftest import PREDICTORS, Pier


def test_processes_get_free_gpus_of_their_own() -> None:
    placer = GpuPlacer(["0", "1", "2", "3"])
    assert placer.place("a", 1) == ["0"]
    assert placer.place("b", 2) == ["1", "2"]
    assert placer.place("a", 1) == ["0"]  # what it holds already
    assert placer.place("c", 2) is None  # only GPU 3 is free
    assert placer.free() == ["3"]
    assert placer.release("b") == ["1", "2"]
    assert placer.place("c", 2) == ["1", "2"]
    assert placer.place("cpu", 0) == [] and placer.free() == ["3"]
    assert [placer.capacity(n) for n in (0, 1, 2, 3, 5)] == [1, 4, 2, 1, 0]
    with pytest.raises(GpuError, match="needs 5 GPUs, but this worker has 4"):
        placer.place("d", 5)
    with pytest.raises(GpuError, match="must differ"):
        GpuPlacer(["0", "0"])


def test_gpu_need_is_read_from_pier_yaml(tmp_path: Path) -> None:
    assert gpus_needed(tmp_path) == 1
    (tmp_path / "pier.yaml").write_text("gpus: 2\n")
    assert gpus_needed(tmp_path) == 2
    (tmp_path / "pier.yaml").write_text("gpus: lots\n")
    with pytest.raises(GpuError, match="whole number"):
        gpus_needed(tmp_path)


def test_nvidia_smi_answer_is_summed_per_process() -> None:
    text = "1234, 812\n1234, 100\n99, [N/A]\nnot a line\n77, 5\n"
    assert parse_compute_apps(text) == {1234: 912, 77: 5}


def gpu_model(tmp: Path, name: str, pier_yaml: str = "") -> Path:
    target = tmp / name
    target.mkdir()
    shutil.copy(PREDICTORS / "gpu_env.py", target / "predict.py")
    (target / "cog.yaml").write_text('build:\n  gpu: true\npredict: "predict.py:Predictor"\n')
    if pier_yaml:
        (target / "pier.yaml").write_text(pier_yaml)
    return target


async def test_versions_take_turns_on_the_gpus_they_need(pier: Pier) -> None:
    dispatcher = pier.services.dispatcher
    assert not dispatcher.pools  # a worker started with `--gpus 0,1`, as `pier worker` builds it
    dispatcher.gpus, dispatcher.gpu_placer = ["0", "1"], GpuPlacer(["0", "1"])
    await pier.add_model("t/one", gpu_model(pier.tmp, "one"))
    await pier.add_model("t/two", gpu_model(pier.tmp, "two", "gpus: 2\n"))
    await pier.add_model("t/three", gpu_model(pier.tmp, "three", "gpus: 3\n"))
    await pier.add_model("t/none", gpu_model(pier.tmp, "none", "gpus: 0\n"))

    async def run(model: str) -> dict:
        body = (await pier.create(model, {}, wait=30)).json()
        assert body["status"] == "succeeded", body
        return body["output"]

    first = await run("t/one")
    assert first["visible"] == "0"
    assert (await run("t/none"))["visible"] == ""  # asked for no GPU: sees none
    both = await run("t/two")  # the idle t/one process gave its GPU back
    assert both["visible"] == "0,1"
    again = await run("t/one")
    assert again["visible"] == "0" and again["pid"] != first["pid"]
    failed = (await pier.create("t/three", {}, wait=30)).json()
    assert failed["status"] == "failed"
    assert "needs 3 GPUs, but this worker has 2 (0, 1)" in failed["error"]

    await dispatcher.keeper.round()  # the heartbeat the operator view reads
    cluster = (await pier.client.get("/v1/admin/cluster")).json()
    (me,) = [p for p in cluster["processes"] if p["id"] == dispatcher.process_id]
    placed = {item["model"]: item["gpu_processes"] for item in me["loaded"]}
    assert placed["t/one"] == [{"pid": again["pid"], "gpus": ["0"], "memory_mib": None}]


def test_pier_status_shows_each_process_gpus_and_memory() -> None:
    from rich.console import Console

    from pier.cli.status import print_cluster
    from tests.heartbeats import worker_row

    loaded = [
        {
            "model": "acme/painter",
            "version": "a" * 64,
            "processes": 2,
            "gpu_processes": [
                {"pid": 11, "gpus": ["0"], "memory_mib": 812},
                {"pid": 12, "gpus": ["1"], "memory_mib": None},
            ],
        }
    ]
    row = worker_row("w", gpus=["0", "1"], loaded=loaded)
    row["started_at"], row["heartbeat_at"] = (
        row["started_at"].isoformat(),
        row["heartbeat_at"].isoformat(),
    )
    process = {**row, "heartbeat_age": 0.0, "alive": True}
    console = Console(record=True, width=200, color_system=None)
    print_cluster({"time": row["heartbeat_at"], "processes": [process], "queues": []}, console)
    assert "acme/painter:aaaaaaaaaaaa ×2 (GPU 0: 812 MiB; GPU 1)" in console.export_text()
