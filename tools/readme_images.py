#!/usr/bin/env python3
"""The README's pictures of a run report, made from a real run by nncl itself:
sections of report.html as headless Chromium draws them, and nncl report's
own still frame (the video's last frame).

usage: tools/readme_images.py RUN_DIR OUT_DIR   (run from the source tree, after building;
       uses Debian's python3 with python3-selenium and python3-pil)
"""
import os
import subprocess
import sys

SYSTEM_PYTHON = "/usr/bin/python3"
if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.path.exists(SYSTEM_PYTHON):
    os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)

from PIL import Image  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def shrink(path, width):
    """Resize to width and quantise to 256 colours: small files for the repository."""
    im = Image.open(path).convert("RGB")
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    im.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main():
    run, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    subprocess.run(["build/nncl", "report", run, "--png", os.path.join(out, "report-frame.png")], check=True)
    shrink(os.path.join(out, "report-frame.png"), 960)
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--force-device-scale-factor=1"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        d.get("file://" + os.path.abspath(os.path.join(run, "report.html")))
        WebDriverWait(d, 60).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
        d.execute_script("document.documentElement.style.scrollBehavior = 'auto'")
        for section, name in (("glance", "report-glance"), ("network-section", "report-network"),
                              ("tiles-section", "report-tiles"), ("inside-section", "report-inside"),
                              ("test-section", "report-test")):
            el = d.find_element(By.ID, section)
            d.execute_script("arguments[0].scrollIntoView()", el)
            path = os.path.join(out, name + ".png")
            el.screenshot(path)
            shrink(path, 1000)
    finally:
        d.quit()
    for f in sorted(os.listdir(out)):
        print(f, os.path.getsize(os.path.join(out, f)), "bytes")


if __name__ == "__main__":
    main()
