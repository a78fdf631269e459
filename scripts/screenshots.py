"""Screenshots of every playground page, at desktop width and on a 390 px phone.

Starts a real `pier serve` (temporary data dir, port 0), drives Debian's Chromium with
Playwright, and writes PNGs to docs/screenshots/ (or the folder given as the first argument):

    python scripts/screenshots.py [out_dir]
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pier.util import utcnow  # noqa: E402
from scripts.billing_shots import billing_pages  # noqa: E402
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, PierServer  # noqa: E402
from tests.heartbeats import worker_row, write_heartbeat  # noqa: E402

SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
LONG = 60_000


def sample_picture(path: Path) -> Path:
    """A small colourful picture to upload, so the image output has something to show."""
    picture = Image.new("RGB", (480, 320), (250, 244, 232))
    draw = ImageDraw.Draw(picture)
    for i in range(0, 480, 4):
        draw.line([(i, 0), (i, 120)], fill=(40 + i // 3, 90 + i // 8, 200 - i // 4))
    draw.ellipse((60, 140, 220, 300), fill=(236, 72, 153))
    draw.rectangle((260, 150, 420, 290), fill=(79, 70, 229))
    draw.polygon([(340, 130), (440, 300), (240, 300)], fill=(250, 204, 21))
    picture.save(path)
    return path


class Shooter:
    def __init__(self, browser: Any, server: PierServer, out: Path, picture: Path) -> None:
        self.browser = browser
        self.server = server
        self.out = out
        self.picture = picture
        self.taken: list[Path] = []
        self.compare_url: str | None = None  # the comparison run at desktop width

    def page(self, size: str, *, signed_in: bool = True, dark: bool = False) -> Page:
        context = self.browser.new_context(
            viewport=SIZES[size], color_scheme="dark" if dark else "light", device_scale_factor=1
        )
        context.set_default_timeout(30_000)
        if signed_in:
            context.add_init_script(f"localStorage.setItem('pier.token', {self.server.token!r})")
        return context.new_page()

    def go(self, page: Page, path: str) -> None:
        page.goto(self.server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")

    def shot(self, page: Page, name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        page.evaluate("document.activeElement && document.activeElement.blur()")
        # Grow the window to the whole page, so sticky parts sit where they belong.
        size = page.viewport_size or SIZES["desktop"]
        height = int(page.evaluate("document.documentElement.scrollHeight"))
        page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
        page.wait_for_timeout(150)  # let the last frame paint (no state is awaited here)
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        page.set_viewport_size(size)
        self.taken.append(path)
        print("wrote", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        with self.server.api() as client:
            return client.request(method, path, json=body).json()


def run_form(page: Page) -> Any:
    page.get_by_role("button", name="Run").click()
    return page.locator(".run-view")


def pages_for(size: str, s: Shooter) -> None:
    n = 0

    def name(label: str) -> str:
        nonlocal n
        n += 1
        return f"{size}-{n:02d}-{label}"

    signed_out = s.page(size, signed_in=False)
    s.go(signed_out, "/login")
    s.shot(signed_out, name("sign-in"))
    signed_out.context.close()

    page = s.page(size)
    s.go(page, "/")
    s.shot(page, name("gallery"))

    s.go(page, "/models/pier/echo")
    s.shot(page, name("model-form"))
    page.get_by_role("spinbutton", name="Repeat").fill("12")
    run_form(page)
    expect(page.locator(".form-summary")).to_be_visible()
    s.shot(page, name("form-errors"))

    # Queued behind a long prediction, with position and jobs ahead.
    blocker = s.api(
        "POST", "/v1/models/pier/slow/predictions", {"input": {"steps": 400, "delay": 0.05}}
    )
    s.server.wait_for(blocker["id"], ("processing",), timeout=60)
    s.go(page, "/models/pier/slow")
    page.get_by_role("spinbutton", name="Steps").fill("60")
    page.get_by_role("spinbutton", name="Delay").fill("0.2")
    view = run_form(page)
    expect(view.locator(".phase-detail")).to_contain_text("in the queue")
    s.shot(page, name("queued"))
    s.api("POST", f"/v1/predictions/{blocker['id']}/cancel")

    # Running with its progress bar, steps, time left and live logs.
    expect(view.locator(".status-pill")).to_have_text("Running", timeout=LONG)
    bar = view.get_by_role("progressbar")
    bar.evaluate(
        "(bar) => new Promise((done) => { const check = () =>"
        " Number(bar.getAttribute('aria-valuenow')) >= 30 ? done() : setTimeout(check, 50);"
        " check(); })"
    )
    s.shot(page, name("running"))
    view.get_by_role("button", name="Cancel").click()
    expect(view.locator(".status-pill")).to_have_text("Canceled", timeout=LONG)
    s.shot(page, name("canceled"))

    # Text arriving word by word.
    s.go(page, "/models/pier/stream-words")
    page.get_by_role("textbox", name="Text", exact=True).fill(
        "Pier shows every word the moment the model yields it, so a long answer reads like "
        "someone typing instead of a spinner that suddenly turns into a wall of text."
    )
    page.get_by_role("spinbutton", name="Delay").fill("0.15")
    view = run_form(page)
    expect(view.locator(".text-output")).to_contain_text("model yields", timeout=LONG)
    s.shot(page, name("streaming"))
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=LONG)

    # An uploaded image in, an image out, then the full-size view.
    s.go(page, "/models/pier/image-filter")
    page.get_by_label("Image (required)").set_input_files(s.picture)
    expect(page.locator(".file-item")).to_contain_text("Uploaded")
    page.get_by_role("combobox", name="Filter").select_option(label="invert")
    view = run_form(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=LONG)
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    s.shot(page, name("image-output"))
    prediction_id = view.get_attribute("data-prediction-id")
    view.get_by_role("button", name="Full size").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.wait_for_timeout(200)
    full = s.out / f"{name('full-size')}.png"
    page.screenshot(path=str(full))
    print("wrote", full.relative_to(ROOT) if full.is_relative_to(ROOT) else full)
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="API").click()
    s.shot(page, name("api-python"))
    page.get_by_role("tab", name="Node.js").click()
    s.shot(page, name("api-node"))
    page.get_by_role("tab", name="cURL").click()
    s.shot(page, name("api-curl"))
    page.get_by_role("tab", name="Model card").click()
    expect(page.locator(".markdown")).to_be_visible()
    s.shot(page, name("model-card"))

    s.go(page, f"/predictions/{prediction_id}")
    s.shot(page, name("prediction"))
    page.get_by_role("link", name="Tweak").click()
    expect(page.locator(".tweak-notice")).to_be_visible()
    page.wait_for_load_state("networkidle")
    s.shot(page, name("tweak"))
    compare_page(s, page, name("compare"))
    s.go(page, "/predictions")
    expect(page.locator(".history-row").first).to_be_visible()
    page.wait_for_function(MEDIA_READY)
    for box in page.locator(".h-select input").all()[:2]:  # two rows picked for Compare
        box.check()
    s.shot(page, name("history"))
    page.context.close()

    dark = s.page(size, dark=True)
    s.go(dark, "/")
    s.shot(dark, name("dark-gallery"))
    s.go(dark, f"/models/pier/image-filter?prediction={prediction_id}")
    expect(dark.locator(".status-pill")).to_have_text("Succeeded")
    dark.wait_for_function("() => [...document.images].every((i) => i.complete)")
    s.shot(dark, name("dark-model"))
    dark.context.close()
    cluster_page(s, size, name("cluster"))
    seed_words_and_timing(s, size, name)


# Images loaded and the example video showing its first frame.
SHOWN = (
    "() => [...document.images].every((i) => i.complete)"
    " && [...document.querySelectorAll('video')].every((v) => v.readyState >= 2)"
)


def seed_words_and_timing(s: Shooter, size: str, name: Any) -> None:
    """A prompt with words the model does not know (the note beside the prompt), the tweak of
    a prediction whose seed the model picked (seed filled in, the original in the output pane),
    the tweak's page (its link back, the code that repeats it) and the video model's heavy
    defaults (once its example has run)."""
    page = s.page(size)
    small = {"num_inference_steps": "8", "width": "256", "height": "256"}
    s.go(page, "/models/pier/text-to-image")
    page.get_by_role("textbox", name="Prompt", exact=True).fill("a dolphin stacking crates")
    for field, value in small.items():
        page.locator(f'[name="{field}"]').fill(value)
    view = run_form(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=LONG)
    expect(page.locator(".field-note")).to_be_visible()
    page.wait_for_function(SHOWN)
    s.shot(page, name("ignored-words"))
    original = view.get_attribute("data-prediction-id")
    s.go(page, f"/models/pier/text-to-image?tweak={original}")
    expect(page.locator(".original-label")).to_be_visible()
    page.wait_for_function(SHOWN)
    s.shot(page, name("tweak-seed"))
    view = run_form(page)
    expect(view).not_to_have_attribute("data-prediction-id", str(original))
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=LONG)
    s.go(page, f"/predictions/{view.get_attribute('data-prediction-id')}")
    expect(page.locator(".tweaked-from")).to_be_visible()
    page.wait_for_function(SHOWN)
    s.shot(page, name("tweaked-from"))
    deadline = time.monotonic() + 600
    while not (s.api("GET", "/v1/models/pier/text-to-video").get("run_time") or {}).get("heavy"):
        if time.monotonic() > deadline:
            raise RuntimeError("the video model's example did not finish")
        time.sleep(2)
    s.go(page, "/models/pier/text-to-video")
    expect(page.locator(".run-time-note.heavy").first).to_be_visible()
    page.wait_for_function(SHOWN)
    page.wait_for_timeout(1500)  # the video controls' loading ring fades out after the frame
    s.shot(page, name("heavy-defaults"))
    page.context.close()


# Images loaded and videos showing a frame, so a screenshot has no empty boxes.
MEDIA_READY = (
    "() => [...document.images].every((i) => i.complete)"
    " && [...document.querySelectorAll('video')]"
    ".every((v) => v.readyState >= 2 && v.networkState !== 2)"
)

# One prompt on the text-to-image model twice (25 and 8 denoising steps, same seed) and on the
# text-to-video model at small settings, so the comparison takes a minute on two CPU cores.
COMPARE = (
    "/compare?prompt=a+red+star+on+a+black+background"
    '&model=pier/text-to-image&input1={"seed":7}'
    '&model=pier/text-to-image&input2={"seed":7,"num_inference_steps":8}'
    "&model=pier/text-to-video"
    '&input3={"width":256,"height":144,"video_length":25,"infer_steps":12,"seed":1}'
)


def compare_page(s: Shooter, page: Page, label: str) -> None:
    """The compare grid: run at desktop width; on the phone, the same link reopened (the
    address keeps the predictions). At desktop width also the README's two pictures: the grid,
    and the run view of its first cell on the model's page."""
    if s.compare_url is None:
        s.go(page, COMPARE)
        page.get_by_role("button", name="Run all").click()
        expect(page).to_have_url(re.compile("predictions="), timeout=LONG)
        s.compare_url = page.url.removeprefix(s.server.url)
    else:
        s.go(page, s.compare_url)
    pills = page.locator(".compare-cell .status-pill")
    expect(pills).to_have_count(3)
    expect(pills).to_have_text(["Succeeded"] * 3, timeout=4 * LONG)
    page.wait_for_function(MEDIA_READY)
    page.wait_for_timeout(1500)  # the video controls' loading ring fades out after the frame
    s.shot(page, label)
    if label.startswith("desktop"):
        shutil.copy(s.out / f"{label}.png", s.out / "readme-compare.png")
        first = page.locator(".compare-cell .run-view").first.get_attribute("data-prediction-id")
        s.go(page, f"/models/pier/text-to-image?prediction={first}")
        expect(page.locator(".run-view .status-pill")).to_have_text("Succeeded")
        page.set_viewport_size({"width": 1280, "height": 1100})  # the whole output image
        page.wait_for_function(MEDIA_READY)
        page.evaluate("window.scrollTo(0, 0)")
        path = s.out / "readme-run.png"
        page.screenshot(path=str(path), animations="disabled")
        page.set_viewport_size(SIZES["desktop"])
        print("wrote", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def cluster_page(s: Shooter, size: str, label: str) -> None:
    """The operator page (the admin's account menu, "Cluster") of a busy cluster."""
    page = s.page(size)
    jobs = busy_cluster(s)
    s.go(page, "/admin")
    expect(page.locator(".queue-table")).to_be_visible()
    s.shot(page, label)
    page.context.close()
    for job in jobs:
        s.api("POST", f"/v1/predictions/{job}/cancel")


def busy_cluster(s: Shooter) -> list[str]:
    """Work for the operator page: a long prediction running on pier/slow with two waiting
    behind it, and the heartbeat rows of two workers on other machines (one gone quiet),
    written the way a worker writes its own. Returns the predictions' ids."""
    slow = "/v1/models/pier/slow/predictions"
    running = s.api("POST", slow, {"input": {"steps": 400, "delay": 0.05}})
    s.server.wait_for(running["id"], ("processing",), timeout=60)
    waiting = [s.api("POST", slow, {"input": {"steps": 10}})["id"] for _ in range(2)]
    version = s.api("GET", "/v1/models/pier/image-filter")["latest_version"]["id"]
    now = utcnow()
    gpu = worker_row(
        "gpu-box-1-5120",
        1.4,
        host="gpu-box-1",
        pid=5120,
        gpus=["0", "1"],
        models=["pier/image-filter"],
        loaded=[{"model": "pier/image-filter", "version": version, "processes": 2}],
        started_at=now - timedelta(hours=3, minutes=12),
    )
    quiet = worker_row("cpu-box-2-881", 47, host="cpu-box-2", pid=881, slots=4)
    for row in (gpu, quiet):
        write_heartbeat(f"sqlite:///{s.server.data_dir / 'pier.db'}", row)
    # Wait (a few heartbeats at most) until this server's own row shows the running prediction.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        processes = s.api("GET", "/v1/admin/cluster")["processes"]
        if any(p["running"] for p in processes):
            break
        time.sleep(0.2)
    return [running["id"], *waiting]


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        server = PierServer(Path(tmp) / "data").start()
        try:
            picture = sample_picture(Path(tmp) / "shapes.png")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                shooter = Shooter(browser, server, out, picture)
                for size in SIZES:
                    pages_for(size, shooter)
                billing_pages(shooter)  # last: it sets prices, so runs after it cost
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
