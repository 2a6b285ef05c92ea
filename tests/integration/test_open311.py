"""Open311 GeoReport v2 (DESIGN "The shared record"): public, read-only, JSON only; discovery,
services (the five categories and other), requests listed by creation time (at most 1000, a span of
at most 90 days, filters by service_code, status, start_date, end_date) and one request by its
tracking code. No personal data: times rounded down to the hour, places to 0.01 degree, no
description, address or media; abuse_risk cases never listed, only found by their code. Errors in
Open311's shape [{"code", "description"}]; lookups count against ESS_TRACK_RATE_PER_MIN with
GET /v1/track."""

import json
import math
import re
import secrets
import time
from datetime import datetime, timedelta, timezone

import harness
from harness import RouterTest

POLICE_SW = ['police', 'social_worker']
LABELS_TH = {'threat': 'ถูกข่มขู่', 'detention': 'ถูกกักขัง', 'abuse_risk': 'เสี่ยงถูกล่วงละเมิด',
             'mental_crisis': 'ผู้คลุ้มคลั่ง', 'gathering': 'มั่วสุม', 'other': 'ปัญหาสังคมอื่น ๆ'}
REQUEST_KEYS = {'service_request_id', 'status', 'status_notes', 'service_name', 'service_code',
                'agency_responsible', 'requested_datetime', 'updated_datetime', 'lat', 'long'}
HOUR_TIME = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:00:00\+07:00$')
THAI = timezone(timedelta(hours=7))
BASE = '/open311/v2/'
DESCRIPTIONS = {'threat': 'ถูกเจ้าหนี้นอกระบบขู่ว่าจะทำร้ายที่หน้าบ้าน',
                'detention': 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ',
                'abuse_risk': 'มีผู้ชายแอบถ่ายและตามรังควานพนักงานสาว',
                'mental_crisis': 'ชายคลุ้มคลั่งถือมีดอาละวาดในตลาด',
                'gathering': 'วัยรุ่นมั่วสุมเสพยาในบ้านร้าง',
                'other': 'เพื่อนบ้านทะเลาะกันเสียงดังทุกคืน'}


def parse_time(s):
    return datetime.fromisoformat(s.replace('Z', '+00:00'))


def thai_hour(t):
    """The Open311 text of the time t (RFC 3339 text or datetime) rounded down to the hour."""
    if isinstance(t, str):
        t = parse_time(t)
    return t.astimezone(THAI).replace(minute=0, second=0, microsecond=0).strftime(
        '%Y-%m-%dT%H:%M:%S+07:00')


def w3c(t):
    return t.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def rounded(v):
    return math.floor(v * 100 + 0.5) / 100


class Open311Checks:

    def setUp(self):
        super().setUp()
        self.answers = []  # every answer, for assertNoPersonalData
        self.incidents = []

    def get(self, path, **kw):
        r = self.env.http('GET', BASE + path, **kw)
        self.answers.append(r)
        return r

    def assertOpen311Headers(self, r):
        self.assertEqual(r.headers.get('access-control-allow-origin'), '*', r)
        self.assertEqual(r.headers.get('cache-control'), 'no-store', r)
        self.assertEqual(r.headers.get('x-content-type-options'), 'nosniff', r)
        self.assertTrue(r.headers.get('content-type', '').startswith('application/json'), r)

    def assertOpen311Error(self, r, status, msg=None):
        """[{"code": status, "description": "..."}] with that HTTP status."""
        where = (msg + ': ' if msg else '') + repr(r)
        self.assertEqual(r.status, status, where)
        self.assertOpen311Headers(r)
        self.assertIsInstance(r.body, list, where)
        self.assertEqual(len(r.body), 1, where)
        self.assertEqual(set(r.body[0]), {'code', 'description'}, where)
        self.assertEqual(r.body[0]['code'], status, where)
        self.assertIsInstance(r.body[0]['code'], int, where)
        self.assertIsInstance(r.body[0]['description'], str, where)
        self.assertTrue(r.body[0]['description'].strip(), where)

    def assertRequest(self, req, incident, status_word, team_name=None):
        """req is the Open311 request of incident (post_incident's answer), field by field."""
        env = self.env
        self.assertEqual(set(req), REQUEST_KEYS, req)
        case = env.case(incident['case_id'])
        view = env.track(incident['tracking_code']).body
        self.assertEqual(req['service_request_id'], incident['tracking_code'])
        closed = status_word in ('resolved', 'closed', 'merged')
        self.assertEqual(req['status'], 'closed' if closed else 'open', req)
        self.assertEqual(req['status_notes'], status_word, req)
        self.assertEqual(req['service_code'], case['category'], req)
        self.assertEqual(req['service_name'], LABELS_TH[case['category']], req)
        self.assertEqual(req['agency_responsible'], team_name, req)
        for k in ('requested_datetime', 'updated_datetime'):
            self.assertIsInstance(req[k], str, req)
            self.assertRegex(req[k], HOUR_TIME, 'rounded down to the hour, Thai time: %r' % req)
        self.assertEqual(req['requested_datetime'], thai_hour(case['created_at']), req)
        self.assertEqual(req['updated_datetime'], thai_hour(view['updated_at']), req)
        loc = incident['_request']['location']
        for k, exact in (('lat', loc['lat']), ('long', loc['lon'])):
            self.assertIsInstance(req[k], float, req)
            self.assertAlmostEqual(req[k], rounded(exact), places=9, msg=req)

    def assertNoPersonalData(self, incidents):
        """No answer so far holds a canary of the incidents: description, address, reporter,
        the exact coordinates' digits."""
        values = []
        for a in incidents:
            body = a['_request']
            values += [body.get('description'), body['location'].get('address'),
                       body['reporter']['name'], body['reporter']['phone']]
            for v in (body['location']['lat'], body['location']['lon']):
                values += [t for t in harness.coordinate_texts(v) if len(t) >= 7]
        for r in self.answers:
            text = r.raw.decode('utf-8')
            escaped = json.dumps(r.body, ensure_ascii=True) if r.body is not None else ''
            for v in values:
                if not v:
                    continue
                self.assertNotIn(v, text, 'personal data %r in %s' % (v, text[:300]))
                self.assertNotIn(json.dumps(v)[1:-1], escaped, 'personal data %r (escaped)' % v)
            for k in ('description', 'address', 'address_id', 'zipcode', 'media_url', 'reporter',
                      'phone', 'email', 'first_name', 'last_name'):
                self.assertNotIn('"%s"' % k, text, 'field %s in %s' % (k, text[:300]))

    def incident(self, category, **kw):
        a = self.env.post_incident(category, DESCRIPTIONS[category] + ' ' + secrets.token_hex(3),
                                   **kw)
        self.incidents.append(a)
        return a

    def codes(self, r):
        self.assertStatus(r, 200)
        self.assertOpen311Headers(r)
        self.assertIsInstance(r.body, list, r)
        return [q['service_request_id'] for q in r.body]


class Open311Test(Open311Checks, RouterTest):

    env_options = {'extra_env': {'ESS_TRACK_RATE_PER_MIN': '100000'}}

    def test_discovery(self):
        r = self.get('discovery.json')
        self.assertStatus(r, 200)
        self.assertOpen311Headers(r)
        d = r.body
        self.assertEqual(set(d), {'changeset', 'contact', 'key_service', 'endpoints'}, d)
        for k in ('changeset', 'contact', 'key_service'):
            self.assertIsInstance(d[k], str)
            self.assertTrue(d[k])
        self.assertEqual(len(d['endpoints']), 1, d)
        ep = d['endpoints'][0]
        self.assertEqual(set(ep), {'specification', 'url', 'changeset', 'type', 'formats'}, ep)
        self.assertEqual(ep['specification'], 'http://wiki.open311.org/GeoReport_v2')
        self.assertTrue(ep['url'].endswith('/open311/v2'), ep)
        self.assertEqual(ep['type'], 'production')
        self.assertEqual(ep['formats'], ['application/json'])
        self.assertIsInstance(ep['changeset'], str)
        self.assertOpen311Error(self.get('discovery.xml'), 400)
        metrics = self.env.http('GET', '/metrics').raw.decode()
        self.assertIn('ess_http_requests_total{route="open311",code="200"} 1\n', metrics)
        self.assertIn('ess_http_requests_total{route="open311",code="400"} 1\n', metrics)

    def test_services(self):
        r = self.get('services.json')
        self.assertStatus(r, 200)
        self.assertOpen311Headers(r)
        self.assertEqual([s['service_code'] for s in r.body],
                         ['threat', 'detention', 'abuse_risk', 'mental_crisis', 'gathering',
                          'other'])
        for s in r.body:
            self.assertEqual(set(s), {'service_code', 'service_name', 'description', 'metadata',
                                      'type', 'keywords', 'group'}, s)
            self.assertEqual(s['service_name'], LABELS_TH[s['service_code']], s)
            self.assertIs(s['metadata'], False, s)
            self.assertEqual(s['type'], 'realtime', s)
            for k in ('description', 'keywords', 'group'):
                self.assertIsInstance(s[k], str, s)
                self.assertTrue(s[k], s)
            self.assertIn(s['service_code'], s['keywords'], s)
        # a service definition exists only for metadata true: none here
        self.assertOpen311Error(self.get('services/threat.json'), 404, 'metadata is false')
        self.assertOpen311Error(self.get('services/nope.json'), 404, 'unknown service')
        self.assertOpen311Error(self.get('services/threat.xml'), 400, 'xml')

    def test_request_by_code_field_by_field(self):
        env = self.env
        tok = env.put_team_at('bkk-03', 2.3, 135, POLICE_SW, name='ทีมสหวิชาชีพ เขตพระนคร')
        a = self.incident('detention')
        self.assertStatus(env.ack(a['case_id'], tok), 200)
        self.assertStatus(env.set_status(a['case_id'], 'en_route', token=tok), 200)
        code = a['tracking_code']
        r = self.get('requests/%s.json' % code)
        self.assertStatus(r, 200)
        self.assertOpen311Headers(r)
        self.assertIsInstance(r.body, list, 'an array of one request, as GeoReport v2 answers')
        self.assertEqual(len(r.body), 1, r)
        self.assertRequest(r.body[0], a, 'en_route', 'ทีมสหวิชาชีพ เขตพระนคร')
        for k in ('lat', 'long'):
            self.assertRegex(r.raw.decode(), r'"%s":-?\d+(\.\d{1,2})?[,}]' % k,
                             'two decimals at most in the text')
        # lenient as e-Tracking: lower case, no dashes
        lenient = code.lower().replace('-', '')
        self.assertEqual(self.get('requests/%s.json' % lenient).body, r.body)
        # closed once resolved
        self.assertStatus(env.set_status(a['case_id'], 'resolved', token=tok), 200)
        r = self.get('requests/%s.json' % code)
        self.assertRequest(r.body[0], a, 'resolved', 'ทีมสหวิชาชีพ เขตพระนคร')
        # queued, no team: agency_responsible null; no location: lat/long null
        b = env.post_incident('other', 'ทะเลาะกันเสียงดัง ' + secrets.token_hex(3))
        self.incidents.append(b)
        q = self.get('requests/%s.json' % b['tracking_code']).body[0]
        self.assertRequest(q, b, 'queued', None)
        self.assertNoPersonalData(self.incidents)

    def test_request_errors(self):
        code = self.incident('threat')['tracking_code']
        self.assertOpen311Error(self.get('requests/%s.xml' % code), 400, '.xml')
        self.assertOpen311Error(self.get('requests/%s' % code), 400, 'no format')
        self.assertOpen311Error(self.get('requests/%s.json' % harness.make_tracking_code()), 404,
                                'unknown code')
        self.assertOpen311Error(self.get('requests/HM-7K3-Q9X-TD4.json'), 400, 'bad check')
        self.assertOpen311Error(self.get('requests/nonsense.json'), 400, 'malformed')
        for name in ('discovery', 'services', 'requests'):
            self.assertOpen311Error(self.get(name + '.xml'), 400, name + '.xml')
            self.assertOpen311Error(self.get(name + '.csv'), 400, name + '.csv')
        self.assertOpen311Error(self.get('tokens/1.json'), 404, 'no tokens resource')
        self.assertOpen311Error(self.get('nothing.json'), 404, 'unknown resource')
        self.assertOpen311Error(self.env.http('GET', '/open311/v3/services.json'), 404, 'v3')
        r = self.env.http('POST', BASE + 'requests.json', {'service_code': 'threat'},
                          token=self.env.operator_token)
        self.assertOpen311Error(r, 405, 'read-only: no POST, even for an operator')
        self.assertStatus(self.env.http('POST', '/v1/track/' + code), 405)
        self.assertErrorBody(self.env.http('POST', '/v1/track/' + code), 405,
                             msg='other routes keep their error shape')

    def test_list_filters(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW, capacity=5)
        made = {c: self.incident(c) for c in DESCRIPTIONS}
        listed = self.codes(self.get('requests.json'))
        expected = {made[c]['tracking_code'] for c in made if c != 'abuse_risk'}
        self.assertEqual(set(listed), expected, 'every case but abuse_risk')
        self.assertEqual(len(listed), len(set(listed)), 'once each')
        r = self.get('requests.json')
        for q in r.body:
            cat = q['service_code']
            self.assertRequest(q, made[cat], env.case(made[cat]['case_id'])['status'],
                               q['agency_responsible'])
        # newest first
        created = [env.case(made[q['service_code']]['case_id'])['created_at'] for q in r.body]
        self.assertEqual(created, sorted(created, reverse=True), 'newest first')

        self.assertEqual(self.codes(self.get('requests.json?service_code=threat')),
                         [made['threat']['tracking_code']])
        self.assertEqual(set(self.codes(self.get('requests.json?service_code=threat,gathering'))),
                         {made['threat']['tracking_code'], made['gathering']['tracking_code']})
        self.assertEqual(self.codes(self.get('requests.json?service_code=abuse_risk')), [],
                         'abuse_risk is never listed, even when asked for')
        self.assertEqual(set(self.codes(self.get('requests.json?service_code=&status='))),
                         expected, 'an empty argument is one not given')
        # status
        other = made['other']['case_id']
        self.assertStatus(env.set_status(other, 'closed'), 200)
        self.assertEqual(self.codes(self.get('requests.json?status=closed')),
                         [made['other']['tracking_code']])
        self.assertEqual(set(self.codes(self.get('requests.json?status=open'))),
                         expected - {made['other']['tracking_code']})
        self.assertEqual(set(self.codes(self.get('requests.json?status=open,closed'))), expected)
        # dates: a span around now, one in the past
        now = datetime.now(timezone.utc)
        q = 'requests.json?start_date=%s&end_date=%s' % (w3c(now - timedelta(days=1)),
                                                         w3c(now + timedelta(hours=2)))
        self.assertEqual(set(self.codes(self.get(q))), expected)
        q = 'requests.json?start_date=%s&end_date=%s' % (w3c(now - timedelta(days=30)),
                                                         w3c(now - timedelta(days=2)))
        self.assertEqual(self.codes(self.get(q)), [])
        q = 'requests.json?start_date=%s' % w3c(now - timedelta(days=89))
        self.assertEqual(set(self.codes(self.get(q))), expected, 'only start_date: up to now')
        q = 'requests.json?end_date=%s' % w3c(now - timedelta(days=1))
        self.assertEqual(self.codes(self.get(q)), [], 'only end_date: the 90 days before it')
        # the span applies to the times as shown, rounded down to the hour
        t = made['threat']
        hour = parse_time(env.case(t['case_id'])['created_at']).replace(minute=0, second=0,
                                                                          microsecond=0)
        offset = hour.astimezone(THAI).isoformat()  # +07:00
        q = 'requests.json?service_code=threat&start_date=%s&end_date=%s' % (
            offset.replace('+', '%2B'), offset.replace('+', '%2B'))
        self.assertEqual(self.codes(self.get(q)), [t['tracking_code']],
                         'a case shown at hour h is in [h, h]')
        q = 'requests.json?service_code=threat&start_date=%s' % w3c(hour + timedelta(minutes=1))
        self.assertEqual(self.codes(self.get(q)), [],
                         'a case shown at hour h is not after h + 1 minute, whatever its minute')
        self.assertNoPersonalData(self.incidents)

    def test_bad_list_queries(self):
        now = datetime.now(timezone.utc)
        for q, why in (
                ('status=pending', 'unknown status'),
                ('status=open,', 'an empty status in the list'),
                ('service_code=threats', 'unknown service_code'),
                ('service_code=threat,,other', 'an empty code in the list'),
                ('start_date=2026-11-01', 'a date without a time and zone'),
                ('start_date=yesterday', 'not a date'),
                ('end_date=2026-11-01T00:00:00', 'no zone'),
                ('start_date=%s&end_date=%s' % (w3c(now), w3c(now - timedelta(hours=1))),
                 'start after end'),
                ('start_date=%s&end_date=%s' % (w3c(now - timedelta(days=91)), w3c(now)),
                 'more than 90 days'),
                ('start_date=%s' % w3c(now - timedelta(days=91)),
                 'more than 90 days to now'),
                ('service_request_id=HM-7K3-Q9X-TD8', 'lookups go one code at a time'),
                ('status=%zz', 'malformed query')):
            self.assertOpen311Error(self.get('requests.json?' + q), 400, why)
        q = 'start_date=%s&end_date=%s' % (w3c(now - timedelta(days=90)), w3c(now))
        self.assertStatus(self.get('requests.json?' + q), 200, '90 days exactly')

    def test_abuse_risk_found_only_by_code(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a = self.incident('abuse_risk')
        self.assertNotIn(a['tracking_code'], self.codes(self.get('requests.json')))
        self.assertNotIn(a['tracking_code'],
                         self.codes(self.get('requests.json?service_code=abuse_risk')))
        r = self.get('requests/%s.json' % a['tracking_code'])
        self.assertStatus(r, 200)
        self.assertRequest(r.body[0], a, env.case(a['case_id'])['status'],
                           r.body[0]['agency_responsible'])
        self.assertEqual(r.body[0]['service_code'], 'abuse_risk')
        self.assertNoPersonalData(self.incidents)

    def test_at_most_1000_newest_first(self):
        """1200 cases (one made through the API, the others copies of it in Redis with their own
        ids, codes and times, one second apart): the list answers the newest 1000."""
        env = self.env
        a = self.incident('threat')
        P = env.prefix
        case = env.redis.command('HGETALL', P + 'case:' + a['case_id'])
        fields = dict(zip(case[::2], case[1::2]))
        view = env.redis.command('HGETALL', P + 'track:' + a['tracking_code'])
        track = dict(zip(view[::2], view[1::2]))
        now = int(time.time() * 1000)
        codes = []
        for i in range(1200):
            cid, code = 'COPY%06d' % i, harness.make_tracking_code()
            at = now - (i + 1) * 1000
            f = {**fields, b'tracking_code': code.encode(), b'created_at': str(at).encode()}
            env.redis.command('HSET', P + 'case:' + cid, *[x for kv in f.items() for x in kv])
            t = {**track, b'case_id': cid.encode(), b'updated_at': str(at).encode()}
            env.redis.command('HSET', P + 'track:' + code, *[x for kv in t.items() for x in kv])
            env.redis.command('ZADD', P + 'cases:created', at, cid)
            codes.append(code)
        r = self.get('requests.json')
        got = self.codes(r)
        self.assertEqual(len(got), 1000, 'at most 1000')
        self.assertEqual(got, [a['tracking_code']] + codes[:999], 'the newest 1000, newest first')
        times = [q['requested_datetime'] for q in r.body]
        self.assertEqual(times, sorted(times, reverse=True))

    def test_scan_bound(self):
        """One list request looks at most at 10,000 cases of its span: a gathering case under
        10,000 newer threat cases (copies made in Redis, an hour later) is past the bound for
        service_code=gathering over the whole span, and found in a span that leaves them out."""
        env = self.env
        g = self.incident('gathering')
        t = self.incident('threat')
        created = parse_time(env.case(g['case_id'])['created_at'])
        P = env.prefix
        env.redis.command('EVAL', """
            local P, src, n, at = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
            local f = redis.call('HGETALL', P .. 'case:' .. src)
            local code = redis.call('HGET', P .. 'case:' .. src, 'tracking_code')
            local v = redis.call('HGETALL', P .. 'track:' .. code)
            for i = 1, n do
                local id, c = 'SCAN' .. i, 'HM-SCAN-' .. i
                redis.call('HSET', P .. 'case:' .. id, unpack(f))
                redis.call('HSET', P .. 'case:' .. id, 'tracking_code', c, 'created_at', at + i)
                redis.call('HSET', P .. 'track:' .. c, unpack(v))
                redis.call('HSET', P .. 'track:' .. c, 'case_id', id)
                redis.call('ZADD', P .. 'cases:created', at + i, id)
            end
            return n""", 0, P, t['case_id'], 10000,
            int((created + timedelta(hours=1)).timestamp() * 1000))
        later = created + timedelta(hours=3)
        q = 'requests.json?service_code=gathering&start_date=%s&end_date=%s'
        self.assertEqual(self.codes(self.get(q % (w3c(created - timedelta(days=1)), w3c(later)))),
                         [], '10,000 newer cases looked at, none a gathering')
        self.assertEqual(self.codes(self.get(q % (w3c(created - timedelta(days=1)),
                                                  w3c(created)))),
                         [g['tracking_code']], 'a span without them')
        r = self.get('requests.json?start_date=%s&end_date=%s' % (w3c(created), w3c(later)))
        self.assertEqual(len(self.codes(r)), 1000, 'the first 1000 of them')

    def test_erased_listed_expired_not(self):
        env = self.env
        a = self.incident('gathering')
        self.assertStatus(env.set_status(a['case_id'], 'closed'), 200)
        sup = self.supervisor_token('sup-o311')
        r = env.http('DELETE', '/v1/cases/%s/personal-data' % a['case_id'], {'reason': 'ขอลบ'},
                     token=sup)
        self.assertStatus(r, 200)
        self.assertTrue(env.case(a['case_id']).get('erased_at'))
        self.assertIn(a['tracking_code'], self.codes(self.get('requests.json')))
        q = self.get('requests/%s.json' % a['tracking_code']).body[0]
        self.assertRequest(q, a, 'closed', None)
        self.assertNoPersonalData(self.incidents)
        # the public view expires (as ess_retention_sweep does it): not listed, 404 by code
        P = env.prefix
        env.redis.command('ZADD', P + 'track:due', 1, a['case_id'])
        harness.wait_until(lambda: env.track(a['tracking_code']).status == 404, 30, 0.2,
                           'the public view deleted by the sweep')
        self.assertIsNone(env.redis.command('ZSCORE', P + 'cases:created', a['case_id']),
                          'out of the index with its view')
        self.assertNotIn(a['tracking_code'], self.codes(self.get('requests.json')))
        self.assertOpen311Error(self.get('requests/%s.json' % a['tracking_code']), 404)

    def test_upgrade_fills_the_index(self):
        """Cases made before the index (schema 3) are indexed by ess_upgrade; a case whose
        public view is gone is not."""
        env = self.env
        kept = [self.incident(c) for c in ('threat', 'detention')]
        gone = self.incident('gathering')
        P = env.prefix
        env.redis.command('DEL', P + 'cases:created', P + 'track:' + gone['tracking_code'])
        env.redis.command('SET', P + 'schema', '3')
        self.assertEqual(self.codes(self.get('requests.json')), [])
        reply = json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, P))
        self.assertEqual((reply['upgraded'], reply['created']), (True, 2), reply)
        self.assertEqual(set(self.codes(self.get('requests.json'))),
                         {a['tracking_code'] for a in kept})
        for a in kept:
            self.assertEqual(int(env.redis.command('ZSCORE', P + 'cases:created', a['case_id'])),
                             int(parse_time(env.case(a['case_id'])['created_at']).timestamp()
                                 * 1000))


class Open311TriageTest(Open311Checks, RouterTest):
    """With the rule table's keywords alone (ESS_TRIAGE_MODEL=none, as test_needs_triage), a text
    that names nothing is unsure: its case waits for triage."""

    env_options = {'extra_env': {'ESS_TRACK_RATE_PER_MIN': '100000', 'ESS_TRIAGE_MODEL': 'none'}}

    def test_unconfirmed_category_not_listed(self):
        """A case whose category is the classifier's unsure guess waits for triage: not listed
        under a guess that may change (to abuse_risk among others), found by its code."""
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        body = env.incident_body(description='ทนไม่ไหวแล้ว ไม่รู้จะทำยังไงดี')  # names nothing
        r = env.post_incident_raw(body)
        self.assertStatus(r, 201)
        self.assertEqual(r.body['queue_reason'], 'needs_triage', r)
        code = r.body['tracking_code']
        self.assertNotIn(code, self.codes(self.get('requests.json')))
        self.assertStatus(self.get('requests/%s.json' % code), 200)
        # confirmed by an operator: listed from then on
        t = env.http('POST', '/v1/cases/%s/triage' % r.body['case_id'], {'category': 'threat'},
                     token=env.operator_token)
        self.assertStatus(t, 200)
        self.assertEqual(self.codes(self.get('requests.json')), [code])
        self.assertEqual(self.get('requests/%s.json' % code).body[0]['service_code'], 'threat')


class Open311RateTest(Open311Checks, RouterTest):
    """Lookups of cases count against ESS_TRACK_RATE_PER_MIN with GET /v1/track; discovery and
    services look nothing up."""

    env_options = {'extra_env': {'ESS_TRACK_RATE_PER_MIN': '3'}}

    def test_rate_limit(self):
        env = self.env
        code = self.incident('threat')['tracking_code']
        self.fresh_minute()
        self.assertStatus(self.get('requests.json'), 200)
        self.assertStatus(self.get('requests/%s.json' % code), 200)
        self.assertStatus(env.track(code), 200)
        for path in ('requests.json', 'requests/%s.json' % code):
            r = self.get(path)
            self.assertOpen311Error(r, 429, path)
            self.assertTrue(1 <= int(r.headers.get('retry-after', '0')) <= 60, r.headers)
        self.assertErrorBody(env.track(code), 429, 'rate_limited')
        self.assertStatus(self.get('discovery.json'), 200, 'no lookup: not limited')
        self.assertStatus(self.get('services.json'), 200, 'no lookup: not limited')
        self.assertOpen311Error(self.get('requests/%s.xml' % code), 400,
                                'a refused format needs no lookup')


if __name__ == '__main__':
    harness.main()
