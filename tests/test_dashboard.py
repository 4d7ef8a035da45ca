"""The dashboard: its model and sliders, and the page in a real headless Chromium (Debian's chromium
driven by Playwright): load, press Step, move the seed slider and Reset, check the plot changed.
The same browser checks that the HTML report opens with the network cut off."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from sim.dashboard import DASHBOARD_PANELS, DASHBOARD_PARAMETERS, DashboardModel, indicator_figure, model_parameters
from sim.macro import LAST_YEAR
from sim.parameters import load_declaration
from sim.plotting import SHORT_TITLES

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "outputs" / "dashboard_screenshot.png"
SCALE = 0.005
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    """Debian's chromium (or SIM_CHROMIUM); playwright's own browser download is not used."""
    candidates = [os.environ.get("SIM_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


# ---------------------------------------------------------------- without a browser
def test_dashboard_model_takes_slider_values_and_stops_at_the_horizon():
    model = DashboardModel(seed=3, scale=SCALE, scenario=object(), innovation_zeta=0.4, srdi_recognition_rate=0.5)
    assert model.params["innovation_zeta"] == 0.4 and model.params["srdi_recognition_rate"] == 0.5 and model.seed == 3
    assert model.running and model.year == 2012
    model.step()
    assert model.year == 2013 and len(model.records) == 2 and model.running
    while model.running:
        model.step()
    assert model.year == LAST_YEAR


def test_sliders_come_from_the_parameter_declaration():
    params = model_parameters(SCALE)
    declared = load_declaration()
    assert list(params) == ["seed", *DASHBOARD_PARAMETERS, "scale"] and params["scale"] == SCALE
    assert params["seed"].min == 1 and not params["seed"].is_float_slider
    for name in DASHBOARD_PARAMETERS:
        slider, p = params[name], declared[name]
        assert (slider.min, slider.max) == (p.lower, p.upper) and p.lower <= slider.value <= p.upper
        assert slider.label == f"{name} ({p.unit})"


def test_indicator_figure_grows_with_the_model():
    model = DashboardModel(seed=1, scale=SCALE)
    model.step()
    model.step()
    figure = indicator_figure(model, DASHBOARD_PANELS[0])
    assert [a.get_title() for a in figure.axes] == [SHORT_TITLES[v] for v in DASHBOARD_PANELS[0]]
    assert all(a.get_ylabel() for a in figure.axes)
    line = next(line for line in figure.axes[0].get_lines() if line.get_label().endswith(": median"))
    assert list(line.get_xdata()) == [2012, 2013, 2014]
    assert "year 2014" in figure.get_suptitle()


# ---------------------------------------------------------------- in the browser
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip("no chromium found (Debian: apt-get install chromium; or set SIM_CHROMIUM); .ci/run installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dashboard_server(tmp_path):
    """`sim dashboard` on a free port of 127.0.0.1; yields its URL; stops it afterwards."""
    port = free_port()
    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", "--port", str(port), "--scale", str(SCALE)],
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"dashboard server exited with {server.returncode}:\n{log.read()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("dashboard server did not answer within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the process group this fixture started
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def plot_sources(page) -> list[str]:
    return page.locator("img").evaluate_all("images => images.map(i => i.src).filter(s => s.startsWith('data:') || s.startsWith('blob:'))")


def test_dashboard_steps_and_reseeds_in_chromium(chromium, dashboard_server):
    """Step redraws both plots for 2013; the seed slider then Reset rebuilds the model with seed 2."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(dashboard_server)
    page.get_by_text(re.compile(r"^Year 2012 .*seed 1, scale 0.005")).wait_for(timeout=60_000)
    page.wait_for_function("document.querySelectorAll('img').length >= 2", timeout=30_000)
    assert page.get_by_text("innovation_zeta (1/researcher-year)").count() == 1
    before = plot_sources(page)
    assert len(before) == 2

    page.get_by_role("button", name="Step").click()
    page.get_by_text(re.compile(r"^Year 2013 ")).wait_for(timeout=60_000)
    page.wait_for_function("(old) => { const s = [...document.querySelectorAll('img')].map(i => i.src); "
                           "return s.length >= 2 && s.every(x => !old.includes(x)); }", arg=before, timeout=30_000)
    stepped = plot_sources(page)
    assert all(source not in before for source in stepped)  # both plots redrawn with the new year
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    seed = page.locator(".v-input", has=page.locator("label", has_text=re.compile(r"^seed$"))).get_by_role("slider")
    seed.focus()
    seed.press("ArrowRight")
    assert seed.get_attribute("aria-valuenow") == "2"
    page.get_by_role("button", name="Reset").click()  # a new model from the sliders: seed 2, back to 2012
    page.get_by_text(re.compile(r"^Year 2012 .*seed 2, scale 0.005")).wait_for(timeout=60_000)
    page.wait_for_function("(old) => [...document.querySelectorAll('img')].map(i => i.src).every(x => !old.includes(x))",
                           arg=stepped, timeout=30_000)
    page.close()


def test_report_opens_without_network(chromium, tmp_path):
    """Every request other than the file itself is refused; the figures must still load."""
    from sim.report import build_report
    from sim.runner import ensemble
    from sim.scenario import load_scenario

    result = ensemble(load_scenario(ROOT / "tests" / "data" / "valid_small.toml"), [1], 0.01)
    report = tmp_path / "report.html"
    report.write_text(build_report({"tiny": result}, ["manufacturing_va"]), encoding="utf-8")
    page = chromium.new_page()
    refused = []
    page.route(re.compile(r"^(?!file:).*"), lambda route: (refused.append(route.request.url), route.abort()))
    page.goto(report.as_uri())
    assert page.locator("h2").all_inner_texts() == ["Scenario definitions", "Key indicators", "Official goals",
                                                     "Fit to the documents' figures", "Figures", "Provenance"]
    widths = page.locator("img").evaluate_all("images => images.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == 1 and widths[0] > 300  # decoded: a one-panel figure is about 400 px wide
    assert refused == []
    page.close()
