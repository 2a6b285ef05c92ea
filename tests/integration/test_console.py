"""The operator console (DESIGN.md "The operator console"): the page and its files over plain HTTP
(every path under /console/ answers the one page, with an ETag, no-cache and a Content-Security-
Policy naming only the router and the tile host; /console/config.json), then in headless
Chromium on a 1366x768 desktop screen (tests/integration/browser.py): log-in, log-out and the
lockout; a call logged by clicking the map, its tracking code read back; a second session seeing
a new case in its queue without a reload; a queued case assigned by hand from its candidates,
the far team confirmed; a note and a triage from the case page; the log-in and the new-call form
walked with the keyboard alone; no sideways scrolling in Thai or English; no request to another
host and no Content-Security-Policy violation. The personal data typed into the forms is noted
(env.note_pii) so the harness checks it never reaches the router's log. Screenshots land in
<build dir>/screenshots/console-*.png.

Chromium missing is a failure, not a skip: scripts/test installs it."""

import os
import re
import secrets

import harness
from harness import BKK, RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
PAGES_DIR = os.path.join(harness.REPO_ROOT, 'router', 'pages', 'console')
LEAFLET_IMAGES = '/usr/share/javascript/leaflet/images'
CODE_RE = re.compile(r'^HM-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}$')
WIDTH, HEIGHT = 1366, 768

# Injected before any page script (CDP scripts are not bound by the page's CSP): records every
# Content-Security-Policy violation and uncaught error of the page.
WATCH = ("window.__problems = [];"
         "addEventListener('securitypolicyviolation', function (e) {"
         "  __problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI); });"
         "addEventListener('error', function (e) { __problems.push('error ' + e.message); });"
         "addEventListener('unhandledrejection', function (e) {"
         "  __problems.push('rejection ' + (e.reason && e.reason.message || e.reason)); });")


def new_password():
    return 'pw-' + secrets.token_hex(10)


class ConsolePageTest(RouterTest):
    """The page and its files, over HTTP."""

    def test_every_path_under_console_is_the_page(self):
        env = self.env
        first = env.http('GET', '/console/')
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.headers.get('content-type'), 'text/html; charset=utf-8')
        etag = first.headers.get('etag')
        self.assertTrue(etag and etag.startswith('"'), first.headers)
        page = first.raw.decode('utf-8')
        for path in ('/console', '/console/new', '/console/teams', '/console/cases/01JD0000000000',
                     '/console/anything/else'):
            with self.subTest(path):
                r = env.http('GET', path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.raw.decode('utf-8'), page, 'the same page: ' + path)
                self.assertEqual(r.headers.get('etag'), etag)
                self.assertEqual(r.headers.get('cache-control'), 'no-cache')
                self.assertEqual(r.headers.get('x-frame-options'), 'DENY')
                self.assertEqual(r.headers.get('referrer-policy'), 'no-referrer')
                csp = r.headers.get('content-security-policy', '')
                self.assertIn("default-src 'self'", csp)
                self.assertIn("script-src 'self'", csp)
                self.assertIn("img-src 'self';", csp, 'no tile host when ESS_MAP_TILES is unset')
                self.assertNotIn('unsafe-inline', csp)
                self.assertNotIn('unsafe-eval', csp)
        r = env.http('GET', '/console/new', headers={'If-None-Match': etag})
        self.assertEqual(r.status, 304, r)
        # the page itself: scripts and styles only from files, of this router
        self.assertIsNone(re.search(r'<script(?![^>]*\bsrc=)', page), 'no inline script')
        self.assertNotIn(' style=', page)
        self.assertNotIn('<style', page)
        self.assertNotRegex(page, r'(src|href)="(https?:)?//', 'nothing from another host')
        for url in re.findall(r'(?:src|href)="(/[^"]+)"', page):
            if url.startswith('/console') or url == '/#main':
                continue
            with self.subTest(url):
                r = env.http('GET', url)
                self.assertEqual(r.status, 200, url)
                self.assertEqual(r.headers.get('cache-control'), 'no-cache', url)
        r = env.http('GET', '/console/config.json')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {'map_tiles': None})

    def test_every_file_of_the_console_is_served(self):
        """Each file of router/pages/console/ is compiled in (a file left out of meson.build
        would be a blank screen) and its imports name files that exist."""
        names = sorted(os.listdir(PAGES_DIR))
        self.assertIn('index.html', names)
        for name in names:
            with self.subTest(name):
                with open(os.path.join(PAGES_DIR, name), 'rb') as f:
                    want = f.read()
                r = self.env.http('GET', '/assets/console/' + name)
                self.assertEqual(r.status, 200, name)
                self.assertEqual(r.raw, want, name + ' as built')
                if name.endswith('.js'):
                    self.assertEqual(r.headers.get('content-type'),
                                     'text/javascript; charset=utf-8')
                    text = want.decode('utf-8')
                    for imported in re.findall(r"from '\./([\w.]+)'", text):
                        self.assertIn(imported, names, '%s imports %s' % (name, imported))
                    self.assertNotRegex(text, r'https?://', name + ' names no other host')
        self.assertEqual(self.env.http('GET', '/assets/console/nope.js').status, 404)


class ConsoleTilesTest(RouterTest):
    env_options = {'extra_env': {'ESS_MAP_TILES': 'https://tiles.example.org/osm/{z}/{x}/{y}.png'}}

    def test_the_tile_host_is_allowed_and_told(self):
        r = self.env.http('GET', '/console/cases/x')
        csp = r.headers.get('content-security-policy', '')
        self.assertIn("img-src 'self' https://tiles.example.org;", csp)
        self.assertNotIn('/osm/', csp, 'the origin only')
        r = self.env.http('GET', '/console/config.json')
        self.assertEqual(r.body, {'map_tiles': 'https://tiles.example.org/osm/{z}/{x}/{y}.png'})
        # the public page keeps its own policy
        r = self.env.http('GET', '/track')
        self.assertNotIn('tiles.example.org', r.headers.get('content-security-policy', ''))


class BrowserHelpers(RouterTest):
    """A logged-in operator's browser and the steps the tests share (no tests of its own)."""

    def setUp(self):
        super().setUp()
        from browser import Browser  # a missing browser fails the test
        self.Browser = Browser
        env = self.env
        self.base = 'http://127.0.0.1:%d' % env.router.port
        self.password = new_password()
        self.create_operator('op-17', self.password)

    def create_operator(self, op_id, password, role='operator'):
        env = self.env
        name = 'เจ้าหน้าที่ ' + op_id
        env.note_pii(name)
        env.secrets.add(password)
        r = env.http('PUT', '/v1/operators/' + op_id,
                     {'name': name, 'role': role, 'password': password}, token=env.admin_token)
        self.assertStatus(r, 201, 'create ' + op_id)
        env.secrets.add(r.body['token'])

    # --- the browser

    def open(self, label, path='/console/', lang='th', allowed=()):
        b = self.Browser('console-' + label, WIDTH, HEIGHT, mobile=False,
                         accept_language='th-TH,th' if lang == 'th' else 'en-US,en')
        self.addCleanup(self.check_browser, b, allowed)
        b.driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': WATCH})
        if lang == 'en':  # the console's own choice, as the toggle leaves it
            b.get(self.base + '/assets/icon.svg')
            b.driver.execute_script("localStorage.setItem('ess.console.lang', 'en')")
        b.get(self.base + path)
        return b

    def check_browser(self, b, allowed=()):
        try:
            others = [u for u in b.other_hosts(self.base)
                      if not any(u.startswith(origin + '/') for origin in allowed)]
            self.assertEqual(others, [], 'requests to another host')
            problems = b.driver.execute_script('return window.__problems || []')
            self.assertEqual(problems, [], 'CSP violations or script errors')
        finally:
            b.close()

    def wait_for(self, b, css, timeout=15, message=None):
        return wait_until(lambda: [e for e in b.find_all(css) if e.is_displayed()], timeout,
                          message=message or css)[0]

    def text_of(self, b, css):
        """The rendered text of the first element css names ('' when none), read in one step:
        the screens redraw as the case changes, so an element found may be gone when read."""
        return b.driver.execute_script(
            'var e = document.querySelector(arguments[0]); return e ? e.innerText : ""', css)

    def rows_with(self, b, css, text):
        """The data-case-id of the rows css names whose text holds text, read in one step."""
        return b.driver.execute_script(
            'var want = arguments[1]; return Array.from(document.querySelectorAll(arguments[0]))'
            '.filter(function (r) { return r.innerText.indexOf(want) >= 0; })'
            '.map(function (r) { return r.getAttribute("data-case-id"); })', css, text)

    def active(self, b):
        return b.driver.switch_to.active_element

    def keys(self, b, *keys):
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(b.driver).send_keys(*keys).perform()

    def login(self, b, op_id='op-17', password=None):
        self.wait_for(b, 'input[name=operator_id]')
        b.find('input[name=operator_id]').send_keys(op_id)
        b.find('input[name=password]').send_keys(password or self.password)
        b.find('form.login button[type=submit]').click()
        self.wait_for(b, '#queue-human', message='the queue after logging in')

    def goto(self, b, nav):
        b.find('#nav-' + nav).click()

    def fill(self, b, name, text, pii=True):
        if pii:
            self.env.note_pii(text)
        el = b.find('#main [name=%s]' % name)
        el.clear()
        el.send_keys(text)

    def click_map(self, b, css, dx, dy):
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(b.driver).move_to_element_with_offset(b.find(css), dx, dy).click().perform()

    def no_sideways_scroll(self, b, what):
        self.assertLessEqual(b.page_width(), WIDTH, what + ' scrolls sideways')
        overflow = b.driver.execute_script(
            'return document.documentElement.scrollWidth - document.documentElement.clientWidth')
        self.assertLessEqual(overflow, 0, what)


class ConsoleBrowserTest(BrowserHelpers):
    """The console in a real browser, as an operator uses it."""

    def test_log_in_out_and_lockout(self):
        b = self.open('login')
        self.wait_for(b, 'input[name=operator_id]')
        self.assertEqual(b.find('html').get_attribute('lang'), 'th')
        self.assertEqual(self.active(b).get_attribute('name'), 'operator_id', 'focus starts there')
        b.screenshot('login')
        # a wrong password: said next to the form, the password emptied
        wrong = new_password()
        self.env.secrets.add(wrong)
        b.find('input[name=operator_id]').send_keys('op-17')
        b.find('input[name=password]').send_keys(wrong)
        b.find('form.login button[type=submit]').click()
        msg = self.wait_for(b, '#login-msg')
        wait_until(lambda: 'ไม่ถูกต้อง' in msg.text, message='the wrong-password message')
        self.assertEqual(b.find('input[name=password]').get_attribute('value'), '')
        # right: the queue, with the operator's name and role
        b.find('input[name=operator_id]').clear()
        self.login(b)
        self.assertIn('เจ้าหน้าที่ op-17', self.text_of(b, '#who'))
        self.assertIn(self.text_of(b, 'main h1'), ('คิวงาน',))
        b.screenshot('queue-empty')
        # a reload keeps the session (cookie + CSRF token of this tab)
        b.reload()
        self.wait_for(b, '#queue-human')
        # the session ends behind the page's back (as after ESS_SESSION_IDLE_S): the next call
        # gets 401 and the log-in comes back, saying why
        status = b.driver.execute_script(
            "var s = JSON.parse(sessionStorage.getItem('ess.console.session'));"
            "return fetch('/v1/session', {method: 'DELETE', credentials: 'same-origin',"
            "  headers: {'X-CSRF-Token': s.csrf_token}}).then(r => r.status)")
        self.assertIn(status, (200, 204))
        self.goto(b, 'teams')
        self.wait_for(b, 'input[name=operator_id]', message='the log-in after a 401')
        self.assertIn('หมดเวลาใช้งาน', self.text_of(b, '#login-msg'))
        b.find('input[name=operator_id]').send_keys('op-17')
        b.find('input[name=password]').send_keys(self.password)
        b.find('form.login button[type=submit]').click()
        wait_until(lambda: self.text_of(b, 'main h1') == 'ทีมสหวิชาชีพ',
                   message='back where it was (the teams), after the log-in')
        # log out: the login form again; the old cookie no longer opens the API
        b.find('#logout').click()
        self.wait_for(b, 'input[name=operator_id]')
        self.assertIn('ออกจากระบบแล้ว', self.text_of(b, '#login-msg'))
        status = b.driver.execute_script(
            "return fetch('/v1/teams', {credentials: 'same-origin'}).then(r => r.status)")
        self.assertEqual(status, 401)
        # five failures lock the id: the sixth attempt is told to wait, kindly
        for i in range(6):
            pw = b.find('input[name=password]')
            b.find('input[name=operator_id]').clear()
            b.find('input[name=operator_id]').send_keys('op-17')
            pw.send_keys(wrong)
            b.find('form.login button[type=submit]').click()
            wait_until(lambda: b.find('input[name=password]').get_attribute('value') == '' and
                       not b.find('form.login button[type=submit]').get_attribute('disabled'),
                       message='attempt %d answered' % (i + 1))
        text = self.text_of(b, '#login-msg')
        self.assertIn('กรุณารออีก', text)
        self.assertRegex(text, r'\d+ นาที')
        b.screenshot('locked')

    def test_nothing_personal_after_logging_out(self):
        """A case page opened by its address, then another page, then a log-out: the browser's
        back button must not bring the case's personal data back (its back-forward cache keeps
        whole pages). A search by phone number never puts the number in the address."""
        env = self.env
        story = 'ลูกสาวถูกขังไว้ในห้อง ' + secrets.token_hex(4)
        answer = env.post_incident(category='detention', description=story, expect=(201,))
        case = env.case(answer['case_id'])
        phone = case['reporter']['phone']
        b = self.open('logout-back')
        self.login(b)
        b.get(self.base + '/console/cases/' + answer['case_id'])
        wait_until(lambda: story in self.text_of(b, 'main'), message='the case page')
        # a search by the reporter's phone: found, and the number is not in the address
        b.find('#search-q').send_keys(phone)
        b.find('#search button[type=submit]').click()
        wait_until(lambda: answer['tracking_code'] in self.text_of(b, 'main'),
                   message='the case found by phone')
        digits = ''.join(c for c in phone if c.isdigit())
        self.assertNotIn(digits, b.driver.current_url, 'the phone number in the address')
        b.get(self.base + '/console/teams')
        self.wait_for(b, '#logout').click()
        self.wait_for(b, 'input[name=operator_id]')
        b.driver.back()
        self.wait_for(b, 'input[name=operator_id]', message='the log-in, not the case, after Back')
        for shown in (self.text_of(b, 'body'), b.driver.page_source):
            self.assertNotIn(story, shown, 'the description came back after logging out')
            self.assertNotIn(phone, shown, 'the phone came back after logging out')
        b.screenshot('back-after-logout')

    def test_new_call_by_clicking_the_map(self):
        env = self.env
        env.put_team_at('near', 1.5, 45, POLICE_SW, name='ทีมสหวิชาชีพ ทดสอบ')
        b = self.open('new-call')
        self.login(b)
        self.goto(b, 'new')
        self.wait_for(b, '#new-call')
        self.assertTrue(b.current_url().endswith('/console/new'), b.current_url())
        call_id = b.find('#main [name=call_id]').get_attribute('value')
        self.assertRegex(call_id, r'^1300-\d{8}-\d{6}-[0-9a-f]{4}$')
        self.fill(b, 'description', 'ลูกสาวถูกแฟนขังไว้ในห้อง ไม่ให้ออกไปไหน')
        suggestion = self.wait_for(b, '#suggest button')
        self.assertIn('ถูกกักขัง', self.text_of(b, '#suggest'))
        self.fill(b, 'reporter_name', harness.unique_name())
        self.fill(b, 'reporter_phone', harness.unique_phone())
        self.fill(b, 'address', harness.unique_address())
        # the map is centred on Bangkok: a click a little off centre is near the team
        self.click_map(b, '#new-map', 15, -10)
        lat = wait_until(lambda: b.find('#main [name=lat]').get_attribute('value'),
                         message='lat from the map click')
        lon = b.find('#main [name=lon]').get_attribute('value')
        env.note_pii(float(lat), float(lon))
        self.assertAlmostEqual(float(lat), BKK[0], delta=0.2)
        self.assertAlmostEqual(float(lon), BKK[1], delta=0.2)
        suggestion.click()
        self.assertEqual(b.find('#main [name=category]').get_attribute('value'), 'detention')
        b.screenshot('new-call-filled')
        b.find('#new-call button[type=submit]').click()
        code_el = self.wait_for(b, '#tracking-code', message='the answer')
        code = code_el.text
        self.assertRegex(code, CODE_RE)
        self.assertGreater(code_el.size['height'], 40, 'the code in large type')
        self.assertIn('ทีมสหวิชาชีพ ทดสอบ', self.text_of(b, '#answer'))
        self.assertRegex(self.text_of(b, '#answer'), r'ห่าง [\d.]+ กม\.')
        b.screenshot('new-call-answer')
        # the case as the API has it: the point clicked, the call id, the caller
        found = env.http('GET', '/v1/cases?q=' + code, token=env.operator_token).body['cases']
        self.assertEqual(len(found), 1)
        view = env.case(found[0]['case_id'])
        self.assertEqual(view['call_id'], call_id)
        self.assertEqual(view['team']['id'], 'near')
        self.assertAlmostEqual(view['location']['lat'], float(lat), places=5)
        self.assertAlmostEqual(view['location']['lon'], float(lon), places=5)
        self.assertEqual(view['timeline'][0]['by'], 'op-17', 'the logged-in operator')
        # the case page from the answer: facts, timeline, map with incident and team
        b.find('#answer-open').click()
        self.wait_for(b, '.facts-list')
        wait_until(lambda: len(b.find_all('#case-map path.mk-incident')) == 1 and
                   len(b.find_all('#case-map path.mk-team-held')) == 1,
                   message='incident and team on the map')
        self.assertIn(code, self.text_of(b, 'main h1'))
        self.assertIn('op-17', self.text_of(b, '.timeline-table'))
        b.screenshot('case')
        # Enter on the form again: a new call id, an empty form
        b.driver.back()
        self.wait_for(b, '#new-call')
        self.assertNotEqual(b.find('#main [name=call_id]').get_attribute('value'), call_id)

    def test_second_session_sees_a_new_case_live(self):
        env = self.env
        self.create_operator('op-18', new_password() + 'x')
        watcher = self.open('queue-live')
        self.login(watcher)
        wait_until(lambda: watcher.find('#live-state').get_attribute('data-state') == 'open',
                   message='the live stream open')
        rows_before = len(watcher.find_all('tr[data-case-id]'))
        # another operator logs a call without a place: queued, waiting for a human
        caller = self.open('queue-other')
        self.login(caller)
        self.goto(caller, 'new')
        self.wait_for(caller, '#new-call')
        self.fill(caller, 'description', 'มีคนขู่จะทำร้าย ผู้แจ้งไม่รู้ว่าอยู่ที่ไหน')
        self.fill(caller, 'address', harness.unique_address())
        caller.find('#new-call button[type=submit]').click()
        self.wait_for(caller, '#tracking-code')
        self.assertIn('รอดำเนินการ', self.text_of(caller, '#answer'))
        self.assertIn('ยังไม่มีจุดเกิดเหตุ', self.text_of(caller, '#answer'))
        code = self.text_of(caller, '#tracking-code')
        # the first browser's queue shows it, without a reload, among those needing a human
        case_id = wait_until(lambda: self.rows_with(watcher, '#queue-human tr[data-case-id]', code),
                             15, message='the new case in the queue')[0]
        self.assertEqual(len(watcher.find_all('tr[data-case-id]')), rows_before + 1)
        row_css = 'tr[data-case-id="%s"]' % case_id
        self.assertIn('ยังไม่มีจุดเกิดเหตุ', self.text_of(watcher, row_css))
        self.assertIn('fresh', watcher.find(row_css).get_attribute('class'))
        self.assertIn(code, watcher.find('#live').get_attribute('textContent'))
        watcher.screenshot('queue-live')
        # a filter hides it; its removal shows it again
        from selenium.webdriver.support.ui import Select
        Select(watcher.find('#filter-category')).select_by_value('gathering')
        wait_until(lambda: not self.rows_with(watcher, 'tr[data-case-id]', code),
                   message='filtered out')
        Select(watcher.find('#filter-category')).select_by_value('')
        wait_until(lambda: self.rows_with(watcher, 'tr[data-case-id]', code),
                   message='shown again')
        # the row opens the case; placing it on the map routes it
        env.put_team_at('placed', 2.0, 90, POLICE_SW)
        watcher.find(row_css + ' a').click()
        self.wait_for(watcher, '#act-place')
        self.click_map(watcher, '#case-map', 20, 5)
        wait_until(lambda: watcher.find('#act-place [name=lat]').get_attribute('value'),
                   message='lat from the click')
        env.note_pii(float(watcher.find('#act-place [name=lat]').get_attribute('value')),
                     float(watcher.find('#act-place [name=lon]').get_attribute('value')))
        watcher.find('#act-place button[type=submit]').click()
        wait_until(lambda: env.case(case_id)['status'] == 'assigned', message='routed')
        wait_until(lambda: 'placed' in self.text_of(watcher, '.facts-list'), message='team shown')

    def test_assign_a_queued_case_by_hand(self):
        env = self.env
        # the only team with the skills is 70 km away: beyond detention's widest radius
        env.put_team_at('far', 70, 0, POLICE_SW, name='ทีมไกล')
        answer = env.post_incident(category='detention', expect=(201,))
        self.assertEqual(answer['status'], 'queued', answer)
        b = self.open('assign')
        self.login(b)
        row_css = 'tr[data-case-id="%s"]' % answer['case_id']
        self.wait_for(b, row_css)
        self.assertIn('ไม่มีทีมว่าง', self.text_of(b, row_css))
        b.find(row_css + ' a').click()
        button = self.wait_for(b, 'button.assign[data-team-id="far"]')
        b.screenshot('case-queued')
        button.click()
        dialog = self.wait_for(b, '#confirm[open]', message='far_team asks to confirm')
        self.assertIn('ทีมไกล', dialog.text)
        self.assertRegex(dialog.text, r'7\d(\.\d)? กม\.')
        b.screenshot('far-team')
        dialog.find_element('css selector', 'button.primary').click()
        wait_until(lambda: (env.case(answer['case_id'])['team'] or {}).get('id') == 'far',
                   message='assigned by hand')
        wait_until(lambda: 'ทีมไกล' in self.text_of(b, '.facts-list'), message='the page follows')
        view = env.case(answer['case_id'])
        self.assertEqual(view['status'], 'assigned')
        # a note, with its author on the timeline
        note = 'โทรกลับผู้แจ้งแล้ว ' + secrets.token_hex(3)
        self.fill(b, 'text', note)
        b.find('#act-note button[type=submit]').click()
        wait_until(lambda: note in self.text_of(b, '.timeline-table'), message='the note shown')
        self.assertTrue(any(e.get('event') == 'note' and e.get('by') == 'op-17'
                            for e in env.case(answer['case_id'])['timeline']))
        # triage: the priority corrected
        from selenium.webdriver.support.ui import Select
        Select(b.find('#act-triage [name=priority]')).select_by_value('P2')
        b.find('#act-triage button[type=submit]').click()
        wait_until(lambda: env.case(answer['case_id'])['priority'] == 'P2', message='triage')
        wait_until(lambda: 'P2' in self.text_of(b, '.facts-list'), message='the new priority shown')
        b.screenshot('case-assigned')
        # the status, forward: on scene; backward: refused, said in the operator's words
        Select(b.find('#act-status [name=status]')).select_by_value('on_scene')
        b.find('#act-status button[type=submit]').click()
        wait_until(lambda: env.case(answer['case_id'])['status'] == 'on_scene', message='on scene')
        wait_until(lambda: 'ทีมถึงที่เกิดเหตุ' in self.text_of(b, '.facts-list'),
                   message='the status shown')
        Select(b.find('#act-status [name=status]')).select_by_value('en_route')
        b.find('#act-status button[type=submit]').click()
        wait_until(lambda: 'ตามลำดับขั้น' in self.text_of(b, '#act-status .msg'),
                   message='the refusal, in Thai')
        self.assertEqual(env.case(answer['case_id'])['status'], 'on_scene')

    def test_keyboard_only(self):
        """The log-in and a new call with the keyboard alone: Tab, typing, Enter."""
        from selenium.webdriver.common.keys import Keys
        env = self.env
        env.put_team_at('near', 1.0, 180, POLICE_SW)
        b = self.open('keyboard')
        self.wait_for(b, 'input[name=operator_id]')
        # focus starts in the first field; the skip link is the stop before it
        self.assertEqual(self.active(b).get_attribute('name'), 'operator_id')
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        self.assertEqual(self.active(b).get_attribute('id'), 'skip')
        self.assertTrue(b.find('#skip').is_displayed(), 'the skip link shows when focused')
        self.keys(b, Keys.TAB)
        self.assertEqual(self.active(b).get_attribute('name'), 'operator_id')
        self.keys(b, 'op-17', Keys.TAB)
        self.assertEqual(self.active(b).get_attribute('name'), 'password')
        self.keys(b, self.password, Keys.ENTER)
        self.wait_for(b, '#queue-human')
        # the shortcut N opens the new-call form, focus on its heading; Tab walks the form in
        # reading order, typing where a field wants it; Enter on the button sends it
        self.assertEqual(self.active(b).tag_name, 'h1', 'focus on the queue heading')
        self.keys(b, 'n')
        self.wait_for(b, '#new-call')
        self.assertEqual(self.active(b).tag_name, 'h1')
        description = 'ถูกขังไว้ในห้องเช่า ' + secrets.token_hex(3)
        lat, lon = harness.jitter(BKK)
        env.note_pii(description, lat, lon)
        typed = {'description': description, 'lat': '%.6f' % lat, 'lon': '%.6f' % lon}
        order = []
        for _ in range(40):
            self.keys(b, Keys.TAB)
            el = self.active(b)
            order.append(el.get_attribute('name') or el.get_attribute('id') or el.tag_name)
            if order[-1] in typed:
                self.keys(b, typed[order[-1]])
            if el.get_attribute('type') == 'submit':
                break
        names = [n for n in order if n in ('description', 'category', 'reporter_name',
                                           'reporter_phone', 'call_id', 'lat', 'lon', 'address')]
        self.assertEqual(names, ['description', 'category', 'reporter_name', 'reporter_phone',
                                 'call_id', 'lat', 'lon', 'address'], order)
        self.assertEqual(self.active(b).text, 'บันทึกและส่งต่อ')
        # visible focus: the focused control has an outline
        outline = b.driver.execute_script(
            'return getComputedStyle(document.activeElement).outlineStyle')
        self.assertNotEqual(outline, 'none')
        self.keys(b, Keys.ENTER)
        self.wait_for(b, '#tracking-code')
        self.assertEqual(self.active(b).tag_name, 'h2', 'focus moved to the answer')
        view = env.case(env.http('GET', '/v1/cases?q=' + self.text_of(b, '#tracking-code'),
                                 token=env.operator_token).body['cases'][0]['case_id'])
        self.assertEqual(view['description'], description)
        self.assertAlmostEqual(view['location']['lat'], lat, places=5)
        self.assertEqual(view['team']['id'], 'near')
        b.screenshot('keyboard-answer')
        # the help lists the shortcut keys; Escape closes it
        self.keys(b, '?')
        help_box = self.wait_for(b, '#help[open]')
        self.assertIn('ปุ่มลัด', help_box.text)
        self.keys(b, Keys.ESCAPE)
        wait_until(lambda: not b.find_all('#help[open]'), message='help closed')

    def test_1366_screen_in_thai_and_english(self):
        env = self.env
        env.put_team_at('t1', 2.0, 30, POLICE_SW, name='ทีมสหวิชาชีพ ที่มีชื่อยาวมากเพื่อดูการตัดบรรทัด')
        env.put_team_at('t2', 4.0, 200, ['mental_health', 'nurse', 'police'])
        answers = [env.post_incident(category=c) for c in ('detention', 'threat', 'other')]
        for lang in ('th', 'en'):
            b = self.open('layout-' + lang, lang=lang)
            self.login(b)
            self.assertEqual(b.find('html').get_attribute('lang'), lang)
            wait_until(lambda: len(b.find_all('tr[data-case-id]')) == 3, message='three cases')
            self.no_sideways_scroll(b, 'queue ' + lang)
            b.screenshot('queue-' + lang)
            for nav, ready in (('new', '#new-map'), ('teams', '#teams-table table')):
                self.goto(b, nav)
                self.wait_for(b, ready)
                self.no_sideways_scroll(b, nav + ' ' + lang)
                b.screenshot(nav + '-' + lang)
            b.get(self.base + '/console/cases/' + answers[0]['case_id'])
            self.wait_for(b, '.facts-list')
            self.wait_for(b, '#candidates table')
            self.no_sideways_scroll(b, 'case ' + lang)
            b.screenshot('case-' + lang)
        # the toggle is remembered across a reload
        b.find('#lang').click()
        wait_until(lambda: b.find('html').get_attribute('lang') == 'th', message='to Thai')
        b.reload()
        self.wait_for(b, '.facts-list')
        self.assertEqual(b.find('html').get_attribute('lang'), 'th')
        self.assertIn('ข้อมูลเรื่อง', b.text())


class TileServer:
    """A stand-in map tile host on loopback: every GET answers the same small PNG and is counted."""

    def __init__(self):
        import http.server
        import threading
        with open(os.path.join(LEAFLET_IMAGES, 'layers.png'), 'rb') as f:
            png = f.read()
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header('Content-Type', 'image/png')
                self.send_header('Content-Length', str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.origin = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ConsoleTilesBrowserTest(BrowserHelpers):
    """With ESS_MAP_TILES the maps draw tiles from that host, and from nowhere else."""

    def setUp(self):
        self.tiles = TileServer()
        self.addCleanup(self.tiles.close)
        self.env_options = {'extra_env': {'ESS_MAP_TILES': self.tiles.origin + '/t/{z}/{x}/{y}.png'}}
        super().setUp()

    def test_tiles_come_from_the_tile_host(self):
        b = self.open('tiles', allowed=(self.tiles.origin,))
        self.login(b)
        self.goto(b, 'new')
        wait_until(lambda: len(b.find_all('#new-map img.leaflet-tile-loaded')) >= 4,
                   message='tiles drawn')
        self.assertTrue(self.tiles.paths)
        self.assertTrue(all(re.match(r'^/t/\d+/\d+/\d+\.png$', p) for p in self.tiles.paths),
                        self.tiles.paths[:5])
        self.assertFalse(b.find_all('.map-note'), 'no "no base map" note')
        b.screenshot('new-call')


if __name__ == '__main__':
    harness.main()
