"""Statistics (DESIGN.md "The shared record", PLAN13 part E): GET /v1/stats against a known set
of cases (hotline incidents and LINE reports of several categories, moved through their statuses,
with known times from received: created_at is moved back in Redis before the step that is timed,
never a sleep). Every count is checked exactly, the medians and 90th percentiles within the
bucket error (2.5 %, or 1 s under a second); a case assigned twice counts one time to assigned;
a triage moves the case's count to its new category; erasure leaves the counters alone; the
counters built at start-up from the cases there (the done-marker and the counters deleted, the
router restarted) equal those kept live, and are built once; only supervisors read them (403 for
an operator, 401 without a token); bad ranges are 400. In a browser, a supervisor's
/console/stats shows the charts and the table with the same numbers; an operator has no link."""

import datetime
import math
import re
import urllib.parse

import harness
from fake_line import LineTest
from harness import status_changes, wait_until
from test_console import BrowserHelpers, new_password

SKILLS = ['police', 'social_worker', 'mental_health']
THAI = datetime.timezone(datetime.timedelta(hours=7))
KINDS = {'assigned': 'to_assigned', 'acknowledged': 'to_acknowledged', 'on_scene': 'to_on_scene'}


def ms_of(iso):
    d = datetime.datetime.strptime(iso, '%Y-%m-%dT%H:%M:%S.%fZ')
    return int(round(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))


def thai_date(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, THAI).date().isoformat()


def thai_today():
    return datetime.datetime.now(THAI).date()


def nearest_rank(values, q):
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


def q(case_id):
    return urllib.parse.quote(case_id, safe='')


class StatsHelpers:
    """The statistics read, and expected as the cases' timelines say (no tests)."""

    def stats(self, query='', token=None):
        r = self.env.http('GET', '/v1/stats' + query, token=token or self.sup_token)
        self.assertStatus(r, 200, 'GET /v1/stats' + query)
        return r.body

    def born(self, case_id):
        """Notes the case's creation day (before any created_at is moved)."""
        self.days[case_id] = thai_date(ms_of(self.env.case(case_id)['created_at']))

    def move_back(self, case_id, seconds):
        """created_at said `seconds` ago: the next step's time from received is that long."""
        now = int(self.env.redis.command('TIME')[0]) * 1000
        self.env.redis.command('HSET', self.env.prefix + 'case:' + case_id, 'created_at',
                               str(now - seconds * 1000))

    def expected(self):
        """What GET /v1/stats must say about self.days' cases, from their views alone: counts, and
        each case's times from received to its first assigned, acknowledged and on_scene."""
        cats, chans, statuses, per_day = {}, {}, {'received': 0}, {}
        times = {k: [] for k in KINDS.values()}
        for cid, day in self.days.items():
            v = self.env.case(cid)
            cats[v['category']] = cats.get(v['category'], 0) + 1
            chans[v['channel']] = chans.get(v['channel'], 0) + 1
            statuses['received'] += 1
            d = per_day.setdefault(day, {})
            d[v['category']] = d.get(v['category'], 0) + 1
            created, prev, seen = ms_of(v['created_at']), 'received', set()
            for e in status_changes(v):
                if e['status'] == prev:
                    continue
                prev = e['status']
                if prev != 'received':
                    statuses[prev] = statuses.get(prev, 0) + 1
                if prev in KINDS and prev not in seen:
                    seen.add(prev)
                    times[KINDS[prev]].append((ms_of(e['at']) - created) / 1000)
        return cats, chans, statuses, per_day, times

    def assertStats(self, got):
        cats, chans, statuses, per_day, times = self.expected()
        self.assertEqual(got['by_category'], cats)
        self.assertEqual(got['by_channel'], chans)
        self.assertEqual(got['by_status'], statuses)
        for d in got['by_day']:
            want = per_day.get(d['date'], {})
            self.assertEqual(d['by_category'], want, d['date'])
            self.assertEqual(d['cases'], sum(want.values()), d['date'])
        self.assertEqual(set(per_day) - {d['date'] for d in got['by_day']}, set())
        for kind, values in times.items():
            t = got['times'][kind]
            self.assertEqual(t['n'], len(values), kind)
            for name, qq in (('median_s', 0.5), ('p90_s', 0.9)):
                if not values:
                    self.assertIsNone(t[name], kind)
                    continue
                want = nearest_rank(values, qq)
                err = 1.0 if want < 1 else 0.025 * want + 0.06
                self.assertLessEqual(abs(t[name] - want), err,
                                     '%s %s: %r for %r (%r)' % (kind, name, t[name], want, values))
        return times


class StatsApiTest(StatsHelpers, LineTest):

    def setUp(self):
        super().setUp()
        self.sup_token = self.supervisor_token()
        self.days = {}

    def hotline(self, category):
        a = self.env.post_incident(category)
        self.born(a['case_id'])
        return a['case_id']

    def line(self, category):
        code = self.report(self.new_user(), category, self.new_place())
        cid = self.case_by_code(code)['case_id']
        self.born(cid)
        return cid

    def ack(self, cid, team):
        self.assertStatus(self.env.ack(cid, self.env.team_tokens[team]), 200, 'ack ' + cid)

    def status(self, cid, status, team=None):
        token = self.env.team_tokens[team] if team else None
        self.assertStatus(self.env.set_status(cid, status, token=token), 200,
                          '%s -> %s' % (cid, status))

    def build_cases(self):
        """The known set: returns the case ids by role."""
        env = self.env
        t1 = env.put_team_at('t1', 0.5, 0, SKILLS, capacity=100)
        env.put_team_at('t2', 3, 90, SKILLS, capacity=100)
        c = {}
        # assigned at once (0 s to assigned)
        c['det1'], c['det2'] = self.hotline('detention'), self.hotline('detention')
        c['mental'] = self.hotline('mental_crisis')
        c['line_threat'] = self.line('threat')
        # "other" waits for triage; one is corrected to threat (its count moves) and routed
        c['other'], c['triaged'] = self.hotline('other'), self.hotline('other')
        self.move_back(c['triaged'], 75)
        r = env.http('POST', '/v1/cases/%s/triage' % q(c['triaged']), {'category': 'threat'},
                     token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual(env.case(c['triaged'])['status'], 'assigned')
        # no team free: queued, then assigned by hand 150 s ... 2400 s after received
        for tid in ('t1', 't2'):
            t = env.teams[tid]
            self.assertStatus(env.position(tid, t['lat'], t['lon'], available=False), 200)
        c['det3'], c['gather'] = self.hotline('detention'), self.hotline('gathering')
        c['threat'], c['line_gather'] = self.hotline('threat'), self.line('gathering')
        for key, s in (('det3', 150), ('gather', 420), ('threat', 900), ('line_gather', 2400)):
            self.assertEqual(env.case(c[key])['status'], 'queued', key)
            self.move_back(c[key], s)
            self.assertStatus(env.assign(c[key], 't1'), 200, 'assign ' + key)
        # det3 goes to t2 after all: reassigned, assigned again (its time to assigned counts once)
        self.assertStatus(env.assign(c['det3'], 't2'), 200)
        self.ack(c['det3'], 't2')
        for key in ('det1', 'det2', 'mental', 'line_threat', 'triaged', 'gather', 'threat',
                    'line_gather'):
            self.ack(c[key], 't1')
        self.status(c['det1'], 'en_route', 't1')
        self.status(c['det1'], 'on_scene', 't1')
        self.status(c['threat'], 'on_scene', 't1')
        self.status(c['line_gather'], 'on_scene', 't1')
        self.status(c['threat'], 'resolved')
        self.status(c['threat'], 'closed')
        self.assertTrue(t1)
        return c

    def test_statistics_of_a_known_set_of_cases(self):
        env = self.env
        c = self.build_cases()
        days = sorted(set(self.days.values()))
        rng = '?from=%s&to=%s' % (days[0], days[-1])
        got = self.stats(rng)
        self.assertEqual((got['from'], got['to']), (days[0], days[-1]))
        self.assertEqual([d['date'] for d in got['by_day']], days)
        times = self.assertStats(got)
        # the numbers themselves, not only as the timelines say
        self.assertEqual(got['by_category'], {'detention': 3, 'mental_crisis': 1, 'threat': 3,
                                              'other': 1, 'gathering': 2})
        self.assertEqual(got['by_channel'], {'hotline': 8, 'line': 2})
        st = got['by_status']
        self.assertEqual(st['received'], 10)
        self.assertEqual(st['reassigned'], 1)
        self.assertEqual(st['assigned'], 10, 'nine cases assigned, one of them twice')
        self.assertEqual(st['acknowledged'], 9)
        self.assertEqual((st['on_scene'], st['resolved'], st['closed']), (3, 1, 1))
        self.assertEqual(got['times']['to_assigned']['n'], 9, 'det3 counted once')
        self.assertEqual(got['times']['to_acknowledged']['n'], 9)
        self.assertEqual(got['times']['to_on_scene']['n'], 3)
        self.assertGreaterEqual(max(times['to_assigned']), 2400)
        self.assertAlmostEqual(got['times']['to_on_scene']['median_s'], 900, delta=900 * 0.03)
        # erasing a closed case's personal data leaves its counts
        r = env.http('DELETE', '/v1/cases/%s/personal-data' % q(c['threat']),
                     {'reason': 'ทดสอบการลบข้อมูล'}, token=self.sup_token)
        self.assertStatus(r, 200)
        self.assertEqual(self.stats(rng), got)
        # other days: nothing; the default: the last 30 days to today
        empty = self.stats('?from=2020-02-27&to=2020-03-01')
        self.assertEqual([d['date'] for d in empty['by_day']],
                         ['2020-02-27', '2020-02-28', '2020-02-29', '2020-03-01'])
        self.assertEqual((empty['by_category'], empty['by_channel'], empty['by_status']),
                         ({}, {}, {}))
        self.assertEqual(empty['times']['to_assigned'], {'n': 0, 'median_s': None, 'p90_s': None})
        before = thai_today()
        d = self.stats()
        after = thai_today()
        self.assertEqual(len(d['by_day']), 30)
        self.assertIn(d['to'], (before.isoformat(), after.isoformat()))
        self.assertEqual(d['from'], (datetime.date.fromisoformat(d['to']) -
                                     datetime.timedelta(days=29)).isoformat())
        self.assertEqual(sum(x['cases'] for x in d['by_day']), 10)

    def test_counters_built_at_start_up_equal_those_kept(self):
        env = self.env
        self.build_cases()
        days = sorted(set(self.days.values()))
        rng = '?from=%s&to=%s' % (days[0], days[-1])
        live = self.stats(rng)
        keys = env.redis.keys(env.prefix + 'stats:day:*')
        self.assertEqual(len(keys), len(days))
        self.assertEqual(env.redis.command('GET', env.prefix + 'stats:built'), b'1')
        env.redis.command('DEL', env.prefix + 'stats:built', *keys)
        self.assertEqual(self.stats(rng)['by_status'], {}, 'the counters are gone')
        env.router.restart()
        self.assertEqual(self.stats(rng), live, 'built from the cases as they were kept')
        self.assertEqual(env.redis.command('GET', env.prefix + 'stats:built'), b'1')
        env.router.restart()
        self.assertEqual(self.stats(rng), live, 'built once: a second start counts nothing more')
        # cases of an older version (no stats_day, no marks): dated by created_at, the same counts
        first = (datetime.date.fromisoformat(days[0]) - datetime.timedelta(days=1)).isoformat()
        wide = '?from=%s&to=%s' % (first, days[-1])
        live = self.stats(wide)
        for cid in self.days:
            env.redis.command('HDEL', env.prefix + 'case:' + cid, 'stats_day', 'stats_a',
                              'stats_k', 'stats_o')
        env.redis.command('DEL', env.prefix + 'stats:built',
                          *env.redis.keys(env.prefix + 'stats:day:*'))
        env.router.restart()
        built = self.stats(wide)
        for part in ('by_category', 'by_channel', 'by_status', 'times'):
            self.assertEqual(built[part], live[part], part)
        self.assertEqual(sum(d['cases'] for d in built['by_day']), 10)
        for cid in self.days:
            self.assertTrue(env.redis.command('HGET', env.prefix + 'case:' + cid, 'stats_day'))

    def test_who_may_read_and_bad_ranges(self):
        env = self.env
        r = env.http('GET', '/v1/stats', token=env.operator_token)
        self.assertErrorBody(r, 403)
        r = env.http('GET', '/v1/stats')
        self.assertErrorBody(r, 401)
        today = thai_today()
        year = today - datetime.timedelta(days=365)
        self.assertEqual(len(self.stats('?from=%s&to=%s' % (year, today))['by_day']), 366)
        bad = ['?from=%s&to=%s' % (year - datetime.timedelta(days=1), today),
               '?from=2026-11-02&to=2026-11-01', '?from=2026-02-29', '?to=2026-13-01',
               '?from=26-11-01', '?from=2026-11-01T00:00:00Z', '?to=tomorrow', '?from=',
               '?from=1969-12-31&to=1970-01-01', '?from=%s' % (today + datetime.timedelta(days=1))]
        for query in bad:
            r = env.http('GET', '/v1/stats' + query, token=self.sup_token)
            self.assertErrorBody(r, 400, ['invalid_query'], query)
        self.assertEqual(self.stats('?to=2026-03-01')['from'], '2026-01-31')
        self.assertEqual(self.stats('?from=1970-01-01&to=1970-01-01')['by_day'],
                         [{'date': '1970-01-01', 'cases': 0, 'by_category': {}}])


class StatsConsoleTest(StatsHelpers, BrowserHelpers):

    def setUp(self):
        super().setUp()
        self.sup_password = new_password()
        self.create_operator('sup-1', self.sup_password, role='supervisor')
        r = self.env.http('POST', '/v1/session',
                          {'operator_id': 'sup-1', 'password': self.sup_password})
        self.assertStatus(r, 200)
        self.sup_cookie = re.match(r'ess_session=([A-Za-z0-9_-]{43});',
                                   r.headers['set-cookie']).group(1)
        self.env.secrets.add(self.sup_cookie)
        self.days = {}

    def stats(self, query='', token=None):
        r = self.env.http('GET', '/v1/stats' + query,
                          headers={'Cookie': 'ess_session=' + self.sup_cookie})
        self.assertStatus(r, 200)
        return r.body

    def test_a_supervisor_sees_the_charts_and_the_table(self):
        env = self.env
        # the first case waits 200 s for a team (none yet), the others are assigned at once
        made = [env.post_incident('detention')['case_id']]
        self.born(made[0])
        self.move_back(made[0], 200)
        env.put_team_at('t1', 0.5, 0, SKILLS, capacity=100)
        self.assertEqual(env.case(made[0])['status'], 'assigned')
        for cat in ('detention', 'detention', 'threat', 'mental_crisis', 'other'):
            made.append(env.post_incident(cat)['case_id'])
            self.born(made[-1])
        self.assertStatus(env.ack(made[0], env.team_tokens['t1']), 200)
        got = self.stats()
        self.assertStats(got)
        # an operator: no link, and the page says it is for supervisors
        b = self.open('operator')
        self.login(b)
        self.assertFalse([e for e in b.find_all('#nav-stats') if e.is_displayed()])
        b.get(self.base + '/console/stats')
        self.wait_for(b, '#stats-denied')
        for lang in ('th', 'en'):
            b = self.open('supervisor-' + lang, lang=lang)
            self.login(b, 'sup-1', self.sup_password)
            link = self.wait_for(b, '#nav-stats')
            if lang == 'th':
                self.keys(b, 's')  # the supervisors' shortcut
            else:
                link.click()
            self.wait_for(b, '#stats-total')
            self.assertEqual(b.driver.execute_script('return location.pathname'),
                             '/console/stats')
            for chart in ('days', 'category', 'channel', 'times'):
                svg = self.wait_for(b, '#stats-chart-%s svg' % chart)
                self.assertTrue(svg.get_attribute('aria-labelledby') or
                                svg.get_attribute('aria-label'), chart)
            bars = b.driver.execute_script(
                'return Array.from(document.querySelectorAll("#stats-chart-category svg rect[data-value]"))'
                '.map(function (r) { return [r.getAttribute("data-key"), +r.getAttribute("data-value")]; })')
            self.assertEqual(dict(bars), got['by_category'])
            rows = b.driver.execute_script(
                'return Array.from(document.querySelectorAll("#stats-table-category tbody tr"))'
                '.map(function (r) { return [r.dataset.key, r.cells[1].textContent.trim()]; })')
            self.assertEqual({k: int(v) for k, v in rows}, got['by_category'])
            rows = b.driver.execute_script(
                'return Array.from(document.querySelectorAll("#stats-table-channel tbody tr"))'
                '.map(function (r) { return [r.dataset.key, r.cells[1].textContent.trim()]; })')
            self.assertEqual({k: int(v) for k, v in rows}, got['by_channel'])
            times = b.driver.execute_script(
                'return Array.from(document.querySelectorAll("#stats-table-times tbody tr"))'
                '.map(function (r) { return [r.dataset.key, r.dataset.median, r.dataset.n]; })')
            for kind, median, n in times:
                self.assertEqual(int(n), got['times'][kind]['n'], kind)
                self.assertEqual(float(median) if median else None,
                                 got['times'][kind]['median_s'], kind)
            day_rows = b.driver.execute_script(
                'return document.querySelectorAll("#stats-table-days tbody tr").length')
            self.assertEqual(day_rows, 30)
            self.no_sideways_scroll(b, 'the statistics page')
            b.screenshot('stats-30-days')
            # the range: one day, typed with the keyboard
            today = got['to']
            frm = b.find('#stats-from')
            b.driver.execute_script('arguments[0].value = arguments[1]', frm, today)
            b.find('#stats-range button[type=submit]').click()
            wait_until(lambda: b.driver.execute_script(
                'return document.querySelectorAll("#stats-table-days tbody tr").length') == 1,
                message='one day shown')
            b.screenshot('stats-one-day')


if __name__ == '__main__':
    harness.main()
