"""What the operator console needs from the API (DESIGN.md "The operator console"): incidents
without coordinates and placing them (POST /v1/cases/{id}/location), the team list (GET
/v1/teams), finding cases (GET /v1/cases?q=), correcting the triage (POST /v1/cases/{id}/triage),
far teams (POST /v1/cases/{id}/assign, 409 far_team), operators' notes (POST
/v1/cases/{id}/notes), a case's candidate teams (GET /v1/cases/{id}/candidates) and the
classifier's suggestion (POST /v1/classify); each with its bad input."""

import json
import re
import urllib.parse

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
MENTAL = ['mental_health', 'police']
UNKNOWN_CASE = '01JD0000000000000000000000'
BAD_CASE = 'not-a-case'


def q(s):
    return urllib.parse.quote(s, safe='')


def case_log(env):
    """The case log's entries as dicts of text."""
    out = []
    for _, fields in env.redis.command('XRANGE', env.prefix + 'log', '-', '+'):
        f = [x.decode('utf-8') for x in fields]
        out.append(dict(zip(f[::2], f[1::2])))
    return out


class OperatorTest(RouterTest):

    def post(self, path, body, token=None):
        return self.env.http('POST', path, body,
                             token=self.env.operator_token if token is None else token)

    def get(self, path, token=None):
        return self.env.http('GET', path,
                             token=self.env.operator_token if token is None else token)

    def no_location_incident(self, category='detention', description=None, address=None,
                             phone=None):
        body = {'call_id': '1300-%s' % harness.secrets.token_hex(6), 'category': category,
                'reporter': {'name': harness.unique_name(),
                             'phone': phone or harness.unique_phone()}}
        if description:
            body['description'] = description
        if address:
            body['location'] = {'address': address}
        r = self.env.post_incident_raw(body)
        self.assertStatus(r, 201, 'an incident without coordinates')
        return r.body, body

    def locate(self, case_id, lat, lon, address=None, token=None, **extra):
        body = {'lat': lat, 'lon': lon}
        if address is not None:
            body['address'] = address
        body.update(extra)
        self.env.note_pii(lat, lon, address)
        return self.post('/v1/cases/%s/location' % q(case_id), body, token)

    def events(self, view, kind):
        return [e for e in view['timeline'] if e.get('event') == kind]

    def assertBadInputs(self, method, path, cases, token=None):
        """Each (label, body, status, codes) answers that error."""
        for label, body, status, codes in cases:
            with self.subTest(label):
                r = self.env.http(method, path, body,
                                  token=self.env.operator_token if token is None else token)
                self.assertErrorBody(r, status, codes, label)


# ---------------------------------------------------------------------------------------------
# 1, 2: incidents without coordinates, placed by an operator

class NoLocationTest(OperatorTest):

    def test_incident_without_location_is_queued_no_location(self):
        env = self.env
        env.put_team_at('near', 2.0, 45, POLICE_SW)
        a, req = self.no_location_incident()
        self.assertQueued(a, 'no coordinates: no team can be searched for')
        self.assertEqual(a['queue_reason'], 'no_location')
        view = env.case(a['case_id'])
        self.assertIsNone(view['location']['lat'])
        self.assertIsNone(view['location']['lon'])
        self.assertIsNone(view['location']['address'])
        self.assertEqual(view['queue_reason'], 'no_location')
        queued = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertIn(a['case_id'], queued, 'in the operators queue')
        # the same call again is the same case
        r = env.post_incident_raw(req)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['case_id'], a['case_id'])

    def test_address_only_is_kept(self):
        env = self.env
        address = harness.unique_address()
        a, _ = self.no_location_incident('threat', address=address)
        self.assertEqual(a['queue_reason'], 'no_location')
        view = env.case(a['case_id'])
        self.assertEqual(view['location']['address'], address)
        self.assertIsNone(view['location']['lat'])

    def test_coordinates_given_but_invalid_are_refused(self):
        env = self.env
        base = {'category': 'threat', 'reporter': {'name': 'x', 'phone': '0800000000'}}
        for label, location, code in [
                ('lat without lon', {'lat': 13.75, 'address': 'ที่ไหนสักแห่ง'}, 'missing_field'),
                ('lon without lat', {'lon': 100.5}, 'missing_field'),
                ('lat out of range', {'lat': 91, 'lon': 100.5}, 'invalid_field'),
                ('lat a string', {'lat': '13.7', 'lon': 100.5}, 'invalid_field'),
                ('address a number', {'address': 7}, 'invalid_field'),
                ('location a list', [13.7, 100.5], 'invalid_field')]:
            with self.subTest(label):
                body = dict(base, location=location)
                self.assertErrorBody(env.post_incident_raw(body), 400, code, label)
        self.assertEqual(env.redis.keys(env.prefix + 'case:*'), [], 'nothing stored')


class PlaceCaseTest(OperatorTest):

    def test_placing_routes_a_queued_case(self):
        env = self.env
        tok = env.put_team_at('near', 2.0, 45, POLICE_SW)
        a, _ = self.no_location_incident()
        cid = a['case_id']
        lat, lon = harness.jitter(harness.BKK)
        address = harness.unique_address()
        r = self.locate(cid, lat, lon, address, note='ผู้แจ้งบอกทางเพิ่ม')
        self.assertStatus(r, 200)
        view = r.body
        self.assertEqual(view['case_id'], cid)
        self.assertEqual(view['status'], 'assigned', 'placed and routed: %r' % view)
        self.assertEqual(view['team']['id'], 'near')
        self.assertDistance(view['team']['distance_km'], harness.haversine_km(
            lat, lon, env.teams['near']['lat'], env.teams['near']['lon']))
        self.assertAlmostEqual(view['location']['lat'], lat, places=6)
        self.assertAlmostEqual(view['location']['lon'], lon, places=6)
        self.assertEqual(view['location']['address'], address)
        self.assertIsNone(view['queue_reason'])
        placed = self.events(view, 'location')
        self.assertEqual(len(placed), 1, view['timeline'])
        self.assertEqual(placed[0]['by'], env.operator_id)
        self.assertEqual(placed[0]['note'], 'ผู้แจ้งบอกทางเพิ่ม')
        self.assertEqual(view, env.case(cid), 'the answer is the case view')
        # the team reads where it is going
        self.assertEqual(env.get_case(cid, token=tok).body['location']['address'], address)
        # never in the public view
        track = env.track(a['tracking_code']).body
        self.assertNotIn(address, json.dumps(track, ensure_ascii=False))
        self.assertEqual(track['status'], 'assigned')

    def test_placing_with_no_team_in_reach_keeps_it_queued(self):
        env = self.env
        env.put_team_at('far', 200.0, 0, POLICE_SW)
        a, _ = self.no_location_incident()
        r = self.locate(a['case_id'], *harness.jitter(harness.BKK))
        self.assertStatus(r, 200)
        self.assertEqual(r.body['status'], 'queued')
        self.assertEqual(r.body['queue_reason'], 'no_team_available',
                         'it has a place now; what it lacks is a team')

    def test_placing_an_assigned_case_keeps_its_team(self):
        env = self.env
        env.put_team_at('t1', 2.0, 45, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 't1')
        lat, lon = harness.destination(harness.BKK[0], harness.BKK[1], 90, 5.0)
        r = self.locate(a['case_id'], lat, lon)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['team']['id'], 't1')
        self.assertDistance(r.body['team']['distance_km'], harness.haversine_km(
            lat, lon, env.teams['t1']['lat'], env.teams['t1']['lon']))

    def test_refusals(self):
        env = self.env
        a, _ = self.no_location_incident()
        cid = a['case_id']
        path = '/v1/cases/%s/location' % cid
        self.assertBadInputs('POST', path, [
            ('empty object', {}, 400, 'missing_field'),
            ('lat missing', {'lon': 100.5}, 400, 'missing_field'),
            ('lon missing', {'lat': 13.7}, 400, 'missing_field'),
            ('lat a string', {'lat': '13.7', 'lon': 100.5}, 400, 'invalid_field'),
            ('lon out of range', {'lat': 13.7, 'lon': 181}, 400, 'invalid_field'),
            ('lat a bool', {'lat': True, 'lon': 100.5}, 400, 'invalid_field'),
            ('address a number', {'lat': 13.7, 'lon': 100.5, 'address': 5}, 400,
             'invalid_field'),
            ('address too long', {'lat': 13.7, 'lon': 100.5, 'address': 'ก' * 200}, 400,
             'invalid_field'),
            ('address with a control character', {'lat': 13.7, 'lon': 100.5,
                                                  'address': 'a\u001bb'}, 400, 'invalid_field'),
            ('note a list', {'lat': 13.7, 'lon': 100.5, 'note': ['x']}, 400, 'invalid_field'),
            ('not an object', [1], 400, 'not_an_object'),
        ])
        self.assertErrorBody(self.locate(UNKNOWN_CASE, 13.7, 100.5), 404, 'not_found')
        self.assertErrorBody(self.locate(BAD_CASE, 13.7, 100.5), 404, 'not_found')
        self.assertErrorBody(self.locate(cid, 13.7, 100.5, token=''), 401, 'unauthorized')
        tok = env.put_team_at('tx', 300.0, 0, POLICE_SW)
        self.assertErrorBody(self.locate(cid, 13.7, 100.5, token=tok), 403, 'forbidden')
        self.assertStatus(env.set_status(cid, 'closed'), 200)
        self.assertErrorBody(self.locate(cid, 13.7, 100.5), 409, 'invalid_transition',
                             'a closed case is not placed')
        self.assertIsNone(env.case(cid)['location']['lat'], 'nothing changed')


class PlaceEscalatedTest(OperatorTest):
    """An escalated case waits for a person. The operator placing it is that person: the case is
    routed. A reporter's location (the LINE path: ess_line_commit with a new place) is not."""

    def setUp(self):
        env = harness.Env()
        self.env = env
        self.addCleanup(self._finish_env)
        env.redis.start()
        env.rules = harness.short_deadline_rules(env.workdir, 1, 1)
        env.router = env.add_router()

    def escalated_case(self):
        env = self.env
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'silent')

        def escalated():
            v = env.case(a['case_id'])
            return v if v['status'] == 'queued' and v['queue_reason'] == 'no_acknowledgment' \
                else None
        wait_until(escalated, 15, 0.1, 'escalation after the missed deadline')
        return a

    def test_operator_routes_an_escalated_case_reporter_does_not(self):
        env = self.env
        env.put_team_at('silent', 1.0, 0, POLICE_SW, capacity=2)
        a = self.escalated_case()
        b = self.escalated_case()
        lat, lon = harness.destination(harness.BKK[0], harness.BKK[1], 180, 30.0)
        env.put_team('south', *harness.destination(lat, lon, 90, 1.0), POLICE_SW, capacity=2)
        self.assertEqual(env.case(a['case_id'])['status'], 'queued',
                         'a new team does not take an escalated case by itself')
        # the LINE path: the reporter's new place moves the case, a person still decides
        env.note_pii(lat, lon)
        env.redis.command('FCALL', 'ess_line_commit', '0', env.prefix, '', 'user-key', '0', '{}',
                          '60', '60', '', '', b['tracking_code'], '', '%.7f' % lat, '%.7f' % lon,
                          '', '')
        vb = env.case(b['case_id'])
        self.assertEqual(vb['status'], 'queued')
        self.assertEqual(vb['queue_reason'], 'no_acknowledgment')
        self.assertAlmostEqual(vb['location']['lat'], lat, places=6)
        # the operator places the other: routed to the team near its new place
        r = self.locate(a['case_id'], lat, lon)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['status'], 'assigned', repr(r.body))
        self.assertEqual(r.body['team']['id'], 'south')


# ---------------------------------------------------------------------------------------------
# 3: the team list

class TeamListTest(OperatorTest):

    def test_every_team_sorted_without_secrets(self):
        env = self.env
        env.put_team_at('c-team', 3.0, 10, POLICE_SW, capacity=2)
        env.put_team_at('a-team', 1.0, 100, MENTAL, extra={'name_en': 'A Team'},
                        notify={'webhook': 'https://gw.example/a'})
        env.put_team_at('b-team', 9.0, 200, ['child_protection'], available=False)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'c-team')
        r = self.get('/v1/teams')
        self.assertStatus(r, 200)
        teams = r.body['teams']
        self.assertIsNone(r.body['next_cursor'])
        self.assertEqual([t['team_id'] for t in teams], ['a-team', 'b-team', 'c-team'])
        by = {t['team_id']: t for t in teams}
        self.assertEqual(by['a-team']['name_en'], 'A Team')
        self.assertNotIn('name_en', by['b-team'])
        self.assertEqual(by['a-team']['skills'], sorted(MENTAL))
        self.assertEqual(by['c-team']['active_cases'], 1)
        self.assertEqual(by['c-team']['capacity'], 2)
        self.assertIs(by['b-team']['available'], False)
        self.assertIs(by['a-team']['available'], True)
        self.assertAlmostEqual(by['c-team']['lat'], env.teams['c-team']['lat'], places=6)
        self.assertAlmostEqual(by['c-team']['lon'], env.teams['c-team']['lon'], places=6)
        for t in teams:
            self.assertTime(t['updated_at'])
            self.assertNotIn('notify', t, 'notify targets are the admin\'s')
        raw = r.raw.decode('utf-8')
        for word in ('token', 'nonce', 'hash', 'gw.example', 'sets'):
            self.assertNotIn(word, raw)
        # the admin also sees where teams are notified
        r = self.get('/v1/teams', token=env.admin_token)
        self.assertStatus(r, 200)
        by = {t['team_id']: t for t in r.body['teams']}
        self.assertEqual(by['a-team']['notify'], {'webhook': 'https://gw.example/a'})
        self.assertIsNone(by['b-team']['notify'])
        self.assertNotIn('token', r.raw.decode('utf-8'))

    def test_pages(self):
        env = self.env
        ids = ['t%02d' % i for i in range(7)]
        for i, tid in enumerate(reversed(ids)):
            env.put_team_at(tid, 1.0 + i, 30 * i, POLICE_SW)
        seen, cursor = [], None
        for _ in range(10):
            r = self.get('/v1/teams?limit=3' + ('&cursor=' + cursor if cursor else ''))
            self.assertStatus(r, 200)
            self.assertLessEqual(len(r.body['teams']), 3)
            seen += [t['team_id'] for t in r.body['teams']]
            cursor = r.body['next_cursor']
            if cursor is None:
                break
        self.assertEqual(seen, ids)

    def test_teams_of_an_older_version_are_indexed_at_connect(self):
        """A deployment whose teams were stored before the team list and the candidates' index
        existed: the router builds both once when it connects (ess_upgrade)."""
        env = self.env
        env.put_team_at('old-1', 1.0, 0, POLICE_SW)
        env.put_team_at('old-2', 2.0, 90, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        P = env.prefix
        env.redis.command('DEL', P + 'teams:by_id', P + 'schema',
                          *env.redis.keys(P + 'geo:all:*'))
        self.assertEqual(self.get('/v1/teams').body['teams'], [])
        env.router.restart()
        self.assertEqual([t['team_id'] for t in self.get('/v1/teams').body['teams']],
                         ['old-1', 'old-2'])
        r = self.get('/v1/cases/%s/candidates' % a['case_id'])
        self.assertStatus(r, 200)
        self.assertEqual({c['team_id'] for c in r.body['candidates']}, {'old-1', 'old-2'})

    def test_refusals(self):
        env = self.env
        tok = env.put_team_at('t1', 1.0, 0, POLICE_SW)
        for path, label in [('/v1/teams?limit=0', 'limit 0'), ('/v1/teams?limit=1001', 'limit'),
                            ('/v1/teams?limit=x', 'limit a word'),
                            ('/v1/teams?cursor=Bad%20Id', 'cursor')]:
            with self.subTest(label):
                self.assertErrorBody(self.get(path), 400, 'invalid_query', label)
        self.assertErrorBody(self.get('/v1/teams', token=tok), 403, 'forbidden')
        self.assertErrorBody(self.get('/v1/teams', token=''), 401, 'unauthorized')


# ---------------------------------------------------------------------------------------------
# 4: finding cases

class SearchTest(OperatorTest):

    def search(self, text, **more):
        qs = urllib.parse.urlencode(dict(q=text, **more))
        return self.get('/v1/cases?' + qs)

    def found(self, text, **more):
        r = self.search(text, **more)
        self.assertStatus(r, 200, text)
        self.assertIsNone(r.body['next_cursor'])
        return [c['case_id'] for c in r.body['cases']]

    def test_by_tracking_code_case_id_and_phone(self):
        env = self.env
        env.put_team_at('t1', 2.0, 45, POLICE_SW, capacity=5)
        phone = '08' + harness.unique_phone()[2:]
        written = '%s-%s-%s' % (phone[:3], phone[3:6], phone[6:])
        first = env.post_incident('threat', 'ถูกขู่ทำร้าย', reporter={'name': 'ก', 'phone': written})
        second, _ = self.no_location_incident(phone='+66 ' + phone[1:])  # another form
        third, _ = self.no_location_incident(phone=phone)
        other = env.post_incident('threat', 'ถูกขู่ทำร้าย')
        code = first['tracking_code']
        # tracking code, read leniently
        for form in (code, code.lower(), code.replace('-', ''), code[3:].replace('-', ' ')):
            self.assertEqual(self.found(form), [first['case_id']], form)
        # case id, in either case
        self.assertEqual(self.found(other['case_id'].lower()), [other['case_id']])
        # phone: digits compared, newest first; "+66" is other digits
        self.assertEqual(self.found(phone), [third['case_id'], first['case_id']])
        self.assertEqual(self.found(written), [third['case_id'], first['case_id']])
        self.assertEqual(self.found('+66 ' + phone[1:]), [second['case_id']])
        self.assertEqual(self.found(phone, limit=1), [third['case_id']])
        self.assertEqual(self.found(phone, status='assigned'), [first['case_id']])
        self.assertEqual(self.found(phone, category='detention'), [third['case_id']])
        # nothing known
        self.assertEqual(self.found(harness.make_tracking_code()), [])
        self.assertEqual(self.found('0899999999' if phone != '0899999999' else '0811111111'), [])
        # a closed case is still found
        self.assertStatus(env.set_status(third['case_id'], 'closed'), 200)
        self.assertIn(third['case_id'], self.found(phone))
        # no phone in clear in Redis: neither in a key nor in the index
        keys = env.redis.keys('*')
        for k in keys:
            self.assertNotIn(phone, k)
            self.assertNotIn(phone[1:], k)
        index = [k for k in keys if k.startswith(env.prefix + 'phone:')]
        self.assertEqual(len(index), 3, 'one per number (the other case has its own): %r' % index)
        for k in index:
            self.assertRegex(k, '^' + re.escape(env.prefix) + 'phone:[0-9a-f]{64}$')
            members = [m.decode() for m in env.redis.command('ZRANGE', k, '0', '-1')]
            self.assertTrue(all(re.fullmatch('[0-9A-Z]{26}', m) for m in members), members)

    def test_refusals(self):
        env = self.env
        tok = env.put_team_at('t1', 1.0, 0, POLICE_SW)
        for text, label in [('', 'empty'), ('hello', 'a word'), ('HM-7K3-Q9X-TD4', 'bad check'),
                            ('123', 'three digits'), ('0' * 65, 'too long'),
                            ('081 234 5678 ext', 'a phone with words')]:
            with self.subTest(label):
                self.assertErrorBody(self.search(text), 400, 'invalid_query', label)
        self.assertErrorBody(self.search('0812345678', cursor='1-' + UNKNOWN_CASE), 400,
                             'invalid_query', 'q with a cursor')
        self.assertErrorBody(self.search('0812345678', status='bogus'), 400, 'invalid_query')
        self.assertErrorBody(self.search('0812345678', limit='0'), 400, 'invalid_query')
        self.assertErrorBody(self.get('/v1/cases?q=0812345678', token=tok), 403, 'forbidden')


# ---------------------------------------------------------------------------------------------
# 5: triage

class TriageTest(OperatorTest):

    env_options = {'extra_env': {'ESS_TRIAGE_MODEL': 'none'}}  # keywords only: deterministic

    def triage(self, case_id, body, token=None):
        return self.post('/v1/cases/%s/triage' % q(case_id), body, token)

    def stats(self):
        text = self.env.http('GET', '/metrics').raw.decode('utf-8')
        out = {}
        for m in re.finditer(r'^ess_cases\{category="(\w+)",status="(\w+)"\} (\d+)$', text, re.M):
            out[(m.group(1), m.group(2))] = int(m.group(3))
        return out

    def test_other_corrected_to_mental_crisis_is_routed(self):
        env = self.env
        env.put_team_at('mh', 2.0, 45, MENTAL)
        a = env.post_incident('other', 'ทนไม่ไหวแล้ว')  # an operator's "other": no guess
        self.assertEqual(a['category'], 'other')
        self.assertIsNone(a['category_suggested'])
        self.assertEqual(a['priority'], 'P4')
        self.assertQueued(a, 'other is not dispatched')
        self.assertEqual(a['queue_reason'], 'triage')
        self.assertEqual(self.stats().get(('other', 'queued')), 1)
        r = self.triage(a['case_id'], {'category': 'mental_crisis', 'priority': 'P1'})
        self.assertStatus(r, 200)
        view = r.body
        self.assertEqual(view['category'], 'mental_crisis')
        self.assertEqual(view['priority'], 'P1')
        self.assertEqual(view['status'], 'assigned', repr(view))
        self.assertEqual(view['team']['id'], 'mh')
        corrected = self.events(view, 'triage')
        self.assertEqual(len(corrected), 1)
        self.assertEqual(corrected[0]['by'], env.operator_id)
        self.assertIn('other -> mental_crisis', corrected[0]['note'])
        self.assertIn('P4 -> P1', corrected[0]['note'])
        self.assertEqual(view, env.case(a['case_id']))
        track = env.track(a['tracking_code']).body
        self.assertEqual(track['category'], 'mental_crisis')
        self.assertEqual(track['category_label']['en'], 'Mental-health crisis')
        self.assertEqual(track['status'], 'assigned')
        stats = self.stats()
        self.assertEqual(stats.get(('other', 'queued')), 0)
        self.assertEqual(stats.get(('mental_crisis', 'assigned')), 1)
        self.assertEqual(stats.get(('other', 'received'), 0) + stats.get(
            ('mental_crisis', 'received'), 0), 0)
        entries = case_log(env)
        triaged = [e for e in entries if e.get('event') == 'triage']
        self.assertEqual(len(triaged), 1, entries)
        self.assertEqual(triaged[0]['category'], 'mental_crisis')
        self.assertEqual(triaged[0]['by'], env.operator_id)

    def test_a_team_lacking_the_new_skills_releases_the_case(self):
        env = self.env
        env.put_team_at('police-sw', 1.0, 0, POLICE_SW)
        env.put_team_at('mh', 4.0, 180, MENTAL)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'police-sw')
        r = self.triage(a['case_id'], {'category': 'mental_crisis'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['priority'], 'P1', 'the category\'s own priority')
        self.assertEqual(r.body['team']['id'], 'mh')
        statuses = [e['status'] for e in harness.status_changes(r.body)]
        self.assertEqual(statuses[-2:], ['reassigned', 'assigned'], statuses)
        teams = {t['team_id']: t for t in self.get('/v1/teams').body['teams']}
        self.assertEqual(teams['police-sw']['active_cases'], 0, 'the slot came free')
        self.assertEqual(teams['mh']['active_cases'], 1)

    def test_a_team_having_the_skills_keeps_the_case(self):
        env = self.env
        env.put_team_at('all', 1.0, 0, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'all')
        r = self.triage(a['case_id'], {'category': 'detention'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['status'], 'assigned')
        self.assertEqual(r.body['team']['id'], 'all')
        self.assertNotIn('reassigned', [e['status'] for e in harness.status_changes(r.body)])

    def test_priority_alone_reorders_the_queue(self):
        env = self.env
        older = env.post_incident('gathering', 'วัยรุ่นมั่วสุมเสพยาในสวนสาธารณะ')
        newer = env.post_incident('gathering', 'วัยรุ่นมั่วสุมเสพยาในสวนสาธารณะ')
        ids = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertLess(ids.index(older['case_id']), ids.index(newer['case_id']))
        r = self.triage(newer['case_id'], {'priority': 'P1'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['priority'], 'P1')
        self.assertEqual(r.body['category'], 'gathering')
        ids = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertLess(ids.index(newer['case_id']), ids.index(older['case_id']))
        # the same values again change nothing
        before = env.case(newer['case_id'])
        r = self.triage(newer['case_id'], {'category': 'gathering', 'priority': 'P1'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, before)

    def test_refusals(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกขู่')
        path = '/v1/cases/%s/triage' % a['case_id']
        self.assertBadInputs('POST', path, [
            ('empty', {}, 400, 'missing_field'),
            ('both null', {'category': None, 'priority': None}, 400, 'missing_field'),
            ('unknown category', {'category': 'fire'}, 400, 'invalid_field'),
            ('category a number', {'category': 3}, 400, 'invalid_field'),
            ('priority P5', {'priority': 'P5'}, 400, 'invalid_field'),
            ('priority a number', {'priority': 1}, 400, 'invalid_field'),
            ('priority lower case', {'priority': 'p1'}, 400, 'invalid_field'),
            ('not an object', '"x"', 400, 'not_an_object'),
        ])
        self.assertErrorBody(self.triage(UNKNOWN_CASE, {'priority': 'P1'}), 404, 'not_found')
        self.assertErrorBody(self.triage(UNKNOWN_CASE, {'category': 'threat'}), 404,
                             'not_found')
        self.assertErrorBody(self.triage(BAD_CASE, {'priority': 'P1'}), 404, 'not_found')
        tok = env.put_team_at('tx', 300.0, 0, POLICE_SW)
        self.assertErrorBody(self.triage(a['case_id'], {'priority': 'P1'}, tok), 403,
                             'forbidden')
        self.assertEqual(env.case(a['case_id'])['priority'], 'P2', 'nothing changed')


# ---------------------------------------------------------------------------------------------
# 6: far teams

class FarTeamTest(OperatorTest):

    def assign(self, case_id, body):
        return self.post('/v1/cases/%s/assign' % q(case_id), body)

    def test_far_team_needs_confirmation(self):
        env = self.env
        env.put_team_at('far', 80.0, 0, POLICE_SW)
        env.put_team_at('near', 10.0, 0, POLICE_SW)
        env.put_team('busy', harness.BKK[0], harness.BKK[1], ['mental_health'], available=False)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า',
                              lat=harness.BKK[0], lon=harness.BKK[1])
        self.assertAssignedTo(a, 'near')
        cid = a['case_id']
        r = self.assign(cid, {'team_id': 'far'})
        self.assertErrorBody(r, 409, 'far_team')
        self.assertDistance(r.body['error']['distance_km'], 80.0, tol=0.2)
        self.assertEqual(r.body['error']['max_radius_km'], 50)
        self.assertEqual(env.case(cid)['team']['id'], 'near', 'nothing changed')
        self.assertErrorBody(self.assign(cid, {'team_id': 'far', 'confirm_far': 'yes'}), 400,
                             'invalid_field')
        self.assertErrorBody(self.assign(cid, {'team_id': 'far', 'confirm_far': False}), 409,
                             'far_team')
        r = self.assign(cid, {'team_id': 'far', 'confirm_far': True})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['team']['id'], 'far')
        self.assertDistance(r.body['team']['distance_km'], 80.0, tol=0.2)
        # within the radius no confirmation is needed
        r = self.assign(cid, {'team_id': 'near'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['team']['id'], 'near')

    def test_a_case_without_coordinates_has_no_far_team(self):
        env = self.env
        env.put_team_at('far', 400.0, 0, POLICE_SW)
        a, _ = self.no_location_incident()
        r = self.assign(a['case_id'], {'team_id': 'far'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['team']['id'], 'far')


# ---------------------------------------------------------------------------------------------
# 7: notes

class NotesTest(OperatorTest):

    def note(self, case_id, body, token=None):
        if isinstance(body, dict) and isinstance(body.get('text'), str):
            self.env.note_pii(body['text'].strip())
        return self.post('/v1/cases/%s/notes' % q(case_id), body, token)

    def test_note_on_the_timeline_never_public(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 45, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 't1')
        text = 'ผู้แจ้งขอให้โทรกลับหลัง 18:00 ที่เบอร์สำรอง %s' % harness.unique_phone()
        r = self.note(a['case_id'], {'text': '  %s\n' % text})
        self.assertStatus(r, 201)
        notes = self.events(r.body, 'note')
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes[0]['note'], text, 'trimmed')
        self.assertEqual(notes[0]['by'], env.operator_id)
        self.assertTime(notes[0]['at'])
        self.assertEqual(r.body, env.case(a['case_id']))
        # the team holding the case reads it
        team_view = env.get_case(a['case_id'], token=tok).body
        self.assertEqual([n['note'] for n in self.events(team_view, 'note')], [text])
        # never public, never in the case log
        self.assertNotIn(text, env.track(a['tracking_code']).raw.decode('utf-8'))
        log = case_log(env)
        self.assertTrue(any(e.get('event') == 'note' for e in log), 'the note is in the case log')
        for e in log:
            self.assertNotIn(text, json.dumps(e, ensure_ascii=False))
        self.assertEqual(env.case(a['case_id'])['status'], 'assigned', 'a note moves no status')
        # the author is who is authenticated, whatever the body says
        r = self.note(a['case_id'], {'text': 'อีกคนหนึ่งเขียน', 'by': 'someone-else'},
                      token=env.operator_tokens[1])
        self.assertStatus(r, 201)
        self.assertEqual(self.events(r.body, 'note')[-1]['by'], env.operator_ids[1])

    def test_limits_and_refusals(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกขู่')
        cid = a['case_id']
        self.assertStatus(self.note(cid, {'text': 'ก' * 666 + 'ab'}), 201, '2000 bytes')
        path = '/v1/cases/%s/notes' % cid
        self.assertBadInputs('POST', path, [
            ('missing', {}, 400, 'missing_field'),
            ('null', {'text': None}, 400, ('missing_field', 'invalid_field')),
            ('empty', {'text': ''}, 400, 'invalid_field'),
            ('blank', {'text': ' \n\t '}, 400, 'invalid_field'),
            ('a number', {'text': 5}, 400, 'invalid_field'),
            ('2001 bytes', {'text': 'ก' * 667}, 400, 'invalid_field'),
            ('a control character', {'text': 'a\u0007b'}, 400, 'invalid_field'),
            ('a lone surrogate', b'{"text": "\\ud800"}', 400, ('invalid_json', 'invalid_field')),
        ])
        self.assertErrorBody(self.note(UNKNOWN_CASE, {'text': 'x'}), 404, 'not_found')
        self.assertErrorBody(self.note(BAD_CASE, {'text': 'x'}), 404, 'not_found')
        tok = env.put_team_at('tx', 300.0, 0, POLICE_SW)
        self.assertErrorBody(self.note(cid, {'text': 'x'}, tok), 403, 'forbidden')
        self.assertEqual(len(self.events(env.case(cid), 'note')), 1)


# ---------------------------------------------------------------------------------------------
# 8: candidates

class CandidatesTest(OperatorTest):

    def candidates(self, case_id, query='', token=None):
        return self.get('/v1/cases/%s/candidates%s' % (q(case_id), query), token)

    def test_nearest_with_skills_marked(self):
        env = self.env
        env.put_team_at('free', 2.0, 0, POLICE_SW)
        env.put_team_at('asleep', 1.0, 90, POLICE_SW, available=False)
        env.put_team_at('full', 3.0, 180, POLICE_SW, capacity=1)
        env.put_team_at('wrong', 0.5, 270, ['mental_health'])
        env.put_team_at('far', 70.0, 0, POLICE_SW + ['child_protection'])
        env.put_team_at('too-far', 300.0, 0, POLICE_SW)
        lat, lon = harness.destination(harness.BKK[0], harness.BKK[1], 180, 3.0)
        filler = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า', lat=lat, lon=lon)
        self.assertAssignedTo(filler, 'full')
        a = env.post_incident('threat', 'ถูกขู่ทำร้าย', lat=harness.BKK[0], lon=harness.BKK[1])
        self.assertAssignedTo(a, 'free')
        r = self.candidates(a['case_id'])
        self.assertStatus(r, 200)
        body = r.body
        self.assertEqual(body['case_id'], a['case_id'])
        self.assertEqual(sorted(body['skills']), ['police', 'social_worker'])
        self.assertEqual(body['max_radius_km'], 50)
        self.assertEqual(body['radius_km'], 100)
        got = [c['team_id'] for c in body['candidates']]
        self.assertEqual(got, ['asleep', 'free', 'full', 'far'], 'nearest first, with the skills')
        by = {c['team_id']: c for c in body['candidates']}
        self.assertDistance(by['free']['distance_km'], 2.0)
        self.assertDistance(by['far']['distance_km'], 70.0, tol=0.2)
        self.assertTrue(by['free']['holds_case'])
        self.assertFalse(by['free']['can_take'], 'its one slot holds this case')
        self.assertFalse(by['asleep']['can_take'])
        self.assertFalse(by['asleep']['available'])
        self.assertEqual(by['asleep']['free_capacity'], 1)
        self.assertFalse(by['full']['can_take'])
        self.assertEqual(by['full']['free_capacity'], 0)
        self.assertEqual(by['full']['active_cases'], 1)
        self.assertTrue(by['far']['can_take'])
        self.assertTrue(by['far']['beyond_radius'])
        self.assertFalse(by['free']['beyond_radius'])
        self.assertFalse(any(c['excluded'] for c in body['candidates']))
        self.assertNotIn('notify', json.dumps(body))
        # bounded
        r = self.candidates(a['case_id'], '?limit=2')
        self.assertEqual([c['team_id'] for c in r.body['candidates']], ['asleep', 'free'])
        r = self.candidates(a['case_id'], '?radius_km=400')
        self.assertIn('too-far', [c['team_id'] for c in r.body['candidates']])

    def test_case_without_coordinates(self):
        env = self.env
        env.put_team_at('b-free', 2.0, 0, POLICE_SW)
        env.put_team_at('a-asleep', 1.0, 90, POLICE_SW, available=False)
        env.put_team_at('c-free', 400.0, 0, POLICE_SW)
        env.put_team_at('wrong', 0.5, 270, ['mental_health'])
        a, _ = self.no_location_incident('threat')
        r = self.candidates(a['case_id'])
        self.assertStatus(r, 200)
        got = [c['team_id'] for c in r.body['candidates']]
        self.assertEqual(got, ['b-free', 'c-free', 'a-asleep'], 'able ones first, by id')
        self.assertTrue(all(c['distance_km'] is None for c in r.body['candidates']))
        self.assertIsNone(r.body['radius_km'])

    def test_refusals(self):
        env = self.env
        tok = env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a = env.post_incident('threat', 'ถูกขู่')
        for query, label in [('?limit=0', 'limit 0'), ('?limit=51', 'limit 51'),
                             ('?radius_km=0', 'radius 0'), ('?radius_km=2000', 'radius'),
                             ('?radius_km=1.5', 'radius a fraction')]:
            with self.subTest(label):
                self.assertErrorBody(self.candidates(a['case_id'], query), 400, 'invalid_query')
        self.assertErrorBody(self.candidates(UNKNOWN_CASE), 404, 'not_found')
        self.assertErrorBody(self.candidates(BAD_CASE), 404, 'not_found')
        self.assertErrorBody(self.candidates(a['case_id'], token=tok), 403, 'forbidden')
        self.assertErrorBody(self.candidates(a['case_id'], token=''), 401, 'unauthorized')


# ---------------------------------------------------------------------------------------------
# 9: the classifier's suggestion

class ClassifyTest(OperatorTest):

    env_options = {'extra_env': {'ESS_TRIAGE_MODEL': 'none'}}  # keywords only: deterministic

    def classify(self, body, token=None):
        if isinstance(body, dict) and isinstance(body.get('description'), str):
            self.env.note_pii(body['description'])
        return self.post('/v1/classify', body, token)

    def test_suggestions(self):
        env = self.env
        r = self.classify({'description': 'ลูกสาวถูกแฟนขังไว้ในห้อง ออกมาไม่ได้'})
        self.assertStatus(r, 200)
        self.assertEqual(r.body['category'], 'detention')
        self.assertEqual(r.body['priority'], 'P1')
        self.assertGreaterEqual(r.body['confidence'], 0.5)
        self.assertLessEqual(r.body['confidence'], 1.0)
        self.assertEqual(r.body['category_label']['th'], 'ถูกกักขัง')
        self.assertIs(r.body['needs_triage'], False)
        r = self.classify({'description': 'ทนไม่ไหวแล้ว'})
        self.assertStatus(r, 200)
        self.assertEqual((r.body['category'], r.body['priority'], r.body['confidence'],
                          r.body['needs_triage']), ('other', 'P1', 0, True),
                         'no evidence: a P1 guess for an operator, never a quiet P4 "other"')
        r = self.classify({'description': 'ถูกขู่ทำร้าย และถูกขังไว้'})
        self.assertStatus(r, 200)
        self.assertLess(r.body['confidence'], 0.5, 'two situations: less sure')
        self.assertIs(r.body['needs_triage'], True)
        self.assertEqual(r.body['priority'], 'P1')
        self.assertEqual(env.redis.keys(env.prefix + 'case:*'), [], 'nothing stored')

    def test_refusals(self):
        env = self.env
        self.assertBadInputs('POST', '/v1/classify', [
            ('missing', {}, 400, 'missing_field'),
            ('a number', {'description': 3}, 400, 'invalid_field'),
            ('empty', {'description': ''}, 400, 'invalid_field'),
            ('too long', {'description': 'ก' * 1334}, 400, 'invalid_field'),
            ('not JSON', b'{"description": ', 400, 'invalid_json'),
        ])
        tok = env.put_team_at('tx', 300.0, 0, POLICE_SW)
        self.assertErrorBody(self.classify({'description': 'x'}, tok), 403, 'forbidden')
        self.assertErrorBody(self.classify({'description': 'x'}, env.admin_token), 403,
                             'forbidden')


if __name__ == '__main__':
    harness.main()
