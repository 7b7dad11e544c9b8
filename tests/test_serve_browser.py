"""The workbench in a real headless browser: Debian's chromium driven by Selenium through chromium-driver.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages chromium and chromium-driver)
and the selenium package; skipped otherwise. Nothing is downloaded (no Selenium Manager).
"""

import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
                       reason="needs Debian's chromium and chromium-driver"),
]

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from serve_live import live_server  # noqa: E402
from serve_night import NIGHT, make_sample_night  # noqa: E402

from qc.serve.app import ServeConfig, create_app  # noqa: E402
from qc.serve.store import ReviewStore  # noqa: E402

PW = "browser-pass-1"


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    night, db = make_sample_night(tmp)
    with ReviewStore(db) as store:
        store.add_user("rita", "reviewer", PW)
        store.add_user("chen", "agent", PW, agent_id="A201")
        store.add_user("leo", "lead", PW, team="二组")
    with live_server(create_app(ServeConfig(nights=[night], db=db, audio_cache=tmp / "audio-cache"))) as url:
        yield url


def _login(driver, url, name):
    driver.delete_all_cookies()
    driver.get(url + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PW)
    _submit(driver, driver.find_element(By.ID, "login"))
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "who")))


def _submit(driver, element):
    """Click a button that posts a form, and wait until the browser has replaced the page.

    Waiting for an element of the next page is not enough: the old page may have one too, and a
    wait that finds it there races the navigation. The click is dispatched by a script: chromedriver's
    own click can fail with "Node with given id does not belong to the document" when the click
    itself starts the navigation.
    """
    old = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script("arguments[0].click();", element)
    WebDriverWait(driver, 15).until(EC.staleness_of(old))


def _text(driver, element_id):
    # read in one script call: after a form post the page is replaced, and an element found
    # before that and read after it raises StaleElementReferenceException
    text = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e === null ? null : e.innerText;", element_id)
    return "" if text is None else text.strip()


def test_review_dispute_overturn_in_chromium(browser, server):
    d, wait = browser, WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    # a reviewer opens the queue; the top call with a deduction is C003 (the forbidden phrase)
    _login(d, server, "rita")
    assert d.current_url.endswith("/queue")
    rows = d.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert [r.get_attribute("data-call") for r in rows][:2] == ["C004", "C003"]
    Select(d.find_element(By.ID, "f-rule")).select_by_visible_text("FORB01")
    _submit(d, d.find_element(By.ID, "filter"))
    top = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#queue tbody tr")))
    assert top.get_attribute("data-call") == "C003"
    _submit(d, top.find_element(By.CSS_SELECTOR, "button.claim"))
    wait.until(EC.presence_of_element_located((By.ID, "submit")))
    machine = float(_text(d, "machine-score"))
    assert _text(d, "reviewed-score") == "—" and _text(d, "prec-FORB01") == "—"

    # play to the evidence second: the player seeks there and the evidence line lights up
    link = d.find_element(By.CSS_SELECTOR, "#f-FORB01 a.jump")
    second = float(link.get_attribute("data-t"))
    link.click()
    wait.until(lambda drv: drv.execute_script("return document.getElementById('player').currentTime") >= second - 0.01)
    assert abs(d.execute_script("return document.getElementById('player').currentTime") - second) < 1.5
    playing = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#transcript .utt.playing")))
    assert float(playing.get_attribute("data-start")) <= second + 0.01
    assert d.execute_script("return document.getElementById('player').error") is None  # the audio decoded

    # mark the forbidden phrase a false positive and submit
    d.find_element(By.CSS_SELECTOR, "input[name='v_FORB01'][value='false_positive']").click()
    d.find_element(By.NAME, "n_FORB01").send_keys("客户转述")
    _submit(d, d.find_element(By.ID, "submit"))
    wait.until(lambda drv: _text(drv, "reviewed-score") != "—")
    reviewed = float(_text(d, "reviewed-score"))
    assert reviewed > machine and float(_text(d, "machine-score")) == machine
    assert _text(d, "prec-FORB01").startswith("0%")  # the rule's precision moved

    # the agent disputes the deduction that is left (TEMP01)
    _login(d, server, "chen")
    _submit(d, d.find_element(By.LINK_TEXT, "C003"))
    form = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.deduction[data-rule='TEMP01'] form.dispute")))
    form.find_element(By.NAME, "reason").send_keys("语气正常，没有不耐烦")
    _submit(d, form.find_element(By.TAG_NAME, "button"))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#disputes .dispute-status")))
    assert _text(d, "reviewed-score") == f"{reviewed}" or float(_text(d, "reviewed-score")) == reviewed

    # the team lead overturns it; the agent sees the score rise and both sides kept
    _login(d, server, "leo")
    d.get(server + "/disputes")
    row = d.find_element(By.CSS_SELECTOR, "tr.dispute-row")
    row.find_element(By.NAME, "note").send_keys("复听无不当")
    _submit(d, row.find_element(By.CSS_SELECTOR, "button.overturn"))
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "tr.dispute-row .dispute-status"), "已撤销扣分"))
    _login(d, server, "chen")
    d.get(f"{server}/call/{NIGHT}/C003")
    final = float(_text(d, "reviewed-score"))
    assert final > reviewed
    page = d.find_element(By.ID, "disputes").text
    assert "语气正常" in page and "复听无不当" in page and re.search(r"已撤销扣分", page)
