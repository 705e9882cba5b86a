"""What tests/report_browser.py and tests/compare_browser.py share: running
under Debian's python3 (which has python3-selenium), starting headless
Chromium with its console and network logs, waiting for a page to say it is
drawn, the ok/FAIL counting, and the checks every page must pass (no console
error or warning, no request but the file itself).

Import it before selenium, and call use_system_python(__file__) first."""
import base64
import json
import os
import sys
import time
import urllib.parse

SYSTEM_PYTHON = "/usr/bin/python3"
CHROMEDRIVER = "/usr/bin/chromedriver"


def use_system_python(script):
    """Re-run script under /usr/bin/python3 when this python3 (a pyenv or a
    venv first on PATH) lacks selenium; print a skip and exit 77 when none has it."""
    try:
        import selenium  # noqa: F401 (only whether it is there)
        return
    except ImportError:
        pass
    if (os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
            and not os.environ.get("NNCL_BROWSER_CHECK_REEXEC")):
        os.environ["NNCL_BROWSER_CHECK_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(script)] + sys.argv[1:])
    print("skip: python3-selenium is not installed")
    print("0 passed, 0 failed")
    sys.exit(77)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok: " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL: " + what + (" (" + detail + ")" if detail else ""), flush=True)
        return cond


def finish(c):
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


def start(page, width=1400):
    """Headless Chromium with its console and network logged, and the page's
    file:// URL; or an exit code when the page or the driver is missing."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    path = os.path.abspath(page)
    if not os.path.isfile(path):
        print("FAIL: %s does not exist" % path)
        print("0 passed, 1 failed")
        return 1, None
    if not os.path.exists(CHROMEDRIVER):
        print("skip: %s is not installed (apt-get install chromium-driver)" % CHROMEDRIVER)
        print("0 passed, 0 failed")
        return 77, None
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=%d,1000" % width,
                "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except WebDriverException as e:
        print("FAIL: could not start headless Chromium: %s" % str(e).strip().splitlines()[0])
        print("0 passed, 1 failed")
        return 1, None
    driver.set_page_load_timeout(90)
    driver.set_script_timeout(60)
    return driver, "file://" + urllib.parse.quote(path)


def load(driver, url, timeout=60):
    """Open url and wait for body[data-ready=1]: (ready, milliseconds taken)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    t0 = time.time()
    driver.get(url)
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(
            lambda d: d.execute_script("return document.body && document.body.dataset.ready === '1'"))
        ready = True
    except TimeoutException:
        ready = False
    return ready, (time.time() - t0) * 1000


def check_console_and_network(driver, c, url):
    """No console error or warning, and no request but the page itself
    (data: and blob: URLs are the page's own)."""
    bad = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
    c.check(not bad, "no console errors or warnings",
            "; ".join("%s %s" % (e.get("level"), e.get("message", "")[:300]) for e in bad[:5]))
    requests = []
    for e in driver.get_log("performance"):
        try:
            m = json.loads(e["message"])["message"]
        except (KeyError, ValueError):
            continue
        if m.get("method") in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            u = (m.get("params", {}).get("request") or {}).get("url") or m.get("params", {}).get("url", "")
            requests.append(u)
    page = url.split("#")[0]
    foreign = sorted(set(u for u in requests if u.split("#")[0] != page and not u.startswith(("data:", "blob:"))))
    c.check(not foreign, "no network request but the file itself (%d requests seen)" % len(requests),
            ", ".join(foreign[:5]))


def full_page_png(driver, path):
    """A screenshot of the whole page, not just the window."""
    driver.execute_script("window.scrollTo(0, 0)")
    m = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = m.get("cssContentSize") or m["contentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "fromSurface": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
