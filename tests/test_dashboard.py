"""The dashboard: its sliders, model, baseline comparison and figures, and the page in a real headless
Chromium (Debian's chromium driven by Playwright): load it, check that every slider shows its value
and has a usable track, that no framework label is left, and that the server prints no warning;
move a lever slider and a parameter slider and check that the charts change, then go back to the
baseline. The same browser checks that the HTML report opens with the network cut off."""

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

import numpy as np
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

import sim.dashboard as dashboard
from sim.dashboard import (DASHBOARD_PANELS, DASHBOARD_PARAMETERS, BASELINE_LABEL, SETTING_LABEL, DashboardModel, Setting,
                           compare, comparison_figure, comparison_rows, lever_settings, lever_sliders, number,
                           parameter_sliders, setting_from, slider_step, table_html)
from sim.errors import ScenarioError
from sim.levers import DEFAULT_END_YEAR, DEFAULT_START_YEAR, LEVER_NAMES, load_levers
from sim.macro import FIRST_YEAR, LAST_YEAR
from sim.parameters import load_declaration, resolve
from sim.runner import simulate
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "outputs" / "dashboard_screenshot.png"
SCALE = 0.005
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PANEL_VARIABLES = tuple(v for panel in DASHBOARD_PANELS for v in panel)


def find_chromium() -> str | None:
    """Debian's chromium (or SIM_CHROMIUM); playwright's own browser download is not used."""
    candidates = [os.environ.get("SIM_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


# ---------------------------------------------------------------- without a browser
def check_reaches_its_range(spec, lower: float, upper: float, start: float) -> None:
    """The slider's first and last positions are the bounds, position 0 is the start, and a step is
    about a hundredth of the range."""
    first, last = spec.positions
    assert (spec.value_at(first), spec.value_at(0), spec.value_at(last)) == (lower, start, upper)
    assert spec.value_at(first - 1) == lower and spec.value_at(last + 1) == upper
    assert (upper - lower) / 100 <= spec.step <= (upper - lower) / 40
    assert all(spec.position_of(spec.value_at(k)) == k for k in range(first + 1, last))


def test_lever_sliders_come_from_the_lever_declaration():
    sliders, declared = lever_sliders(), load_levers()
    assert [s.name for s in sliders] == list(LEVER_NAMES) == list(declared)
    for spec in sliders:
        lever = declared[spec.name]
        assert (spec.lower, spec.upper, spec.start, spec.unit) == (lever.lower, lever.upper, 0.0, lever.unit)
        check_reaches_its_range(spec, lever.lower, lever.upper, 0.0)
        assert spec.caption == f"{lever.unit}; {lever.lower:g} to {lever.upper:g}; 0 = not pulled"
    trade = next(s for s in sliders if s.name == "trade_shock")
    assert trade.positions == (-45, 50) and trade.value_at(-1) == -2.0  # -90 to 100 in steps of 2, from 0


def test_parameter_sliders_start_at_the_calibrated_values_within_the_declared_bounds():
    sliders, declared, calibrated = parameter_sliders(), load_declaration(), resolve()
    assert [s.name for s in sliders] == list(DASHBOARD_PARAMETERS)
    for spec in sliders:
        p = declared[spec.name]
        check_reaches_its_range(spec, p.lower, p.upper, calibrated[spec.name])
        assert spec.caption.startswith(f"{p.unit}; {p.lower:g} to {p.upper:g}; calibrated ")
    zeta = next(s for s in sliders if s.name == "innovation_zeta")
    assert zeta.start % zeta.step != 0  # a calibrated value between two steps of the grid still starts the slider


def test_slider_step_is_one_two_or_five_times_a_power_of_ten():
    assert [slider_step(0, upper) for upper in (0.9, 2, 0.5, 2000, 30, 190, 0.06)] == [0.01, 0.02, 0.005, 20, 0.5, 2, 0.001]
    assert slider_step(2013, 2035, integer=True) == 1


def test_lever_values_pass_the_checks_of_a_scenario_file():
    pulled = lever_settings({"digital_subsidy": 0.3, "trade_shock": -20.0})
    assert pulled["digital_subsidy"].describe() == "digital_subsidy=0.3 (2024-2035; firm_class=sme)"
    assert (pulled["trade_shock"].start_year, pulled["trade_shock"].end_year) == (DEFAULT_START_YEAR, DEFAULT_END_YEAR)
    with pytest.raises(ScenarioError, match=r"dashboard: levers.digital_subsidy.intensity: 0.95 is out of bounds"):
        DashboardModel(seed=1, scale=SCALE, levers={"digital_subsidy": 0.95})
    with pytest.raises(ScenarioError, match="unknown lever"):
        lever_settings({"digital_subsidies": 0.3})
    with pytest.raises(ScenarioError, match="innovation_zeta"):
        DashboardModel(seed=1, scale=SCALE, innovation_zeta=3.0)


def test_dashboard_model_takes_the_values_and_stops_at_the_horizon():
    model = DashboardModel(seed=3, scale=SCALE, levers={"rd_superdeduction": 1.0}, innovation_zeta=0.4)
    assert model.params["innovation_zeta"] == 0.4 and model.seed == 3 and model.running and model.year == FIRST_YEAR
    assert model.levers.settings["rd_superdeduction"].intensity == 1.0
    while model.running:
        model.step()
    assert model.year == LAST_YEAR and len(model.records) == LAST_YEAR - FIRST_YEAR + 1


def test_sliders_at_their_start_are_the_baseline():
    levers = {s.name: s.start for s in lever_sliders()}
    parameters = {s.name: s.start for s in parameter_sliders()}
    assert setting_from(2, SCALE, levers, parameters) == Setting(2, SCALE) == Setting(2, SCALE).baseline
    moved = setting_from(2, SCALE, {**levers, "carbon_constraint": 200.0}, {**parameters, "overdue_days_sme": 60.0})
    assert moved.levers == (("carbon_constraint", 200.0),) and moved.parameters == (("overdue_days_sme", 60.0),)
    assert moved.baseline == Setting(2, SCALE)
    assert "carbon_constraint=200 (2024-2035; industry=" in moved.describe() and "overdue_days_sme=60" in moved.describe()


def test_the_baseline_is_the_calibrated_run_without_levers_of_the_same_seed_run_once(monkeypatch):
    runs, simulate_setting = [], dashboard.simulate
    monkeypatch.setattr(dashboard, "simulate", lambda setting: runs.append(setting) or simulate_setting(setting))
    setting = Setting(7, SCALE, (("rd_superdeduction", 2.0),))
    comparison = compare(setting)
    assert runs == [setting, setting.baseline]
    assert compare(Setting(7, SCALE, (("carbon_constraint", 100.0),))).baseline is comparison.baseline  # run once
    assert runs[2:] == [Setting(7, SCALE, (("carbon_constraint", 100.0),))]

    scenario_baseline = simulate(load_scenario(ROOT / "scenarios" / "baseline.toml"), 7, SCALE)
    other_seed = simulate_setting(Setting(8, SCALE))
    for variable in PANEL_VARIABLES:
        np.testing.assert_array_equal(comparison.baseline[variable].values, scenario_baseline[variable].values)
    assert not np.array_equal(comparison.baseline["manufacturing_va"].values, other_seed["manufacturing_va"].values)
    # common random numbers: the two runs are one until the lever acts, then differ
    before = {"year": slice(None, DEFAULT_START_YEAR - 1)}
    after = {"year": slice(DEFAULT_START_YEAR, None)}
    for variable in PANEL_VARIABLES:
        np.testing.assert_array_equal(comparison.current[variable].sel(before).values, comparison.baseline[variable].sel(before).values)
    assert (comparison.current["rd_intensity_mfg"].sel(after) > comparison.baseline["rd_intensity_mfg"].sel(after)).all()


def test_comparison_figure_draws_the_setting_beside_the_grey_dashed_baseline():
    comparison = compare(Setting(1, SCALE, (("carbon_constraint", 500.0),)))
    figure = comparison_figure(comparison, DASHBOARD_PANELS[1])
    assert len(figure.axes) == 4
    axis = figure.axes[3]  # industrial CO2
    lines = {line.get_label(): line for line in axis.get_lines()}
    setting, baseline = lines[SETTING_LABEL], lines[BASELINE_LABEL]
    assert baseline.get_color() == "grey" and baseline.get_linestyle() == "--" and setting.get_linestyle() == "-"
    assert list(baseline.get_xdata()) == list(range(FIRST_YEAR, LAST_YEAR + 1))
    np.testing.assert_array_equal(baseline.get_ydata(), comparison.baseline["industrial_co2"].values[0])
    np.testing.assert_array_equal(setting.get_ydata(), comparison.current["industrial_co2"].values[0])
    assert setting.get_ydata()[-1] < baseline.get_ydata()[-1]  # the carbon price cuts emissions
    labels = figure.legends[0].get_texts()
    assert {t.get_text() for t in labels} >= {SETTING_LABEL, BASELINE_LABEL}
    assert "seed 1, scale 0.005" in figure.get_suptitle()

    rows = comparison_rows(comparison, ("industrial_co2",))
    now, base = setting.get_ydata()[-1], baseline.get_ydata()[-1]
    assert rows == [(str(LAST_YEAR), SETTING_LABEL, BASELINE_LABEL, "difference"),
                    ("Industrial CO2 emissions (Mt CO2)", number(now), number(base), f"{number(now - base, '+')} ({(now - base) / base:+.1%})")]
    assert table_html(rows).count("<tr>") == 2 and "<th" in table_html(rows)
    assert (number(464_812.4), number(3.16123), number(-48_123.0, "+"), number(368.24, "+")) == ("464,812", "3.161", "-48,123", "+368.2")


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


class Server:
    def __init__(self, url: str, log):
        self.url, self.log = url, log

    def output(self) -> str:
        """Everything the server has printed so far (stdout and stderr)."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def printed_address(output: str) -> str | None:
    """The address `sim dashboard` prints ("serving on http://HOST:PORT at scale ...")."""
    match = re.search(r"serving on (http://\S+:\d+) ", output)
    return f"{match.group(1)}/" if match else None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory):
    """`sim dashboard` as a user starts it (its default host) on a free port; yields the address it
    prints, which a user opens, and its output; stops it afterwards."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("dashboard") / "server.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", "--port", str(port), "--scale", str(SCALE)],
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            log.seek(0)
            printed = log.read()
            if server.poll() is not None:
                pytest.fail(f"dashboard server exited with {server.returncode}:\n{printed[-3000:]}")
            url = printed_address(printed)
            if url is not None and answers(url):
                break
            if time.monotonic() > deadline:
                pytest.fail("dashboard server did not answer within 90 s")
            time.sleep(0.3)
        yield Server(url, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the process group this fixture started
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


# The SHA-256 of every plot's PNG: Solara serves each drawing under a new blob: URL, so the URLs
# tell only that the plots were drawn again, not that they changed.
PLOT_DIGESTS = """async () => Promise.all([...document.querySelectorAll('img')].map(async image => {
    const digest = await crypto.subtle.digest('SHA-256', await (await fetch(image.src)).arrayBuffer());
    return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
}))"""


def plots_when(page, wanted, timeout: float = 60) -> list[str]:
    """The digests of the two plots once wanted(digests) holds; fails after `timeout` seconds."""
    deadline, digests = time.monotonic() + timeout, []
    while True:
        try:
            digests = page.evaluate(PLOT_DIGESTS)
        except PlaywrightError:  # a plot replaced while it was read (its URL revoked): read again
            digests = []
        if len(digests) == 2 and wanted(digests):
            return digests
        if time.monotonic() > deadline:
            pytest.fail(f"the plots did not change as expected within {timeout:g} s: {digests}")
        time.sleep(0.3)


def open_dashboard(chromium, server: Server):
    """A page with the dashboard loaded and its first comparison drawn (the first run may compile the model)."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url)
    page.wait_for_function("document.querySelectorAll('img').length >= 2", timeout=90_000)
    return page


def slider(page, name: str):
    return page.locator(f".slider-{name} [role=slider]")


def expect_shown_value(page, name: str, text: str) -> None:
    """The value shown above the slider reads `text` (within a few seconds: the page updates it)."""
    expect(page.locator(f".slider-{name} .slider-value")).to_have_text(text, timeout=10_000)


def test_page_shows_every_slider_with_its_value_and_no_framework_label(chromium, dashboard_server):
    page = open_dashboard(chromium, dashboard_server)
    text = page.inner_text("body")
    for leftover in (r"\bpage \d", r"\btime:", r"runs on solara", r"play interval", r"render interval"):
        assert not re.search(leftover, text, re.IGNORECASE), leftover
    assert page.title() == dashboard.TITLE
    expect(page.locator(".setting-text")).to_have_text(re.compile("^This setting is the baseline"))
    names = ["seed", *LEVER_NAMES, *DASHBOARD_PARAMETERS]
    assert page.locator("[role=slider]").count() == len(names)
    calibrated = resolve()
    expect_shown_value(page, "seed", "seed=1")
    expect_shown_value(page, "digital_subsidy", "digital_subsidy=0 (not pulled)")
    for name in DASHBOARD_PARAMETERS:
        expect_shown_value(page, name, f"{name}={calibrated[name]:.4g}")  # not snapped to the slider's grid
    widths = {name: page.locator(f".slider-{name} .v-slider").bounding_box()["width"] for name in names}
    assert min(widths.values()) > 200, widths  # no track squeezed by its label (two were a dot)
    page.close()


def test_moving_a_lever_and_a_parameter_reruns_against_the_baseline(chromium, dashboard_server):
    page = open_dashboard(chromium, dashboard_server)
    baseline = plots_when(page, lambda digests: True)
    lever = slider(page, "rd_superdeduction")
    lever.focus()
    lever.press("End")
    expect_shown_value(page, "rd_superdeduction", "rd_superdeduction=2 (2024-2035; all firms)")
    expect(page.locator(".setting-text")).to_have_text(re.compile(r"^This setting: levers rd_superdeduction=2 \(2024-2035; all firms\)"))
    with_lever = plots_when(page, lambda digests: digests[1] != baseline[1])  # the R&D intensity panel's figure
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    parameter = slider(page, "overdue_days_sme")
    parameter.focus()
    parameter.press("End")
    expect_shown_value(page, "overdue_days_sme", "overdue_days_sme=180")
    expect(page.locator(".setting-text")).to_contain_text("Parameters: overdue_days_sme=180.")
    plots_when(page, lambda digests: digests != with_lever)

    page.get_by_role("button", name="Back to the baseline").click()
    expect_shown_value(page, "rd_superdeduction", "rd_superdeduction=0 (not pulled)")
    expect_shown_value(page, "overdue_days_sme", "overdue_days_sme=40")
    plots_when(page, lambda digests: digests == baseline)  # the cached baseline, drawn as before
    page.close()


def test_loading_the_page_prints_no_warning(chromium, dashboard_server):
    """Two page loads (and those of the tests before): the server prints its address and nothing else
    (Solara's 15-line UserWarning on the session cookie came with every load)."""
    page = open_dashboard(chromium, dashboard_server)
    page.reload()
    page.wait_for_function("document.querySelectorAll('img').length >= 2", timeout=90_000)
    page.close()
    printed = dashboard_server.output()
    assert "serving on http://localhost:" in printed
    assert not re.search(r"warning|traceback|error", printed, re.IGNORECASE), printed[-3000:]


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
