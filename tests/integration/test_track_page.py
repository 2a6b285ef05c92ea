"""e-Tracking, the public page (DESIGN.md "e-Tracking, the public page") and the files the router
serves itself (/assets/): over plain HTTP (what a browser with JavaScript off gets: status codes,
headers, sizes, Thai and English, escaping, the rate limit's page), then in headless Chromium on
a 360x640 phone screen (tests/integration/browser.py): Thai and English, LINE's in-app browser,
the status moving as the team works, no personal data in the page and no request to another
host. Screenshots land in <build dir>/screenshots/track_page-*.png.

Chromium missing is a failure, not a skip: scripts/test installs it."""

import datetime
import hashlib
import os
import re
import urllib.parse

import harness
from harness import BKK, RouterTest, SharedRouterTest

POLICE_SW = ['police', 'social_worker']
LEAFLET_DIR = '/usr/share/javascript/leaflet'
SECURITY_HEADERS = {'cache-control': 'no-store', 'referrer-policy': 'no-referrer',
                    'x-robots-tag': 'noindex', 'x-frame-options': 'DENY'}
TEAM_TH = 'ทีมสหวิชาชีพ เขตพระนคร'
TEAM_EN = 'Phra Nakhon Social Team'
STEPS_TH = ['รับแจ้งแล้ว', 'ส่งต่อให้ทีมช่วยเหลือ', 'ทีมรับเรื่องแล้ว', 'ทีมกำลังเดินทางไป',
            'ทีมถึงที่เกิดเหตุแล้ว', 'ช่วยเหลือเรียบร้อย', 'ปิดเรื่องแล้ว']
STEPS_EN = ['Received', 'Team assigned', 'Team accepted', 'On the way', 'On scene', 'Resolved',
            'Closed']
THAI_MONTHS = ['ม.ค.', 'ก.พ.', 'มี.ค.', 'เม.ย.', 'พ.ค.', 'มิ.ย.', 'ก.ค.', 'ส.ค.', 'ก.ย.', 'ต.ค.',
               'พ.ย.', 'ธ.ค.']
PAGE_BUDGET = 30 * 1024  # a page and everything it loads


def html(r):
    return r.raw.decode('utf-8')


def thai_time(iso, lang='th'):
    """The words the page writes for an RFC 3339 UTC time: Thailand's time (UTC+7)."""
    t = datetime.datetime.strptime(iso[:19], '%Y-%m-%dT%H:%M:%S') + datetime.timedelta(hours=7)
    if lang == 'en':
        return '%d %s %d, %02d:%02d' % (t.day, t.strftime('%b'), t.year, t.hour, t.minute)
    return '%d %s %d %02d:%02d น.' % (t.day, THAI_MONTHS[t.month - 1], t.year + 543, t.hour,
                                     t.minute)


def loaded_urls(page):
    """What an HTML page makes a browser load (not the links it may follow): link href, script,
    img, iframe, source src, and url() in style attributes."""
    urls = re.findall(r'<link\b[^>]*\bhref="([^"]*)"', page)
    urls += re.findall(r'<(?:script|img|iframe|source|embed|audio|video)\b[^>]*\bsrc="([^"]*)"',
                       page)
    urls += re.findall(r'url\(([^)]*)\)', page)
    return urls


class PageChecks:
    """Assertions shared by the HTTP and browser tests."""

    def assertPage(self, r, status, lang='th', msg=None):
        where = (msg + ': ' if msg else '') + repr(r)
        self.assertEqual(r.status, status, where)
        self.assertEqual(r.headers.get('content-type'), 'text/html; charset=utf-8', where)
        for k, v in SECURITY_HEADERS.items():
            self.assertEqual(r.headers.get(k), v, '%s: %s' % (k, where))
        csp = r.headers.get('content-security-policy', '')
        self.assertIn("default-src 'self'", csp, where)
        self.assertNotIn('unsafe-inline', csp, where)
        self.assertNotIn('unsafe-eval', csp, where)
        self.assertEqual(r.headers.get('x-content-type-options'), 'nosniff', where)
        page = html(r)
        self.assertIn('<html lang="%s">' % lang, page, where)
        self.assertNotIn('<script', page, 'no script at all: ' + where)
        self.assertNotIn(' style=', page, 'no inline style: ' + where)
        self.assertNotIn('<style', page, 'no inline style: ' + where)
        leave = re.search(r'<a class="leave" href="(https://[^"]+)"', page)
        self.assertIsNotNone(leave, 'a "leave this page" link: ' + where)
        self.assertEqual(leave.group(1), 'https://www.google.com/', where)
        self.assertLess(page.index('class="leave"'), page.index('<main'),
                        'the leave link comes first: ' + where)
        for url in loaded_urls(page):
            self.assertTrue(url.startswith('/') and not url.startswith('//'),
                            'loads only from the router itself: %r in %s' % (url, where))
        return page

    def assertForm(self, page, msg=None):
        form = re.search(r'<form action="/track" method="get">(.*?)</form>', page, re.S)
        self.assertIsNotNone(form, (msg or '') + ': the form')
        inputs = re.findall(r'<input\b[^>]*>', form.group(1))
        visible = [i for i in inputs if 'type="hidden"' not in i]
        self.assertEqual(len(visible), 1, 'one input: %r' % inputs)
        self.assertIn('name="code"', visible[0])
        self.assertRegex(form.group(1), r'<label for="code">')
        self.assertIn('<button type="submit">', form.group(1))

    def assertNoPII(self, text, msg=None):
        for v in sorted(self.env.pii):
            if len(v) >= 5:
                self.assertNotIn(v, text, '%spersonal data %r in the page' % (msg or '', v))


class TrackPageHTTPTest(PageChecks, SharedRouterTest):
    """The page over plain HTTP: one router, cases prepared once."""

    env_options = {'extra_env': {'ESS_TRACK_RATE_PER_MIN': '100000'}}

    @classmethod
    def prepare(cls):
        env = cls.env
        cls.token = env.put_team('bkk-03', BKK[0], BKK[1], POLICE_SW, name=TEAM_TH,
                                 extra={'name_en': TEAM_EN})
        cls.case = env.post_incident('detention', 'ลูกสาวถูกแฟนขังไว้ในห้อง บ้านเลขที่ 99/1')
        cls.code = cls.case['tracking_code']
        env.put_team('evil', BKK[0] + 0.5, BKK[1] + 0.5, ['mental_health', 'police'],
                     name='<script>alert("x")</script> & \'ทีม\'')
        cls.evil = env.post_incident('mental_crisis', 'ผู้ชายถือมีด', lat=BKK[0] + 0.5,
                                     lon=BKK[1] + 0.5)

    def get(self, path, **headers):
        return self.env.http('GET', path, headers=headers or None)

    def test_form(self):
        r = self.get('/track')
        page = self.assertPage(r, 200)
        self.assertForm(page, '/track')
        self.assertIn('ติดตามเรื่องที่แจ้ง', page)
        self.assertIn('href="/track?lang=en"', page, 'the language switch')
        r = self.get('/track?lang=en')
        page = self.assertPage(r, 200, 'en')
        self.assertForm(page)
        self.assertIn('<input type="hidden" name="lang" value="en">', page,
                      'the English form stays English')
        self.assertIn('href="/track?lang=th"', page)
        r = self.env.http('HEAD', '/track')
        self.assertEqual((r.status, r.raw), (200, b''), 'HEAD: the headers only')
        r = self.env.http('POST', '/track', b'code=x', content_type='application/x-www-form-urlencoded')
        self.assertEqual(r.status, 405)

    def test_redirect_to_the_code(self):
        code = self.code
        lenient = code.lower().replace('-', ' ').replace('0', 'o').replace('1', 'l')
        r = self.get('/track?code=' + urllib.parse.quote(lenient))
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.headers.get('location'), '/track/' + code)
        self.assertEqual(r.headers.get('cache-control'), 'no-store')
        r = self.get('/track?lang=en&code=' + code.replace('-', ''))
        self.assertEqual((r.status, r.headers.get('location')), (303, '/track/%s?lang=en' % code))
        r = self.get('/track?code=' + code + '&lang=fr')
        self.assertEqual(r.headers.get('location'), '/track/' + code, 'an unknown lang is dropped')

    def test_bad_codes_are_400_pages(self):
        for q, words in (('HM-7K3-Q9X-TD4', 'อาจพิมพ์ผิด'), ('HM-7K3', 'ดูไม่ถูกต้อง'),
                         ('', 'ดูไม่ถูกต้อง'), ('%E0%B8%81%E0%B8%82', 'ดูไม่ถูกต้อง')):
            with self.subTest(code=q):
                page = self.assertPage(self.get('/track?code=' + q), 400)
                self.assertIn(words, page)
                self.assertForm(page)
        page = self.assertPage(self.get('/track/HM-7K3-Q9X-TD4?lang=en'), 400, 'en')
        self.assertIn('typing mistake', page)
        self.assertIn('value="HM-7K3-Q9X-TD4"', page, 'what was typed is in the form again')
        self.assertForm(page)
        page = self.assertPage(self.get('/track/nonsense', **{'Accept-Language': 'en'}), 400, 'en')
        self.assertIn('HM-7K3-Q9X-TD8', page, 'the shape of a code')

    def test_unknown_code_is_a_404_page(self):
        page = self.assertPage(self.get('/track/' + harness.make_tracking_code()), 404)
        self.assertIn('ไม่พบเรื่องที่ใช้รหัสนี้', page)
        self.assertForm(page)
        page = self.assertPage(self.get('/track/HM-7K3-Q9X-TD8?lang=en'), 404, 'en')
        self.assertIn('No report has this code', page)

    def test_status_page_thai(self):
        view = self.env.track(self.code).body
        r = self.get('/track/' + self.code.lower())
        page = self.assertPage(r, 200)
        self.assertIn('HM-', page)
        self.assertIn(self.code, page, 'the canonical code')
        self.assertIn('ถูกกักขัง', page, 'the category label')
        self.assertIn(TEAM_TH, page, "the team's public name")
        self.assertNotIn(TEAM_EN, page)
        for step in STEPS_TH:
            self.assertIn('<span class="step">%s</span>' % step, page)
        for e in view['timeline']:
            if e['status'] in ('received', 'assigned'):
                self.assertIn(thai_time(e['at']), page, 'the time of %s in Thai time' % e)
        self.assertIn('aria-current="step"><span class="step">ส่งต่อให้ทีมช่วยเหลือ', page,
                      'the current step')
        self.assertIn('ไม่แสดงข้อมูลส่วนตัว', page, 'the line about personal data')
        self.assertIn('<a href="/track">', page, 'a link to check another code')
        self.assertIn('href="/track/%s?lang=en"' % self.code, page, 'the language switch')
        self.assertNoPII(page)

    def test_status_page_english(self):
        view = self.env.track(self.code).body
        for path, headers in (('/track/%s?lang=en' % self.code, {}),
                              ('/track/' + self.code, {'Accept-Language': 'en-US,en;q=0.9,th;q=0.8'}),
                              ('/track/' + self.code, {'Accept-Language': 'th;q=0.3, en-GB;q=0.7'})):
            with self.subTest(path=path, headers=headers):
                page = self.assertPage(self.get(path, **headers), 200, 'en')
                self.assertIn('Detained', page)
                self.assertIn(TEAM_EN, page, "the team's English name")
                for step in STEPS_EN:
                    self.assertIn('<span class="step">%s</span>' % step, page)
                self.assertIn(thai_time(view['timeline'][0]['at'], 'en'), page)
                self.assertIn('Thailand time', page)
                self.assertIn('No personal data is ever shown', page)
                if 'lang=en' in path:
                    self.assertIn('<a href="/track?lang=en">Check another code</a>', page)
                self.assertNoPII(page)
        for headers in ({'Accept-Language': 'th-TH,th;q=0.9,en;q=0.8'}, {'Accept-Language': 'fr'},
                        {'Accept-Language': 'en;q=0, th'}, {}):
            with self.subTest(headers=headers):
                self.assertPage(self.get('/track/' + self.code, **headers), 200, 'th')
        self.assertPage(self.get('/track/%s?lang=th' % self.code, **{'Accept-Language': 'en'}),
                        200, 'th', '?lang=th wins over Accept-Language')

    def test_queued_case(self):
        case = self.env.post_incident('gathering', 'วัยรุ่นมั่วสุม')  # the only team is busy
        self.assertEqual(case['status'], 'queued', case)
        page = self.assertPage(self.get('/track/' + case['tracking_code']), 200)
        self.assertIn('<dd>เจ้าหน้าที่กำลังหาทีมช่วยเหลือให้ค่ะ</dd>', page)
        self.assertIn('<dd>ยังไม่มี กำลังหาให้อยู่ค่ะ</dd>', page, 'no team yet')
        self.assertEqual(page.count('class="done'), 1, 'received only')
        self.assertNotIn('aria-current', page, 'no step is the current one while queued')

    def test_everything_is_escaped(self):
        page = self.assertPage(self.get('/track/' + self.evil['tracking_code']), 200)
        self.assertNotIn('<script>', page)
        self.assertIn('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;ทีม&#39;', page)
        typed = '"><script>alert(1)</script>'
        for path in ('/track?code=' + urllib.parse.quote(typed),
                     '/track/' + urllib.parse.quote(typed, safe='')):
            with self.subTest(path=path):
                page = self.assertPage(self.get(path), 400)
                self.assertNotIn('<script>', page)
                self.assertIn('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"', page)

    def test_page_weight_and_assets(self):
        """The page and everything it loads fit in 30 KB, all of it from the router."""
        for path in ('/track/' + self.code, '/track/%s?lang=en' % self.code, '/track',
                     '/track/' + harness.make_tracking_code()):
            with self.subTest(path=path):
                r = self.get(path)
                total = len(r.raw)
                urls = loaded_urls(html(r))
                self.assertIn('/assets/track.css', urls)
                for url in urls:
                    a = self.get(url)
                    self.assertEqual(a.status, 200, url)
                    total += len(a.raw)
                self.assertLessEqual(total, PAGE_BUDGET, '%s weighs %d bytes' % (path, total))

    def test_static_files(self):
        r = self.get('/assets/track.css')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get('content-type'), 'text/css; charset=utf-8')
        self.assertEqual(r.headers.get('cache-control'), 'no-cache')
        with open(os.path.join(harness.REPO_ROOT, 'router', 'pages', 'track.css'), 'rb') as f:
            self.assertEqual(r.raw, f.read(), 'the file as it is in router/pages/')
        etag = r.headers.get('etag')
        self.assertRegex(etag or '', r'^"[0-9a-f]+-[0-9a-f]+"$')
        for inm in (etag, 'W/' + etag, '"x", ' + etag, '*'):
            with self.subTest(if_none_match=inm):
                r = self.get('/assets/track.css', **{'If-None-Match': inm})
                self.assertEqual((r.status, r.raw), (304, b''))
                self.assertEqual(r.headers.get('etag'), etag)
                self.assertEqual(r.headers.get('cache-control'), 'no-cache')
        r = self.get('/assets/track.css', **{'If-None-Match': '"other"'})
        self.assertEqual(r.status, 200, 'another ETag: the file again')
        r = self.env.http('HEAD', '/assets/track.css')
        self.assertEqual((r.status, r.raw), (200, b''))
        self.assertEqual(r.headers.get('content-length'), str(os.path.getsize(
            os.path.join(harness.REPO_ROOT, 'router', 'pages', 'track.css'))))
        self.assertEqual(r.headers.get('etag'), etag)
        for name, ctype in (('leaflet.js', 'text/javascript; charset=utf-8'),
                            ('leaflet.css', 'text/css; charset=utf-8'),
                            ('images/marker-icon.png', 'image/png'),
                            ('images/layers-2x.png', 'image/png'),
                            ('images/marker-shadow.png', 'image/png')):
            with self.subTest(file=name):
                r = self.get('/assets/leaflet/' + name)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers.get('content-type'), ctype)
                with open(os.path.join(LEAFLET_DIR, name), 'rb') as f:
                    self.assertEqual(hashlib.sha256(r.raw).hexdigest(),
                                     hashlib.sha256(f.read()).hexdigest(),
                                     "Debian's libjs-leaflet file, byte for byte")
        for path in ('/assets/nope.css', '/assets/', '/assets', '/assets/leaflet',
                     '/assets/../assets/track.css', '/assets/%2e%2e/router/pages/track.css',
                     '/assets/leaflet/images/', '/assets/TRACK.CSS'):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertErrorBody(r, 404, 'not_found')
                self.assertEqual(r.headers.get('cache-control'), 'no-store')
        r = self.env.http('POST', '/assets/track.css', b'')
        self.assertErrorBody(r, 405)

    def test_json_api_unchanged(self):
        r = self.env.track(self.code)
        self.assertStatus(r, 200)
        self.assertJSON(r)
        self.assertIsNone(r.headers.get('x-frame-options'), 'the API is not a page')
        self.assertEqual(r.headers.get('cache-control'), 'no-store')


class TrackPageRateTest(PageChecks, RouterTest):
    """The page counts against ESS_TRACK_RATE_PER_MIN with GET /v1/track; past it, a 429 page."""

    env_options = {'extra_env': {'ESS_TRACK_RATE_PER_MIN': '4'}}

    def test_rate_limit_page(self):
        env = self.env
        code = env.post_incident('threat', 'ถูกเจ้าหนี้ขู่')['tracking_code']
        self.fresh_minute()
        self.assertPage(env.http('GET', '/track/' + code), 200)
        self.assertStatus(env.track(code), 200)
        self.assertPage(env.http('GET', '/track/' + harness.make_tracking_code()), 404,
                        msg='an unknown code counts too')
        self.assertStatus(env.track(code), 200)
        for lang, headers, words in (('th', {}, 'กรุณารอสักครู่'),
                                     ('en', {'Accept-Language': 'en'}, 'Please wait')):
            r = env.http('GET', '/track/' + code, headers=headers)
            page = self.assertPage(r, 429, lang)
            self.assertIn(words, page)
            self.assertTrue(1 <= int(r.headers.get('retry-after', '0')) <= 60, r.headers)
            self.assertForm(page)
            self.assertIn('value="%s"' % code, page, 'the code is in the form again')
        self.assertErrorBody(env.track(code), 429, 'rate_limited')
        r = env.http('GET', '/track?code=' + code)
        self.assertEqual(r.status, 303, 'the redirect looks nothing up: not limited')
        self.assertPage(env.http('GET', '/track/HM-7K3-Q9X-TD4'), 400,
                        msg='a bad check character needs no lookup')


class TrackPageStoreDownTest(PageChecks, RouterTest):

    def test_redis_down_is_a_503_page(self):
        env = self.env
        code = env.post_incident('threat', 'ถูกขู่')['tracking_code']
        env.redis.stop()
        harness.wait_until(lambda: env.http('GET', '/healthz').status == 503, 15,
                           message='the router sees Redis gone')
        for lang, headers, words in (('th', {}, 'ระบบขัดข้องชั่วคราว'),
                                     ('en', {'Accept-Language': 'en'}, 'try again in a moment')):
            page = self.assertPage(env.http('GET', '/track/' + code, headers=headers), 503, lang)
            self.assertIn(words, page)
            self.assertForm(page)
        self.assertErrorBody(env.track(code), 503, 'redis_unavailable')


class TrackPageBrowserTest(PageChecks, RouterTest):
    """The page in headless Chromium on a 360x640 phone screen."""

    def setUp(self):
        super().setUp()
        from browser import Browser, LINE_USER_AGENT  # a missing browser fails the test
        self.Browser, self.LINE_USER_AGENT = Browser, LINE_USER_AGENT
        env = self.env
        self.team_token = env.put_team('bkk-03', BKK[0], BKK[1], POLICE_SW, name=TEAM_TH,
                                       extra={'name_en': TEAM_EN})
        self.case = env.post_incident('abuse_risk', 'หัวหน้างานลวนลามและขู่ไม่ให้บอกใคร')
        self.code = self.case['tracking_code']
        self.base = 'http://127.0.0.1:%d' % env.router.port

    def assertClean(self, b, msg):
        self.assertEqual(b.other_hosts(self.base), [], msg + ': requests to another host')
        self.assertNoPII(b.page_source(), msg + ': ')
        for r in b.requests():
            self.assertNoPII(r['url'], msg + ' (a request): ')
        self.assertLessEqual(b.page_width(), 360, msg + ': wider than the phone')
        weight = sum(r['bytes'] for r in b.requests())
        self.assertLessEqual(weight, PAGE_BUDGET + 4096, msg + ': weight %d' % weight)

    def test_thai_phone_follows_the_case(self):
        env = self.env
        with self.Browser('track_page-th', 360, 640, accept_language='th-TH,th',
                          javascript=False) as b:
            b.get(self.base + '/track')
            self.assertEqual(b.find('html').get_attribute('lang'), 'th')
            b.find('#code').send_keys(self.code.lower().replace('-', ''))
            b.find('button[type=submit]').click()
            harness.wait_until(lambda: '/track/' + self.code in b.current_url(), 10,
                               message='the form leads to the code page')
            self.assertIn('ทีมถึงที่เกิดเหตุแล้ว', b.text())
            self.assertIn(TEAM_TH, b.text())
            self.assertIn('เสี่ยงถูกล่วงละเมิด', b.text())
            self.assertEqual(b.find('[aria-current=step] .step').text, 'ส่งต่อให้ทีมช่วยเหลือ')
            b.screenshot('assigned')
            self.assertClean(b, 'TH, assigned')
            # the team moves the case; the person reloads
            self.assertStatus(env.ack(self.case['case_id'], self.team_token), 200)
            self.assertStatus(env.set_status(self.case['case_id'], 'en_route',
                                             token=self.team_token), 200)
            b.clear_requests()
            b.reload()
            self.assertEqual(b.find('[aria-current=step] .step').text, 'ทีมกำลังเดินทางไป')
            done = [e.text for e in b.find_all('li.done .step')]
            self.assertEqual(done, STEPS_TH[:4])
            when = b.find('[aria-current=step] .when').text
            self.assertRegex(when, r'^\d{1,2} \S+ 25\d\d \d\d:\d\d น\.$')
            path = b.screenshot('en_route')
            self.assertTrue(os.path.getsize(path) > 1000, path)
            self.assertClean(b, 'TH, en route')
            statuses = {r['status'] for r in b.requests()}
            self.assertTrue(statuses <= {200, 304}, statuses)

    def test_english_phone_and_line_browser(self):
        with self.Browser('track_page-en', 360, 640, accept_language='en-US,en') as b:
            b.get(self.base + '/track/' + self.code)
            self.assertEqual(b.find('html').get_attribute('lang'), 'en')
            self.assertIn('At risk of sexual abuse', b.text())
            self.assertIn(TEAM_EN, b.text())
            self.assertIn('No personal data is ever shown', b.text())
            b.screenshot('status')
            self.assertClean(b, 'EN')
            b.find('a.lang').click()
            harness.wait_until(lambda: b.find('html').get_attribute('lang') == 'th', 10,
                               message='the language switch')
            b.screenshot('switched-to-thai')
            b.get(self.base + '/track/HM-7K3-Q9X-TD4')
            self.assertIn('typing mistake', b.text())
            b.screenshot('bad-code')
            self.assertClean(b, 'EN, 400')
        with self.Browser('track_page-line', 360, 640, user_agent=self.LINE_USER_AGENT,
                          accept_language='th') as b:
            b.get(self.base + '/track/' + self.code)
            self.assertIn(self.code, b.text())
            self.assertEqual(b.find('a.leave').get_attribute('href'), 'https://www.google.com/')
            b.screenshot('status')
            self.assertClean(b, 'LINE')


if __name__ == '__main__':
    harness.main()
