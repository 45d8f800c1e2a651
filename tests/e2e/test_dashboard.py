"""The dashboard in a real browser (Debian's Chromium, headless) against the stack `make run`
starts: signing in, the fleet, the demo endpoint's charts and decisions, serving and
benchmarks, live refreshes, a refused key, a phone's width. Screenshots go to build/dashboard/."""
from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from devstack.stack import ROOT
from tests.support.browser import Watched, chromium
from tests.support.make_run import MakeRun

KEY = "dashboard-test-key-0123456789"
CLEARML = {"LOCAL_CLEARML_ACCESS_KEY": "DASHBOARDACCESSKEY0123",
           "LOCAL_CLEARML_SECRET_KEY": "dashboard-secret-" + "s" * 32}
SHOTS = ROOT / "build" / "dashboard"
DRAWN = "[data-points]:not([data-points='0']) canvas"  # inside it: a chart uPlot has drawn with data


def drawn(chart: str) -> str:
    """The canvas of chart `chart`, once drawn with data."""
    return f"[data-chart='{chart}']{DRAWN}"


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    running = MakeRun(tmp_path_factory.mktemp("local-provider"), LOCAL_API_KEY=KEY, SCALE_INTERVAL="5",
                      **CLEARML).start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    running.wait_for_a_worker()
    serve_a_model(running.url)
    run_a_benchmark(running.url)
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def serve_a_model(url: str) -> None:
    """A ClearML serving container registers and reports three times, as clearml-serving does."""
    login = requests.post(f"{url}/auth.login", auth=(CLEARML["LOCAL_CLEARML_ACCESS_KEY"],
                                                      CLEARML["LOCAL_CLEARML_SECRET_KEY"]), timeout=10)
    auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}
    container = {"container_id": "c-1", "endpoint_name": "sentiment", "model_name": "bert",
                 "endpoint_url": "http://10.0.0.5:8080/serve/sentiment"}
    requests.post(f"{url}/serving.register_container", json=container, headers=auth, timeout=10).raise_for_status()
    for n in range(3):
        report = {**container, "uptime_sec": 60 * n, "requests_num": 10 * n, "requests_min": 12.5, "latency_ms": 40 + n,
                  "machine_stats": {"cpu_usage": [20.0, 40.0], "gpu_usage": [75.0]}}
        requests.post(f"{url}/serving.container_status_report", json=report, headers=auth,
                      timeout=10).raise_for_status()


def run_a_benchmark(url: str) -> None:
    """An MLBench run with a metric over time, as mlbench-core's ApiClient posts them."""
    auth = {"Authorization": f"Bearer {KEY}"}
    run = requests.post(f"{url}/api/runs/", json={"name": "resnet", "num_workers": 2}, headers=auth, timeout=10).json()
    for i in range(5):
        metric = {"run_id": run["id"], "name": "train loss", "value": 2.0 - 0.3 * i,
                  "date": f"2026-12-03T10:0{i}:00.000000Z", "metadata": "", "cumulative": False}
        requests.post(f"{url}/api/metrics/", json=metric, headers=auth, timeout=10).raise_for_status()


def sign_in(watched: Watched, url: str, key: str = KEY) -> None:
    watched.page.goto(f"{url}/")
    watched.page.get_by_label("API key").fill(key)
    watched.page.get_by_role("button", name="Sign in").click()


def test_the_operator_signs_in_and_reads_every_view(make_run, browser):
    watched = Watched.open(browser)
    page = watched.page
    sign_in(watched, make_run.url)
    expect(page).to_have_url(re.compile(r"/dashboard/#?/?$"))
    demo = page.locator("article[data-endpoint]", has=page.get_by_role("link", name="demo"))
    expect(demo).to_be_visible()
    expect(demo.locator(DRAWN)).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SHOTS / "fleet.png"), full_page=True)

    demo.get_by_role("link", name="demo").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("demo")
    for chart in ("nworkers", "load", "reqrate", "reliable"):
        expect(page.locator(drawn(chart))).to_be_visible(timeout=20_000)
    decisions = page.get_by_role("table", name="Scaling decisions, the last 20, newest first")
    expect(decisions).to_contain_text("launch", timeout=30_000)
    expect(page.get_by_role("table", name="Workers")).to_contain_text("http://127.0.0.1:", timeout=30_000)
    page.get_by_label("24 h").check()
    expect(page.locator("[data-chart=load]")).to_have_attribute("data-points", re.compile(r"^[1-9]"))
    page.get_by_label("1 h").check()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "endpoint.png"), full_page=True)

    page.get_by_role("link", name="Serving").click()
    expect(page.get_by_role("table", name="Endpoints")).to_contain_text("sentiment")
    expect(page.locator(drawn("serving-requests_min"))).to_be_visible(timeout=15_000)
    expect(page.locator(drawn("serving-gpu_util"))).to_be_visible()
    page.screenshot(path=str(SHOTS / "serving.png"), full_page=True)

    page.get_by_role("link", name="Benchmarks").click()
    expect(page.get_by_role("table", name="Runs, newest first")).to_contain_text("resnet")
    expect(page.locator(drawn("metric-train loss"))).to_be_visible(timeout=15_000)
    expect(page.get_by_role("table", name="Pods")).to_contain_text("demo-worker-")
    page.screenshot(path=str(SHOTS / "benchmarks.png"), full_page=True)

    assert watched.errors == [] and watched.failed_calls == []


def test_each_view_refreshes_itself_and_says_when(make_run, browser):
    watched = Watched.open(browser)
    sign_in(watched, make_run.url)
    status = watched.page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"^Updated \d\d:\d\d:\d\d$"))
    first = status.inner_text()
    expect(status).not_to_have_text(first, timeout=15_000)  # a later refresh, without a reload
    assert watched.errors == [] and watched.failed_calls == []


def test_a_failed_refresh_says_so_and_keeps_what_is_shown(make_run, browser):
    watched = Watched.open(browser)
    page = watched.page
    sign_in(watched, make_run.url)
    expect(page.locator("article[data-endpoint]")).to_have_count(1)
    page.route("**/api/v0/fleet/**", lambda route: route.abort())
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Refresh failed at .*: the API did not answer; "
                                                                r"showing what was read at \d\d:\d\d:\d\d$"),
                                                     timeout=15_000)
    expect(page.get_by_role("link", name="demo")).to_be_visible()
    assert page.locator("#refresh").get_attribute("aria-live") == "off"  # the clock ticking is not read out
    expect(page.locator("#announce")).to_contain_text("Refresh failed")  # a failure is
    page.unroute("**/api/v0/fleet/**")
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Updated "), timeout=15_000)
    expect(page.locator("#announce")).to_have_text("Refreshing again.")


def test_a_wrong_key_is_refused_with_a_visible_message(make_run, browser):
    watched = Watched.open(browser)
    sign_in(watched, make_run.url, key="not-the-key-0123456789")
    expect(watched.page.get_by_role("alert")).to_contain_text("That key was refused")
    expect(watched.page.get_by_role("navigation", name="Views")).to_be_hidden()
    assert watched.page.evaluate("sessionStorage.length") == 0


def test_it_is_signed_in_and_used_by_keyboard_alone(make_run, browser):
    watched = Watched.open(browser)
    page = watched.page
    page.goto(f"{make_run.url}/dashboard/")
    expect(page.get_by_label("API key")).to_be_focused()
    page.keyboard.type(KEY)
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="demo")).to_be_visible()
    for _ in range(10):  # Tab to the Serving link, then follow it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Serving":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Serving")
    assert watched.errors == [] and watched.failed_calls == []


@pytest.mark.parametrize("view", ["", "endpoints/{demo}", "serving", "benchmarks"])
def test_a_phone_width_needs_no_sideways_scrolling(make_run, browser, view):
    watched = Watched.open(browser, width=390, height=844)
    sign_in(watched, make_run.url)
    expect(watched.page.get_by_role("status")).to_have_text(re.compile("^Updated"))
    demo = re.search(r"demo endpoint: .*\(id (\d+)\)", make_run.banner).group(1)
    watched.page.goto(f"{make_run.url}/dashboard/#/{view.format(demo=demo)}")
    expect(watched.page.get_by_role("status")).to_have_text(re.compile("^Updated"), timeout=15_000)
    time.sleep(0.5)  # the charts size themselves to the width after the data arrives
    if view.startswith("endpoints"):
        watched.page.screenshot(path=str(SHOTS / "endpoint-phone.png"), full_page=True)
    assert watched.sideways_overflow() == 0
    assert watched.errors == [] and watched.failed_calls == []


def test_a_card_follows_its_endpoints_new_name_and_state(make_run, browser):
    auth = {"Authorization": f"Bearer {KEY}"}
    endpoint_id = requests.post(f"{make_run.url}/api/v0/endptjobs/", json={"endpoint_name": "before-rename"},
                                headers=auth, timeout=10).json()["result"]
    try:
        watched = Watched.open(browser)
        page = watched.page
        sign_in(watched, make_run.url)
        card = page.locator(f"article[data-endpoint='{endpoint_id}']")
        expect(card.get_by_role("link")).to_have_text("before-rename")
        requests.put(f"{make_run.url}/api/v0/endptjobs/{endpoint_id}/", headers=auth, timeout=10,
                     json={"endpoint_name": "after-rename", "endpoint_state": "suspended"}).raise_for_status()
        expect(card.get_by_role("link")).to_have_text("after-rename", timeout=15_000)
        expect(card.locator(".state")).to_have_text("suspended")
        assert watched.errors == []
    finally:
        requests.delete(f"{make_run.url}/api/v0/endptjobs/{endpoint_id}/", headers=auth, timeout=10)


def test_one_endpoints_history_failing_leaves_the_others_drawn_and_says_which(make_run, browser):
    login = requests.post(f"{make_run.url}/auth.login", auth=(CLEARML["LOCAL_CLEARML_ACCESS_KEY"],
                                                              CLEARML["LOCAL_CLEARML_SECRET_KEY"]), timeout=10)
    auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}
    long_url = "http://10.0.0.7:8080/serve/" + "long" * 490  # near the 2,048 characters ClearML takes
    for container, url in (("c-failing", "http://10.0.0.6:8080/serve/failing"), ("c-long", long_url)):
        report = {"container_id": container, "endpoint_name": container, "model_name": "m", "endpoint_url": url,
                  "requests_num": 1, "requests_min": 1.0, "latency_ms": 5}
        requests.post(f"{make_run.url}/serving.container_status_report", json=report, headers=auth,
                      timeout=10).raise_for_status()
    watched = Watched.open(browser, width=1280, height=900)
    page = watched.page
    page.route(re.compile(r".*/api/v0/serving/history/.*failing.*"), lambda route: route.fulfill(
        status=400, json={"success": False, "error": "invalid_args", "msg": "broken on purpose"}))
    sign_in(watched, make_run.url)
    page.get_by_role("link", name="Serving").click()
    failing = page.locator("article.serving", has=page.get_by_role("heading", name="c-failing"))
    expect(failing).to_contain_text("Its history could not be read: broken on purpose", timeout=15_000)
    for name in ("sentiment", "c-long"):  # one point only, for c-long
        drawn_here = page.locator("article.serving", has=page.get_by_role("heading", name=name)).locator(DRAWN)
        expect(drawn_here.first).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status")).to_have_text(re.compile("^Updated"))
    assert watched.sideways_overflow() == 0  # the long url wraps in its cell at a desktop's width
    assert [e for e in watched.errors if "status of 400" not in e] == []  # the browser logs the refused history


def test_signing_out_leaves_nothing_of_the_account_in_the_page(make_run, browser):
    watched = Watched.open(browser)
    page = watched.page
    sign_in(watched, make_run.url)
    page.get_by_role("link", name="demo").click()
    expect(page).to_have_title(re.compile("demo"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page).to_have_title("GPU control plane")
    assert page.evaluate("document.getElementById('view').childElementCount") == 0
    assert page.evaluate("sessionStorage.length") == 0


def test_a_key_no_header_can_carry_is_refused_as_such(make_run, browser):
    watched = Watched.open(browser)
    sign_in(watched, make_run.url, key="\u043a\u043b\u044e\u0447-0123456789")
    expect(watched.page.get_by_role("alert")).to_contain_text("holds characters no API key has")


def on_serving(make_run, browser):
    """A page signed in, showing the Serving view."""
    watched = Watched.open(browser)
    sign_in(watched, make_run.url)
    watched.page.get_by_role("link", name="Serving").click()
    expect(watched.page.get_by_role("heading", level=1)).to_have_text("Serving")
    return watched.page


def test_signing_out_forgets_where_it_was_and_keeps_saying_why(make_run, browser):
    page = on_serving(make_run, browser)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))  # the next account starts at the fleet
    page.get_by_role("link", name="GPU control plane").click()
    expect(page.get_by_role("alert")).to_have_text("Signed out.")


def test_skip_to_content_moves_focus_within_the_view_shown(make_run, browser):
    page = on_serving(make_run, browser)
    page.get_by_role("link", name="Skip to content").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    expect(page).to_have_url(re.compile(r"#/serving$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Serving")


def test_benchmarks_keep_focus_follow_new_metrics_and_frame_one_point(make_run, browser):
    auth = {"Authorization": f"Bearer {KEY}"}
    url = make_run.url
    for r in requests.get(f"{url}/api/runs/", headers=auth, timeout=10).json():  # one run is active at a time
        if r["state"] == "started":
            requests.patch(f"{url}/api/runs/{r['id']}/", json={"state": "finished"}, headers=auth, timeout=10)
    run_id = requests.post(f"{url}/api/runs/", json={"name": "one-point"}, headers=auth, timeout=10).json()["id"]
    requests.post(f"{url}/api/metrics/", json={"run_id": run_id, "name": "m", "value": 1.0}, headers=auth,
                  timeout=10).raise_for_status()
    watched = Watched.open(browser)
    page = watched.page
    sign_in(watched, url)
    page.goto(f"{url}/dashboard/#/benchmarks/{run_id}")
    chart = page.locator("[data-chart='metric-m']")
    expect(chart).to_have_attribute("data-span", "3600", timeout=15_000)  # the half hour either side of it
    requests.post(f"{url}/api/metrics/", json={"run_id": run_id, "name": "a", "value": 2.0}, headers=auth,
                  timeout=10).raise_for_status()
    expect(page.locator("[data-chart^='metric-']")).to_have_count(2, timeout=15_000)
    assert page.eval_on_selector_all("[data-chart^='metric-']", "els => els.map(e => e.dataset.chart)") == [
        "metric-a", "metric-m"]
    link = page.get_by_role("link", name=f"metrics of run {run_id}")
    link.focus()
    expect(page.get_by_role("status")).not_to_have_text(page.get_by_role("status").inner_text(), timeout=15_000)
    expect(link).to_be_focused()  # a refresh rebuilt the rows
    page.locator("[data-chart='metric-m'] .u-over").hover()  # its middle: the one point
    legend_time = page.locator("[data-chart='metric-m'] .u-legend .u-series").first.locator(".u-value")
    expect(legend_time).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    page.goto(f"{url}/dashboard/#/benchmarks/999999")
    expect(page.get_by_text("There is no run 999999")).to_be_visible(timeout=15_000)
    assert watched.errors == []
