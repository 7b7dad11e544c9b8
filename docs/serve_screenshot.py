"""Take docs/serve.png: a reviewed call in the workbench, in headless chromium (python docs/serve_screenshot.py)."""

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from serve_live import live_server  # noqa: E402
from serve_night import NIGHT, make_sample_night  # noqa: E402

from qc.serve.app import ServeConfig, create_app  # noqa: E402
from qc.serve.store import ReviewStore  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        night, db = make_sample_night(Path(tmp))
        with ReviewStore(db) as store:
            store.add_user("rita", "reviewer", "screenshot-1")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1000", "--hide-scrollbars"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            with live_server(create_app(ServeConfig(nights=[night], db=db, audio_cache=Path(tmp) / "cache"))) as url:
                driver.get(url + "/login")
                driver.find_element(By.ID, "name").send_keys("rita")
                driver.find_element(By.ID, "password").send_keys("screenshot-1")
                driver.find_element(By.ID, "login").click()
                driver.find_element(By.CSS_SELECTOR, "tr[data-call='C003'] button.claim").click()
                WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "submit"))
                driver.find_element(By.CSS_SELECTOR, "input[name='v_FORB01'][value='false_positive']").click()
                driver.find_element(By.NAME, "n_FORB01").send_keys("客户转述，非坐席原话")
                driver.find_element(By.CSS_SELECTOR, "input[name='v_TEMP01'][value='confirmed']").click()
                driver.find_element(By.ID, "submit").click()
                WebDriverWait(driver, 10).until(lambda d: re.match(r"\d", d.find_element(By.ID, "reviewed-score").text))
                driver.execute_script("document.querySelector('#u4').classList.add('playing'); window.scrollTo(0, 0)")
                out = ROOT / "docs" / "serve.png"
                driver.save_screenshot(str(out))
                print(f"{out} ({out.stat().st_size // 1024} KB) of {NIGHT} C003")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
