"""A real browser for the integration tests: headless Chromium driven through Selenium (Debian's
chromium, chromium-driver and python3-selenium, which scripts/test installs).

    with Browser('test_name', width=360, height=640) as b:
        b.get('http://127.0.0.1:%d/track/%s' % (port, code))
        b.page_source()           # the page's HTML as the browser has it
        b.requests()              # every URL the page asked for (Chrome's Network events)
        b.screenshot('th')        # <build dir>/screenshots/test_name-th.png, the whole page

Each Browser has its own temporary profile (deleted on close), a phone-sized viewport (CDP device
metrics: width x height CSS pixels, a touch screen; mobile=False: a desktop screen of that size
with a mouse, as the operator console's tests use), Chrome's background traffic switched off,
and records every request of its pages through the performance log, so that a test can assert
that no other host was contacted. close() quits through WebDriver, then makes sure the
chromedriver and browser processes it started (by PID, never by name) are gone.

A missing browser is an error, never a skip: scripts/test installs it, so its absence is a
broken test machine. Screenshots go to <build dir>/screenshots/ (the build dir is the folder of
ESS_ROUTER_BIN, e.g. build/ or build-san/)."""

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

CHROMIUM = os.environ.get('ESS_CHROMIUM') or '/usr/bin/chromium'
CHROMEDRIVER = os.environ.get('ESS_CHROMEDRIVER') or '/usr/bin/chromedriver'
DEBIAN_PYTHON_PACKAGES = '/usr/lib/python3/dist-packages'

# LINE's in-app browser on Android announces itself like this (the page has nothing specific to
# it; the tests read the page as LINE's users would).
LINE_USER_AGENT = ('Mozilla/5.0 (Linux; Android 13; SM-A145F Build/TP1A.220624.014; wv) '
                   'AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 '
                   'Mobile Safari/537.36 Line/13.21.0/IAB')


def _selenium():
    """The selenium package: the interpreter's own, else Debian's python3-selenium (an
    interpreter from elsewhere, pyenv say, does not see /usr/lib/python3/dist-packages)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        if os.path.isdir(DEBIAN_PYTHON_PACKAGES) and DEBIAN_PYTHON_PACKAGES not in sys.path:
            sys.path.append(DEBIAN_PYTHON_PACKAGES)
        try:
            import selenium  # noqa: F401
        except ImportError:
            raise RuntimeError('selenium is not installed: apt-get install python3-selenium '
                               '(scripts/test installs it)')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    return webdriver, Service


def build_dir():
    """The build directory: the folder of ESS_ROUTER_BIN, else build/ at the repository root."""
    binary = os.environ.get('ESS_ROUTER_BIN')
    if binary:
        return os.path.dirname(os.path.abspath(binary))
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, '..', '..', 'build'))


def screenshot_dir():
    d = os.path.join(build_dir(), 'screenshots')
    os.makedirs(d, exist_ok=True)
    return d


def _children(pid):
    """PIDs whose parent is pid (from /proc)."""
    out = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as f:
                stat = f.read().decode('ascii', 'replace')
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rfind(')') + 2:].split()
        if len(fields) > 1 and fields[1] == str(pid):
            out.append(int(name))
    return out


def _descendants(pid):
    """pid's children, their children, and so on."""
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in out:
                out.append(child)
                todo.append(child)
    return out


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            stat = f.read().decode('ascii', 'replace')
    except OSError:
        return False
    return stat[stat.rfind(')') + 2:][:1] != 'Z'  # a zombie is gone but for its parent's wait


class Browser:
    def __init__(self, name, width=360, height=640, user_agent=None, javascript=True,
                 accept_language=None, mobile=True):
        for path, package in ((CHROMIUM, 'chromium'), (CHROMEDRIVER, 'chromium-driver')):
            if not os.access(path, os.X_OK):
                raise RuntimeError('%s is not installed (%s missing): apt-get install %s '
                                   '(scripts/test installs it)' % (package, path, package))
        webdriver, Service = _selenium()
        self.name = name
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix='ess-chromium-')
        self._seen = []
        self.driver = None
        self.pids = []
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                    '--user-data-dir=' + self.profile, '--window-size=%d,%d' % (width, height),
                    '--no-first-run', '--no-default-browser-check', '--disable-extensions',
                    '--disable-background-networking', '--disable-component-update',
                    '--disable-sync', '--disable-default-apps', '--metrics-recording-only',
                    '--disable-client-side-phishing-detection', '--password-store=basic',
                    '--disable-features=Translate,OptimizationHints,MediaRouter,'
                    'InterestFeedContentSuggestions,AutofillServerCommunication',
                    '--hide-scrollbars', '--force-color-profile=srgb'):
            opts.add_argument(arg)
        if user_agent:
            opts.add_argument('--user-agent=' + user_agent)
        prefs = {}
        if accept_language:
            prefs['intl.accept_languages'] = accept_language
        if not javascript:
            prefs['profile.managed_default_content_settings.javascript'] = 2
        if prefs:
            opts.add_experimental_option('prefs', prefs)
        opts.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
        log_path = os.path.join(self.profile, 'chromedriver.log')
        service = Service(executable_path=CHROMEDRIVER, log_path=log_path)
        try:
            self.driver = webdriver.Chrome(service=service, options=opts)
        except Exception:
            self._reap(service)
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.service = service
        if service.process is not None:
            self.pids = [service.process.pid] + _descendants(service.process.pid)
        self.driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': 2 if mobile else 1,
            'mobile': bool(mobile)})
        if mobile:
            self.driver.execute_cdp_cmd('Emulation.setTouchEmulationEnabled', {'enabled': True})
        self.driver.execute_cdp_cmd('Network.enable', {})
        self.clear_requests()  # the start page's, not a test's

    # ------------------------------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def get(self, url):
        self.driver.get(url)
        self._collect()

    def reload(self):
        self.driver.refresh()
        self._collect()

    def page_source(self):
        return self.driver.page_source

    def current_url(self):
        return self.driver.current_url

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self):
        return self.find('body').text

    def _collect(self):
        """Moves the performance log's Network events into self._seen: (url, method, status)."""
        for entry in self.driver.get_log('performance'):
            try:
                msg = json.loads(entry['message'])['message']
            except (KeyError, ValueError):
                continue
            method, params = msg.get('method'), msg.get('params', {})
            if method == 'Network.requestWillBeSent':
                req = params.get('request', {})
                self._seen.append({'url': req.get('url', ''), 'method': req.get('method'),
                                   'type': params.get('type'), 'id': params.get('requestId'),
                                   'status': None, 'bytes': 0})
            elif method == 'Network.responseReceived':
                rid = params.get('requestId')
                for r in reversed(self._seen):
                    if r['id'] == rid:
                        r['status'] = params.get('response', {}).get('status')
                        break
            elif method == 'Network.loadingFinished':
                rid = params.get('requestId')
                for r in reversed(self._seen):
                    if r['id'] == rid:
                        r['bytes'] = int(params.get('encodedDataLength') or 0)
                        break

    def requests(self):
        """Every request the browser's pages made so far: dicts of url, method, type (Document,
        Stylesheet, Image...), status and bytes (as transferred, headers included)."""
        self._collect()
        return list(self._seen)

    def clear_requests(self):
        self._collect()
        self._seen = []

    def other_hosts(self, allowed_origin):
        """The requests that went anywhere but allowed_origin ('http://127.0.0.1:PORT'); data:
        and about: URLs are not requests to a host."""
        out = []
        for r in self.requests():
            u = urllib.parse.urlsplit(r['url'])
            if u.scheme in ('data', 'about', 'blob', 'chrome', 'chrome-untrusted', 'devtools', ''):
                continue  # not a request to a host (chrome:// is the browser's own pages)
            if '%s://%s' % (u.scheme, u.netloc) != allowed_origin:
                out.append(r['url'])
        return out

    def screenshot(self, label):
        """The whole page as a PNG in <build dir>/screenshots/<name>-<label>.png; its path."""
        import base64
        metrics = self.driver.execute_cdp_cmd('Page.getLayoutMetrics', {})
        size = metrics.get('cssContentSize') or metrics.get('contentSize')
        height = max(int(size['height']), self.height)
        shot = self.driver.execute_cdp_cmd('Page.captureScreenshot', {
            'format': 'png', 'captureBeyondViewport': True,
            'clip': {'x': 0, 'y': 0, 'width': self.width, 'height': height, 'scale': 1}})
        path = os.path.join(screenshot_dir(), '%s-%s.png' % (self.name, label))
        with open(path, 'wb') as f:
            f.write(base64.b64decode(shot['data']))
        return path

    def page_width(self):
        """The document's scroll width in CSS pixels (wider than the viewport: sideways scroll)."""
        metrics = self.driver.execute_cdp_cmd('Page.getLayoutMetrics', {})
        size = metrics.get('cssContentSize') or metrics.get('contentSize')
        return int(size['width'])

    # ------------------------------------------------------------------------------------------

    def _reap(self, service, timeout=10.0):
        """Waits for the processes this browser started to end; SIGTERM then SIGKILL, by PID,
        those that do not."""
        pids = list(self.pids)
        proc = getattr(service, 'process', None)
        if proc is not None and proc.pid not in pids:
            pids.append(proc.pid)
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                for pid in pids:
                    if _alive(pid):
                        try:
                            os.kill(pid, sig)
                        except ProcessLookupError:
                            pass
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and any(_alive(p) for p in pids):
                if proc is not None:
                    proc.poll()
                time.sleep(0.05)
            if not any(_alive(p) for p in pids):
                break
        if proc is not None:
            try:
                proc.wait(timeout=1)
            except Exception:
                pass

    def close(self):
        if self.driver is None:
            return
        driver, self.driver = self.driver, None
        if self.service.process is not None:
            # the browser and its helpers, known now that they all run
            self.pids = sorted(set(self.pids + _descendants(self.service.process.pid)))
        try:
            driver.quit()
        finally:
            self._reap(self.service)
            shutil.rmtree(self.profile, ignore_errors=True)
