"""One incident, one case (DESIGN.md "The shared record"): a new report of the same category
within 300 m and 30 minutes of an open case is marked possible_duplicate_of the nearest such case
(not across categories, not beyond 300 m by the router's haversine, not a case older than 30
minutes, not a closed one, never a case without coordinates); POST /v1/cases/{id}/merge closes a
case into another, on both timelines and in the case log, audited; the merged case's team is
released and it is never dispatched or routed again; both tracking codes then show the survivor
(GET /v1/track, the /track page, the LINE bot's "สถานะ"); the console shows the two cases side by
side and merges through its button. The 31-minute-old case is made by writing its created time
in Redis (its hash and its index score): the 300 m / 30 minutes are DESIGN's constants, not
settings. Screenshots land in <build dir>/screenshots/console-duplicate-*.png."""

import json
import re
import urllib.parse

import harness
from harness import BKK, RouterTest, destination, haversine_km, wait_until
from fake_line import LineTest, visible_text
from test_console import BrowserHelpers
from test_dispatch import FakeGateway

ALL_SKILLS = ['police', 'social_worker', 'nurse', 'mental_health', 'child_protection']
EVENT_KEYS = ('status', 'event', 'other_case_id')


def q(case_id):
    return urllib.parse.quote(case_id, safe='')


class DuplicateHelpers(RouterTest):
    """Cases at chosen places and readers of what Redis holds (no tests of its own)."""

    def at(self, category, point, **kw):
        """A hotline case of category at point (lat, lon): the create answer."""
        body = self.env.incident_body(lat=point[0], lon=point[1], category=category, **kw)
        r = self.env.post_incident_raw(body)
        self.assertStatus(r, 201, 'POST /v1/incidents at %r' % (point,))
        return r.body

    def merged_pair(self):
        """Two threat cases 50 m apart, the second merged into the first: (first, second)."""
        a = self.at('threat', BKK)
        b = self.at('threat', destination(BKK[0], BKK[1], 0, 0.05))
        self.assertStatus(self.merge(b['case_id'], a['case_id']), 200)
        return a, b

    def merge(self, case_id, into, token=None):
        return self.env.http('POST', '/v1/cases/%s/merge' % q(case_id), {'into': into},
                             token=self.env.operator_token if token is None else token)

    def redis_now_ms(self):
        secs, micros = self.env.redis.command('TIME')
        return int(secs) * 1000 + int(micros) // 1000

    def backdate(self, case, category, minutes):
        """Makes case look created `minutes` ago: its record and its place in the index."""
        ms = self.redis_now_ms() - minutes * 60 * 1000
        p = self.env.prefix
        self.env.redis.command('HSET', p + 'case:' + case['case_id'], 'created_at', str(ms))
        self.env.redis.command('ZADD', p + 'recent:' + category, str(ms), case['case_id'])

    def log_events(self, case_id):
        """The case-log entries of a case: [{field: value}], oldest first."""
        out = []
        for _, flat in self.env.redis.command('XRANGE', self.env.prefix + 'log', '-', '+'):
            f = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
            if f.get('case_id') == case_id:
                out.append(f)
        return out

    def events_of(self, view, event):
        return [e for e in view['timeline'] if e.get('event') == event]

    def assertMarked(self, answer, other, msg=''):
        self.assertEqual(answer.get('possible_duplicate_of'), other['case_id'],
                         '%s: %s' % (msg, json.dumps(answer, ensure_ascii=False)))

    def assertNotMarked(self, answer, msg=''):
        self.assertIn('possible_duplicate_of', answer, msg)
        self.assertIsNone(answer['possible_duplicate_of'],
                          '%s: %s' % (msg, json.dumps(answer, ensure_ascii=False)))


class DuplicateMarkTest(DuplicateHelpers):

    def test_nearest_of_two_within_300m_and_30min(self):
        env = self.env
        a = self.at('threat', BKK)
        self.assertNotMarked(a, 'the first case')
        b_point = destination(BKK[0], BKK[1], 90, 0.180)
        b = self.at('threat', b_point)
        self.assertMarked(b, a, 'B is 180 m from A')
        n_point = destination(BKK[0], BKK[1], 90, 0.150)  # 150 m from A, 30 m from B
        n = self.at('threat', n_point)
        self.assertMarked(n, b, 'the nearest of the two (B at 30 m, not A at 150 m)')

        view = env.case(n['case_id'])
        self.assertEqual(view['possible_duplicate_of'], b['case_id'])
        self.assertIsNone(view['merged_into'])
        self.assertAlmostEqual(view['possible_duplicate_m'],
                               haversine_km(*n_point, *b_point) * 1000, delta=1.5)
        self.assertEqual(view['status'], n['status'], 'created as usual')
        marks = self.events_of(view, 'possible_duplicate')
        self.assertEqual([e['other_case_id'] for e in marks], [b['case_id']], view['timeline'])
        self.assertEqual(marks[0]['by'], 'router')
        logged = [e for e in self.log_events(n['case_id']) if e.get('event') == 'possible_duplicate']
        self.assertEqual(len(logged), 1, 'one case-log entry for the mark')
        self.assertEqual(logged[0]['other_case_id'], b['case_id'])
        self.assertEqual(logged[0]['possible_duplicate_of'], b['case_id'],
                         'the entry carries the summary as it stands')

        listed = {c['case_id']: c for c in env.list_cases()}
        self.assertEqual(listed[n['case_id']]['possible_duplicate_of'], b['case_id'], 'the list')
        self.assertIsNone(listed[a['case_id']]['possible_duplicate_of'])
        self.assertIsNone(env.case(a['case_id'])['possible_duplicate_of'], 'A is not changed')

    def test_not_marked_beyond_300m_other_category_old_closed_or_unplaced(self):
        env = self.env
        a = self.at('threat', BKK)
        far = destination(BKK[0], BKK[1], 0, 0.301)
        self.assertAlmostEqual(haversine_km(*BKK, *far), 0.301, places=6)
        self.assertNotMarked(self.at('threat', far), '301 m away')
        near = destination(BKK[0], BKK[1], 180, 0.299)
        self.assertMarked(self.at('threat', near), a, '299 m away (the 301 m one is 600 m off)')

        self.assertNotMarked(self.at('detention', destination(BKK[0], BKK[1], 45, 0.01)),
                             'another category, 10 m away')

        place = destination(BKK[0], BKK[1], 270, 5.0)
        old = self.at('gathering', place)
        self.backdate(old, 'gathering', 31)
        self.assertNotMarked(self.at('gathering', destination(*place, 10, 0.01)),
                             'the other case is 31 minutes old')
        self.assertEqual(env.redis.command('ZSCORE', env.prefix + 'recent:gathering',
                                           old['case_id']), None,
                         'a member older than 30 minutes is trimmed at the next create')

        place = destination(BKK[0], BKK[1], 270, 10.0)
        young = self.at('mental_crisis', place)
        self.backdate(young, 'mental_crisis', 29)
        self.assertMarked(self.at('mental_crisis', destination(*place, 10, 0.01)), young,
                          'the other case is 29 minutes old')

        place = destination(BKK[0], BKK[1], 270, 15.0)
        closed = self.at('abuse_risk', place)
        self.assertStatus(env.set_status(closed['case_id'], 'closed'), 200)
        self.assertNotMarked(self.at('abuse_risk', destination(*place, 10, 0.01)),
                             'the other case is closed')

        body = env.incident_body(category='threat')
        body['location'] = {'address': harness.unique_address()}
        r = env.post_incident_raw(body)
        self.assertStatus(r, 201)
        self.assertNotMarked(r.body, 'a case without coordinates is not compared')
        self.assertNotMarked(self.at('threat', destination(BKK[0], BKK[1], 90, 5.0)),
                             'nor compared with')

    def test_triage_moves_the_case_to_its_new_category(self):
        a = self.at('threat', BKK)
        r = self.env.http('POST', '/v1/cases/%s/triage' % q(a['case_id']),
                          {'category': 'detention'}, token=self.env.operator_token)
        self.assertStatus(r, 200)
        near = destination(BKK[0], BKK[1], 0, 0.05)
        self.assertNotMarked(self.at('threat', near), 'A is no longer a threat case')
        self.assertMarked(self.at('detention', near), a, 'A is a detention case now')


class GatewayHelpers(DuplicateHelpers):
    """Teams reached through a fake gateway (no tests of its own)."""

    def setUp(self):
        super().setUp()
        self.gateway = FakeGateway()
        self.addCleanup(self.gateway.close)

    def team(self, team_id, km, capacity):
        return self.env.put_team_at(team_id, km, 30, ALL_SKILLS, capacity=capacity,
                                    notify={'webhook': self.gateway.url('/' + team_id)})

    def dispatched(self, case_id):
        return [r for r in self.gateway.received()
                if json.loads(r['body'].decode('utf-8')).get('case_id') == case_id]

    def team_load(self, team_id):
        r = self.env.http('GET', '/v1/teams', token=self.env.operator_token)
        self.assertStatus(r, 200)
        return {t['team_id']: t for t in r.body['teams']}[team_id]['active_cases']


class MergeTest(GatewayHelpers):

    def test_merge_closes_into_the_survivor(self):
        env = self.env
        t1 = self.team('t1', 1.0, 2)
        a = self.at('detention', BKK)
        b = self.at('detention', destination(BKK[0], BKK[1], 0, 0.05))
        self.assertAssignedTo(a, 't1')
        self.assertAssignedTo(b, 't1')
        self.assertMarked(b, a)
        wait_until(lambda: self.dispatched(b['case_id']), message='B dispatched to t1')
        self.assertStatus(env.ack(a['case_id'], t1), 200)
        self.assertEqual(self.team_load('t1'), 2)
        a_before = env.case(a['case_id'])

        r = self.merge(b['case_id'], a['case_id'])
        self.assertStatus(r, 200)
        self.assertEqual(r.body['case_id'], b['case_id'])
        self.assertEqual(r.body['status'], 'closed')
        self.assertEqual(r.body['merged_into'], a['case_id'])
        merged = [e for e in r.body['timeline'] if e.get('event') == 'merged']
        self.assertEqual([e['other_case_id'] for e in merged], [a['case_id']])
        self.assertEqual(merged[0]['by'], env.operator_id)
        self.assertEqual(r.body['timeline'][-1]['status'], 'closed')

        survivor = env.case(a['case_id'])
        self.assertEqual(survivor['status'], a_before['status'], 'the survivor keeps its status')
        self.assertEqual(survivor['team'], a_before['team'])
        self.assertIsNone(survivor['merged_into'])
        from_b = self.events_of(survivor, 'merged_from')
        self.assertEqual([e['other_case_id'] for e in from_b], [b['case_id']])
        self.assertEqual(from_b[0]['by'], env.operator_id)
        self.assertEqual(self.team_load('t1'), 1, 'B\'s slot at t1 is free again')

        for case_id, event, other in ((b['case_id'], 'merged', a['case_id']),
                                      (a['case_id'], 'merged_from', b['case_id'])):
            logged = [e for e in self.log_events(case_id) if e.get('event') == event]
            self.assertEqual([e['other_case_id'] for e in logged], [other], 'case log: ' + event)
        closing = [e for e in self.log_events(b['case_id']) if e.get('status') == 'closed'
                   and not e.get('event')]
        self.assertEqual(closing[-1]['merged_into'], a['case_id'])

        again = self.merge(b['case_id'], a['case_id'])
        self.assertStatus(again, 200, 'a retry of the same merge')
        self.assertEqual(again.body, env.case(b['case_id']))
        self.assertEqual(len(self.events_of(env.case(a['case_id']), 'merged_from')), 1,
                         'the retry changed nothing')


    def test_agencies_feed_sees_the_merge(self):
        env = self.env
        r = env.http('PUT', '/v1/agencies/police', {'name': 'Police', 'categories': ['threat'],
                                                   'identifying': False}, token=env.admin_token)
        self.assertStatus(r, 201)
        agency = r.body['token']
        env.secrets.add(agency)
        a, b = self.merged_pair()
        r = env.http('GET', '/v1/feed?count=100', token=agency)
        self.assertStatus(r, 200)
        got = [(e['case_id'], e['event'], e['case']['possible_duplicate_of'],
                e['case']['merged_into']) for e in r.body['entries']]
        self.assertIn((b['case_id'], 'possible_duplicate', a['case_id'], None), got)
        self.assertIn((b['case_id'], 'merged', a['case_id'], a['case_id']), got)
        self.assertIn((b['case_id'], 'closed', a['case_id'], a['case_id']), got)
        self.assertIn((a['case_id'], 'merged_from', None, None), got)

    def test_both_codes_show_the_survivor(self):
        env = self.env
        t1 = self.team('t1', 1.0, 2)
        a, b = self.merged_pair()
        self.assertStatus(env.ack(a['case_id'], t1), 200)
        self.assertStatus(env.set_status(a['case_id'], 'en_route', token=t1), 200)

        for code in (a['tracking_code'], b['tracking_code']):
            r = env.track(code)
            self.assertStatus(r, 200, code)
            self.assertEqual(r.body['status'], 'en_route', code)
            self.assertEqual(r.body['tracking_code'], a['tracking_code'], 'the survivor\'s view')
        self.assertEqual(env.track(b['tracking_code']).body, env.track(a['tracking_code']).body)
        # lenient input reaches the same view
        self.assertEqual(env.track(b['tracking_code'].lower().replace('-', '')).body['status'],
                         'en_route')

        pages = {}
        for code in (a['tracking_code'], b['tracking_code']):
            r = env.http('GET', '/track/%s?lang=en' % code)
            self.assertStatus(r, 200)
            pages[code] = r.raw.decode('utf-8') if isinstance(r.raw, bytes) else r.body
        self.assertEqual(pages[b['tracking_code']].replace(b['tracking_code'], a['tracking_code']),
                         pages[a['tracking_code']], 'the page of the old code is the survivor\'s')

        # the survivor moves on, merged into a third case later: the first code follows
        c = self.at('threat', destination(BKK[0], BKK[1], 0, 0.1))
        self.assertStatus(self.merge(a['case_id'], c['case_id']), 200)
        for code in (a['tracking_code'], b['tracking_code'], c['tracking_code']):
            self.assertEqual(env.track(code).body, env.track(c['tracking_code']).body, code)
        self.assertStatus(env.set_status(c['case_id'], 'closed'), 200)
        for code in (a['tracking_code'], b['tracking_code']):
            self.assertEqual(env.track(code).body['status'], 'closed', code)

    def test_upgrade_unrenders_views_written_before(self):
        """Public views written by an older version (schema 4) kept their rendered JSON (field
        view), which alone carried a merged code's survivor: ess_upgrade drops the field and
        gives the merged code's copy the survivor's code."""
        env = self.env
        a, b = self.merged_pair()
        P = env.prefix
        akey, bkey = P + 'track:' + a['tracking_code'], P + 'track:' + b['tracking_code']
        before = env.track(b['tracking_code']).body
        for key in (akey, bkey):  # as the older version left them
            env.redis.command('HSET', key, 'view', '{"old": true}')
        env.redis.command('HDEL', bkey, 'tracking_code')
        env.redis.command('SET', P + 'schema', '4')
        self.assertEqual(env.track(b['tracking_code']).body['tracking_code'], b['tracking_code'],
                         'without the upgrade the merged code shows itself')
        reply = json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, P))
        self.assertEqual((reply['upgraded'], reply['views']), (True, 1), reply)
        for key in (akey, bkey):
            self.assertIsNone(env.redis.command('HGET', key, 'view'), key)
        self.assertEqual(env.track(b['tracking_code']).body, before, 'the survivor\'s view again')
        self.assertEqual(before['tracking_code'], a['tracking_code'])

    def test_upgrade_shortens_views_written_before(self):
        """Public views written by an older version (schema 6) kept the category's labels and a
        JSON timeline: the router still reads them, ess_upgrade rewrites them (labels dropped,
        the timeline short, the merged code's copy too), and a status change rewrites a JSON
        timeline that is left."""
        env = self.env
        a, b = self.merged_pair()
        P = env.prefix
        akey, bkey = P + 'track:' + a['tracking_code'], P + 'track:' + b['tracking_code']
        before = env.track(b['tracking_code']).body
        self.assertEqual(before['category_label']['th'], 'ถูกข่มขู่', before)
        old_timeline = json.dumps(before['timeline'], separators=(',', ':'))

        def age(key):  # as the older version left it
            env.redis.command('HSET', key, 'timeline', old_timeline, 'label_th', 'old',
                              'label_en', 'old')

        def short(key):
            t = env.redis.command('HGET', key, 'timeline').decode()
            return not t.startswith('[') and '@' in t and env.redis.command(
                'HGET', key, 'label_th') is None

        for key in (akey, bkey):
            age(key)
        env.redis.command('SET', P + 'schema', '6')
        self.assertEqual(env.track(b['tracking_code']).body, before, 'the old form is read')
        reply = json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, P))
        self.assertEqual((reply['upgraded'], reply['views']), (True, 1), reply)
        for key in (akey, bkey):
            self.assertTrue(short(key), key)
        self.assertEqual(env.track(b['tracking_code']).body, before, 'the same view')

        age(akey)
        self.assertStatus(env.set_status(a['case_id'], 'closed'), 200)
        after = env.track(a['tracking_code']).body
        self.assertFalse(env.redis.command('HGET', akey, 'timeline').decode().startswith('['))
        self.assertEqual(after['timeline'][:-1], before['timeline'])
        self.assertEqual(after['timeline'][-1]['status'], 'closed')
        self.assertEqual(env.track(b['tracking_code']).body['timeline'], after['timeline'])

    def test_refusals_and_audit(self):
        env = self.env
        a = self.at('threat', BKK)
        b = self.at('threat', destination(BKK[0], BKK[1], 0, 0.05))
        c = self.at('threat', destination(BKK[0], BKK[1], 0, 0.1))
        unknown = a['case_id'][:-1] + ('0' if a['case_id'][-1] != '0' else '1')

        self.assertErrorBody(self.merge(b['case_id'], b['case_id']), 400, 'merge_into_itself')
        self.assertErrorBody(self.merge(unknown, a['case_id']), 404, 'not_found')
        self.assertErrorBody(self.merge(b['case_id'], unknown), 404, 'target_not_found')
        self.assertErrorBody(self.merge(b['case_id'], '../x'), 404, 'target_not_found')
        r = env.http('POST', '/v1/cases/%s/merge' % q(b['case_id']), {}, token=env.operator_token)
        self.assertErrorBody(r, 400, 'missing_field')
        r = env.http('POST', '/v1/cases/%s/merge' % q(b['case_id']), {'into': 7},
                     token=env.operator_token)
        self.assertErrorBody(r, 400, 'invalid_field')
        r = env.http('POST', '/v1/cases/%s/merge' % q(b['case_id']), b'[', token=env.operator_token)
        self.assertErrorBody(r, 400)
        self.assertErrorBody(self.merge(b['case_id'], a['case_id'], token=env.admin_token), 403)
        self.assertErrorBody(env.http('POST', '/v1/cases/%s/merge' % q(b['case_id']),
                                      {'into': a['case_id']}), 401)

        before = env.audit_entries()
        self.assertStatus(self.merge(b['case_id'], a['case_id']), 200)
        added = env.audit_entries()[len(before):]
        self.assertEqual([(e['action'], e['actor_kind'], e['actor_id'], e['case_id'], e['outcome'])
                          for e in added], [('update', 'operator', env.operator_id, b['case_id'],
                                             'ok')], 'the merge is audited once, as an update')
        r = self.merge(b['case_id'], c['case_id'])
        self.assertErrorBody(r, 409, 'already_merged')
        self.assertEqual(r.body['error'].get('merged_into'), a['case_id'])
        r = self.merge(c['case_id'], b['case_id'])
        self.assertErrorBody(r, 409, 'target_merged')
        self.assertEqual(r.body['error'].get('merged_into'), a['case_id'])
        self.assertStatus(env.set_status(c['case_id'], 'closed'), 200)
        self.assertErrorBody(self.merge(a['case_id'], c['case_id']), 409, 'target_closed')
        self.assertErrorBody(self.merge(c['case_id'], a['case_id']), 409, 'case_closed')
        self.assertIsNone(env.case(a['case_id'])['merged_into'], 'refusals change nothing')
        self.assertEqual(env.case(c['case_id'])['merged_into'], None)


class MergeNeverRoutedTest(GatewayHelpers):
    """MergeTest's steps with a 2 s acknowledgment timeout (a copy of the default rules)."""

    def setUp(self):
        env = harness.Env()
        self.env = env
        self.addCleanup(self._finish_env)
        env.redis.start()
        env.rules = harness.short_deadline_rules(env.workdir, 2, 3)
        env.router = env.add_router()
        self.gateway = FakeGateway()
        self.addCleanup(self.gateway.close)

    def test_merged_case_is_never_dispatched_or_routed_again(self):
        env = self.env
        self.team('t1', 1.0, 2)
        a = self.at('detention', BKK)
        b = self.at('detention', destination(BKK[0], BKK[1], 0, 0.05))
        self.assertAssignedTo(a, 't1')
        self.assertAssignedTo(b, 't1')
        wait_until(lambda: self.dispatched(b['case_id']), message='B dispatched to t1')
        self.assertStatus(self.merge(b['case_id'], a['case_id']), 200)
        self.assertIsNone(env.redis.command('ZSCORE', env.prefix + 'deadlines', b['case_id']))
        self.team('t2', 3.0, 2)  # capacity appears: the queue drains into it

        # A's deadline (made with B's) passes: A moves on; B, closed, stays where it is
        wait_until(lambda: any(e['status'] == 'reassigned' for e in
                               env.case(a['case_id'])['timeline']),
                   timeout=harness.scaled(30), message='A reassigned after its deadline')
        view = env.case(b['case_id'])
        self.assertEqual(view['status'], 'closed')
        self.assertFalse([e for e in view['timeline'] if e['status'] in
                          ('reassigned', 'assigned', 'queued') and not e.get('event')][1:],
                         'nothing after the first assignment: %r' % view['timeline'])
        sent = self.dispatched(b['case_id'])
        self.assertEqual([s['path'] for s in sent], ['/t1'],
                         'B was dispatched once, before the merge')

        # every path that routes refuses it
        r = env.http('POST', '/v1/cases/%s/triage' % q(b['case_id']), {'category': 'threat'},
                     token=env.operator_token)
        self.assertErrorBody(r, 409, 'case_merged')
        r = env.http('POST', '/v1/cases/%s/location' % q(b['case_id']),
                     {'lat': BKK[0], 'lon': BKK[1]}, token=env.operator_token)
        self.assertErrorBody(r, 409)
        self.assertErrorBody(env.assign(b['case_id'], 't2'), 409)
        self.assertErrorBody(env.set_status(b['case_id'], 'en_route', token=env.team_tokens['t1']),
                             (403, 409))
        self.assertErrorBody(env.ack(b['case_id'], env.team_tokens['t1']), (403, 409))

        # a queued case merged: capacity appearing later does not take it
        for tid in ('t1', 't2'):
            self.assertStatus(env.position(tid, env.teams[tid]['lat'], env.teams[tid]['lon'],
                                           available=False), 200)
        c = self.at('detention', destination(BKK[0], BKK[1], 0, 0.08))
        self.assertQueued(c, 'no team available')
        self.assertStatus(self.merge(c['case_id'], a['case_id']), 200)
        self.team('t3', 0.5, 3)
        self.assertStatus(env.position('t1', env.teams['t1']['lat'], env.teams['t1']['lon'],
                                       available=True), 200)
        self.assertIsNone(env.redis.command('ZSCORE', env.prefix + 'queue', c['case_id']))
        r = env.http('POST', '/v1/cases/%s/triage' % q(c['case_id']), {'priority': 'P1'},
                     token=env.operator_token)
        self.assertErrorBody(r, 409, 'case_merged')
        view = env.case(c['case_id'])
        self.assertEqual(view['status'], 'closed')
        self.assertIsNone(view['team'])
        self.assertEqual([e['status'] for e in view['timeline'] if not e.get('event')],
                         ['received', 'queued', 'closed'])
        self.assertEqual(self.dispatched(c['case_id']), [])


class MergeRetentionTest(DuplicateHelpers):
    """Public views kept ESS_TRACK_RETENTION_DAYS (8.64 s here) after their case is closed."""

    env_options = {'extra_env': {'ESS_TRACK_RETENTION_DAYS': '0.0001'}}

    def test_old_code_lives_and_goes_with_the_survivor(self):
        env = self.env
        a, b = self.merged_pair()
        self.assertIsNone(env.redis.command('ZSCORE', env.prefix + 'track:due', b['case_id']),
                          'the merged case\'s own view is not dated by its closing')
        self.assertStatus(env.track(b['tracking_code']), 200)
        self.assertStatus(env.set_status(a['case_id'], 'closed'), 200)
        tkey = env.prefix + 'track:' + a['tracking_code']
        wait_until(lambda: env.redis.command('EXISTS', tkey) == 0, harness.scaled(60), 0.2,
                   'the survivor\'s view gone after its retention')  # (polling the API: 429)
        self.assertEqual(env.track(a['tracking_code']).status, 404)
        self.assertEqual(env.track(b['tracking_code']).status, 404, 'the old code goes with it')


class MergeLineTest(LineTest, DuplicateHelpers):

    def test_line_reporter_of_merged_case_hears_the_survivor(self):
        env = self.env
        team = env.put_team_at('t1', 1.0, 10, ALL_SKILLS, capacity=3)
        u = self.new_user('th')
        place = self.new_place()
        code = self.report(u, 'detention', place)
        line_case = self.case_by_code(code)
        h = self.at('detention', (place[0], place[1] + 0.0002))
        self.assertMarked(h, line_case, 'the hotline report of the same incident')
        self.assertStatus(env.ack(h['case_id'], team), 200)
        self.assertStatus(env.set_status(h['case_id'], 'en_route', token=team), 200)
        before = visible_text(self.say(u.text('สถานะ')))

        self.assertStatus(self.merge(line_case['case_id'], h['case_id']), 200)
        after = visible_text(self.say(u.text('สถานะ')))
        self.assertNotEqual(after, before, 'the answer follows the survivor')
        typed = visible_text(self.say(self.new_user('th').text(h['tracking_code'])))
        self.assertEqual(after.replace(code, h['tracking_code']), typed,
                         'the reporter hears what the survivor\'s code answers')


class DuplicateConsoleTest(BrowserHelpers, DuplicateHelpers):

    def test_banner_side_by_side_and_merge_by_keyboard(self):
        env = self.env
        a = self.at('detention', BKK)
        b = self.at('detention', destination(BKK[0], BKK[1], 45, 0.12))
        self.assertMarked(b, a)
        b_ = self.open('duplicate', '/console/')
        self.login(b_)
        row = self.wait_for(b_, 'tr[data-case-id="%s"] .dup-badge' % b['case_id'],
                            message='the queue\'s badge on the possible duplicate')
        self.assertTrue(row.text.strip())
        self.assertEqual(b_.find_all('tr[data-case-id="%s"] .dup-badge' % a['case_id']), [])

        b_.get(self.base + '/console/cases/' + q(b['case_id']))
        self.wait_for(b_, '#duplicate table.dup-compare', message='the side-by-side banner')
        text = self.text_of(b_, '#duplicate')
        for code in (a['tracking_code'], b['tracking_code']):
            self.assertIn(code, text)
        self.assertIn('ถูกกักขัง', text, 'the category')
        self.assertIn('120 ม.', text, 'how far apart')
        link = b_.find('#dup-other-link')
        self.assertTrue(link.get_attribute('href').endswith('/console/cases/' + a['case_id']))
        b_.screenshot('th')

        from selenium.webdriver.common.keys import Keys
        button = b_.find('#merge-into')
        self.assertEqual(button.tag_name, 'button')
        b_.driver.execute_script('arguments[0].focus()', button)
        self.keys(b_, Keys.ENTER)
        self.wait_for(b_, '#confirm[open] button.primary', message='the confirm dialog')
        b_.screenshot('confirm')
        self.assertEqual(env.case(b['case_id'])['status'], b['status'], 'nothing before the confirm')
        self.keys(b_, Keys.ENTER)  # the dialog's confirm button has the focus
        self.wait_for(b_, '#merged-into a', message='the merged case links the survivor')
        self.assertIn(a['tracking_code'], self.text_of(b_, '#merged-into'))
        view = env.case(b['case_id'])
        self.assertEqual((view['status'], view['merged_into']), ('closed', a['case_id']))
        b_.screenshot('merged')

        b_.find('#merged-into a').click()
        wait_until(lambda: re.search('/console/cases/' + re.escape(a['case_id']) + '$',
                                     b_.current_url()), message='the survivor\'s page')
        self.wait_for(b_, 'tr.ev-merged_from a', message='the survivor\'s timeline links B')


if __name__ == '__main__':
    harness.main()
