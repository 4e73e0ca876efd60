"""The browser half of the production smoke run (.ci/smoke): Debian's
Chromium, driven by Playwright, against the gunicorn server .ci/smoke
started. Logs in to /admin/, loads the reports list, checks that a
stylesheet is served under its hashed name, compressed and cached for
good, and that /healthz answers.

    python .ci/smoke_browser.py BASE_URL EMAIL PASSWORD
"""

import json
import os
import re
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# The admin theme's (django-unfold's) stylesheet under its hashed name.
HASHED_CSS = re.compile(r"/static/unfold/css/styles\.[0-9a-f]{12}\.css$")


def check(condition, message):
    if not condition:
        raise SystemExit(f"smoke: FAILED: {message}")
    print(f"smoke: ok: {message}")


def main(base_url, email, password):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(20_000)

        page.goto(f"{base_url}/admin/login/?next=/admin/reporting/report/")
        page.fill("#id_username", email)
        page.fill("#id_password", password)
        page.click("#login-form [type=submit]")
        page.wait_for_url(re.compile(r"/admin/reporting/report/$"))
        page.wait_for_selector("#changelist")
        check(page.locator("form[action$='/logout/']").count() >= 1, "logged in to /admin/ as the user the smoke run created")
        rows = page.locator("#result_list tbody tr").count()
        check(rows > 0, f"the reports list shows {rows} report(s)")

        hrefs = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)")
        css = next((href for href in hrefs if HASHED_CSS.search(href)), None)
        check(css is not None, f"the admin's stylesheet has a hashed name ({css or hrefs})")
        response = page.request.get(css, headers={"Accept-Encoding": "gzip"})
        check(response.status == 200, f"{css} answers {response.status}")
        headers = response.headers
        check(headers.get("content-type", "").startswith("text/css"), f"served as {headers.get('content-type')}")
        check(headers.get("content-encoding") == "gzip", f"served compressed ({headers.get('content-encoding')})")
        check("immutable" in headers.get("cache-control", ""), f"cached for good ({headers.get('cache-control')})")
        check("#" in response.text() or "{" in response.text(), "the stylesheet has content")

        response = page.request.get(f"{base_url}/healthz")
        body = response.json()
        check(response.status == 200 and body["status"] == "ok", f"/healthz: {response.status} {json.dumps(body)}")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
