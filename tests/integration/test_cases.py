"""Cases (DESIGN.md "HTTP API"): the operator's case view and timeline, the listing with its
filters and cursor, status transitions and their 409s, acknowledgments, manual assignment, and
the idempotent call_id."""

import json
import threading
import time

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
CASE_KEYS = ('case_id', 'tracking_code', 'channel', 'category', 'priority', 'status',
             'description', 'location', 'reporter', 'team', 'created_at', 'updated_at', 'timeline')
SUMMARY_KEYS = ('case_id', 'tracking_code', 'category', 'priority', 'status', 'created_at', 'team')


class CaseViewTest(RouterTest):

    def test_case_view_fields_and_timeline(self):
        env = self.env
        env.put_team_at('bkk-03', 2.3, 135, POLICE_SW, name='ทีมสหวิชาชีพ เขตพระนคร')
        a = env.post_incident('detention', 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ',
                              call_id='1300-20261121-000123', operator_id='op-17')
        req = a['_request']
        view = env.case(a['case_id'])
        for key in CASE_KEYS:
            self.assertIn(key, view)
        self.assertEqual(view['case_id'], a['case_id'])
        self.assertEqual(view['tracking_code'], a['tracking_code'])
        self.assertEqual(view['channel'], 'hotline')
        self.assertEqual(view['category'], 'detention')
        self.assertEqual(view['priority'], 'P1')
        self.assertEqual(view['status'], 'assigned')
        self.assertEqual(view['description'], req['description'])
        self.assertAlmostEqual(view['location']['lat'], req['location']['lat'], places=6)
        self.assertAlmostEqual(view['location']['lon'], req['location']['lon'], places=6)
        self.assertEqual(view['location']['address'], req['location']['address'])
        self.assertEqual(view['reporter']['name'], req['reporter']['name'])
        self.assertEqual(view['reporter']['phone'], req['reporter']['phone'])
        self.assertEqual(view['team']['id'], 'bkk-03')
        self.assertEqual(view['team']['name'], 'ทีมสหวิชาชีพ เขตพระนคร')
        self.assertDistance(view['team']['distance_km'], a['team']['distance_km'], tol=0.01)
        self.assertTime(view['created_at'])
        self.assertTime(view['updated_at'])
        self.assertGreaterEqual(view['updated_at'], view['created_at'])
        tl = harness.status_changes(view)
        self.assertEqual([e['status'] for e in tl], ['received', 'assigned'], tl)
        # `by` is who authenticated (the token's id in ESS_OPERATOR_TOKENS), never the body's
        # operator_id, which stays the call centre's own reference
        self.assertEqual(tl[0]['by'], env.operator_id)
        self.assertNotEqual(env.operator_id, 'op-17')
        self.assertEqual(view['operator_id'], 'op-17')
        self.assertEqual(tl[1]['by'], 'router')
        self.assertEqual(tl[1].get('team'), 'ทีมสหวิชาชีพ เขตพระนคร', 'the assignment names its team')
        self.assertNotIn('team', tl[0])
        for e in tl:
            self.assertTime(e['at'])
        self.assertLessEqual(tl[0]['at'], tl[1]['at'])
        self.assertTrue(r'application/json' in env.get_case(a['case_id']).headers['content-type'])

    def test_queued_case_view(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        view = env.case(a['case_id'])
        self.assertEqual(view['status'], 'queued')
        self.assertIsNone(view['team'])
        self.assertEqual([e['status'] for e in harness.status_changes(view)],
                         ['received', 'queued'])

    def test_case_read_permissions(self):
        env = self.env
        tok_a = env.put_team_at('team-a', 1.0, 10, POLICE_SW)
        tok_b = env.put_team_at('team-b', 30.0, 190, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'team-a')
        self.assertStatus(env.get_case(a['case_id'], token=env.operator_tokens[1]), 200,
                          'the second operator token')
        r = env.get_case(a['case_id'], token=tok_a)
        self.assertStatus(r, 200, 'the assigned team reads its case')
        self.assertEqual(r.body['case_id'], a['case_id'])
        self.assertErrorBody(env.get_case(a['case_id'], token=tok_b), 403, 'forbidden',
                             "another team reading the case")
        self.assertErrorBody(env.http('GET', '/v1/cases/' + a['case_id']), 401, 'unauthorized')
        self.assertErrorBody(env.get_case(a['case_id'], token='nope'), 401, 'unauthorized')
        self.assertErrorBody(env.get_case('no-such-case'), 404, 'not_found')


class TransitionTest(RouterTest):

    def test_full_lifecycle(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 80, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 't1')
        cid = a['case_id']

        r = env.ack(cid, tok)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['status'], 'acknowledged', repr(r))
        steps = [('en_route', tok, 'ออกเดินทางแล้ว'), ('on_scene', tok, None),
                 ('resolved', env.operator_token, 'ส่งต่อบ้านพักฉุกเฉินแล้ว'),
                 ('closed', env.operator_tokens[1], None)]
        for status, token, note in steps:
            r = env.set_status(cid, status, note=note, token=token)
            self.assertStatus(r, 200, status)
            self.assertEqual(r.body.get('status'), status, repr(r))
            self.assertEqual(r.body.get('case_id'), cid)
            self.assertEqual(env.case(cid)['status'], status)
        view = env.case(cid)
        tl = harness.status_changes(view)
        self.assertEqual([e['status'] for e in tl],
                         ['received', 'assigned', 'acknowledged', 'en_route', 'on_scene',
                          'resolved', 'closed'], tl)
        for prev, cur in zip(tl, tl[1:]):
            self.assertLessEqual(prev['at'], cur['at'])
        notes = {e['status']: e.get('note') for e in tl}
        self.assertEqual(notes['en_route'], 'ออกเดินทางแล้ว')
        self.assertEqual(notes['resolved'], 'ส่งต่อบ้านพักฉุกเฉินแล้ว')
        self.assertIn('t1', tl[2]['by'], 'the acknowledgment is by the team')
        self.assertGreaterEqual(view['updated_at'], tl[-1]['at'])
        # a closed case is no longer open
        self.assertNotIn(cid, [c['case_id'] for c in env.list_cases()])

    def test_invalid_transitions(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 80, POLICE_SW)
        queued = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย',
                                   origin=(7.8804, 98.3923))  # Phuket: no team
        self.assertQueued(queued)
        for status in ('resolved', 'en_route', 'on_scene'):
            with self.subTest(queued_to=status):
                r = env.set_status(queued['case_id'], status)
                self.assertErrorBody(r, 409, 'invalid_transition')
                self.assertEqual(env.case(queued['case_id'])['status'], 'queued')

        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        cid = a['case_id']
        self.assertAssignedTo(a, 't1')
        with self.subTest(unknown_status=True):
            self.assertErrorBody(env.set_status(cid, 'flying'), 400)
        with self.subTest(missing_status=True):
            r = env.http('POST', '/v1/cases/%s/status' % cid, {'note': 'x'},
                         token=env.operator_token)
            self.assertErrorBody(r, 400, ('missing_field', 'invalid_field'))
        with self.subTest(status_type=True):
            r = env.http('POST', '/v1/cases/%s/status' % cid, {'status': 3},
                         token=env.operator_token)
            self.assertErrorBody(r, 400, 'invalid_field')
        for status in ('received', 'assigned', 'queued', 'acknowledged'):
            with self.subTest(not_settable=status):
                self.assertErrorBody(env.set_status(cid, status), (400, 409))
        self.assertEqual(env.case(cid)['status'], 'assigned')

        self.assertStatus(env.ack(cid, tok), 200)
        self.assertStatus(env.set_status(cid, 'en_route', token=tok), 200)
        self.assertStatus(env.set_status(cid, 'on_scene', token=tok), 200)
        with self.subTest(backwards='on_scene->en_route'):
            self.assertErrorBody(env.set_status(cid, 'en_route', token=tok), 409,
                                 'invalid_transition')
        with self.subTest(skip='on_scene->closed'):
            r = env.set_status(cid, 'closed')
            if r.status != 200:
                self.assertErrorBody(r, 409, 'invalid_transition')
            else:
                self.skipTest('closing an on_scene case directly is allowed')
        if env.case(cid)['status'] != 'closed':
            self.assertStatus(env.set_status(cid, 'resolved'), 200)
            self.assertStatus(env.set_status(cid, 'closed'), 200)
        for status in ('en_route', 'on_scene', 'resolved', 'closed'):
            with self.subTest(closed_to=status):
                self.assertErrorBody(env.set_status(cid, status), 409, 'invalid_transition')
        with self.subTest(ack_closed=True):
            self.assertErrorBody(env.ack(cid, tok), 409)
        self.assertEqual(env.case(cid)['status'], 'closed')

    def test_ack_by_wrong_team(self):
        env = self.env
        tok_a = env.put_team_at('team-a', 1.0, 10, POLICE_SW)
        tok_b = env.put_team_at('team-b', 20.0, 190, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'team-a')
        self.assertErrorBody(env.ack(a['case_id'], tok_b), 409, 'not_assigned')
        self.assertEqual(env.case(a['case_id'])['status'], 'assigned')
        self.assertErrorBody(env.ack(a['case_id'], 'garbage-token'), 401, 'unauthorized')
        self.assertErrorBody(env.http('POST', '/v1/cases/%s/ack' % a['case_id'], b''), 401,
                             'unauthorized')
        r = env.ack(a['case_id'], tok_a)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['status'], 'acknowledged')
        # on a queued case nobody holds it
        q = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย',
                              origin=(7.8804, 98.3923))
        self.assertQueued(q)
        self.assertErrorBody(env.ack(q['case_id'], tok_a), 409, 'not_assigned')
        self.assertErrorBody(env.ack('no-such-case', tok_a), 404, 'not_found')

    def test_team_cannot_touch_another_teams_case(self):
        env = self.env
        tok_a = env.put_team_at('team-a', 1.0, 10, POLICE_SW)
        tok_b = env.put_team_at('team-b', 20.0, 190, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'team-a')
        self.assertStatus(env.ack(a['case_id'], tok_a), 200)
        r = env.set_status(a['case_id'], 'en_route', token=tok_b)
        self.assertErrorBody(r, 403, 'forbidden')
        self.assertEqual(env.case(a['case_id'])['status'], 'acknowledged')
        r = env.set_status(a['case_id'], 'en_route', token='garbage-token')
        self.assertErrorBody(r, 401, 'unauthorized')
        self.assertStatus(env.set_status(a['case_id'], 'en_route', token=tok_a), 200)


class ManualAssignTest(RouterTest):

    def test_assign_queued_case_by_hand(self):
        env = self.env
        tok = env.put_team_at('escalation', 120.0, 45, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertQueued(a, 'the only team is 120 km away')
        self.assertErrorBody(env.assign(a['case_id'], 'escalation'), 409, 'far_team',
                             'beyond the widest radius: confirmed or refused')
        r = env.assign(a['case_id'], 'escalation', confirm_far=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['status'], 'assigned', repr(r))
        self.assertEqual(r.body['team']['id'], 'escalation')
        view = env.case(a['case_id'])
        self.assertEqual(view['team']['id'], 'escalation')
        self.assertIn('assigned', [e['status'] for e in view['timeline']])
        r = env.ack(a['case_id'], tok)
        self.assertStatus(r, 200, 'the team assigned by hand acknowledges')
        self.assertNotIn(a['case_id'], [c['case_id'] for c in env.list_cases(status='queued')])

    def test_assign_errors(self):
        env = self.env
        env.put_team_at('busy', 60.0, 45, POLICE_SW, capacity=1)
        env.put_team_at('idle', 70.0, 145, POLICE_SW, capacity=1)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(a)
        self.assertQueued(b)
        self.assertStatus(env.assign(a['case_id'], 'busy', confirm_far=True), 200)
        with self.subTest('team at capacity'):
            self.assertErrorBody(env.assign(b['case_id'], 'busy', confirm_far=True), 409,
                                 'team_full')
            self.assertEqual(env.case(b['case_id'])['status'], 'queued')
        with self.subTest('unknown team'):
            self.assertErrorBody(env.assign(b['case_id'], 'no-such-team'), 404, 'not_found')
        with self.subTest('unknown case'):
            self.assertErrorBody(env.assign('no-such-case', 'idle'), 404, 'not_found')
        with self.subTest('missing team_id'):
            r = env.http('POST', '/v1/cases/%s/assign' % b['case_id'], {},
                         token=env.operator_token)
            self.assertErrorBody(r, 400, 'missing_field')
        with self.subTest('team_id not a string'):
            r = env.http('POST', '/v1/cases/%s/assign' % b['case_id'], {'team_id': 7},
                         token=env.operator_token)
            self.assertErrorBody(r, 400, 'invalid_field')
        with self.subTest('team token'):
            r = env.assign(b['case_id'], 'idle', token=env.team_tokens['idle'])
            self.assertErrorBody(r, (401, 403), ('unauthorized', 'forbidden'))
        with self.subTest('no token'):
            r = env.http('POST', '/v1/cases/%s/assign' % b['case_id'], {'team_id': 'idle'})
            self.assertErrorBody(r, 401, 'unauthorized')
        self.assertEqual(env.case(b['case_id'])['status'], 'queued')
        self.assertStatus(env.assign(b['case_id'], 'idle', confirm_far=True), 200)


class ListingTest(RouterTest):

    def test_open_cases_newest_first_with_filters_and_cursor(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 80, POLICE_SW, capacity=3)
        made = []
        for category, text in [('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'),
                               ('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า'),
                               ('gathering', 'มีวงพนันและเสพยาในบ้านร้างท้ายซอย'),
                               ('threat', 'แฟนเก่าส่งข้อความขู่ฆ่าทุกคืน'),
                               ('mental_crisis', 'ชายคลุ้มคลั่งอาละวาดในตลาด'),
                               ('other', 'ขอคำปรึกษาเรื่องหนี้สินครัวเรือน'),
                               ('abuse_risk', 'มีผู้ชายแอบถ่ายและตามรังควานพนักงานสาว')]:
            made.append(env.post_incident(category, text))
            time.sleep(0.003)  # distinct creation milliseconds: "newest" is well defined
        ids = [m['case_id'] for m in made]

        listed = env.list_cases()
        self.assertEqual([c['case_id'] for c in listed], ids[::-1], 'open cases, newest first')
        for c in listed:
            for key in SUMMARY_KEYS:
                self.assertIn(key, c)
            self.assertTime(c['created_at'])
            self.assertTrue(harness.tracking_code_valid(c['tracking_code']))
            self.assertNotIn('description', c)
        by_id = {c['case_id']: c for c in listed}
        for m in made:
            self.assertEqual(by_id[m['case_id']]['status'], m['status'])
            self.assertEqual(by_id[m['case_id']]['category'], m['category'])
            if m['team']:
                self.assertEqual(by_id[m['case_id']]['team']['id'], m['team']['id'])
            else:
                self.assertIsNone(by_id[m['case_id']]['team'])

        with self.subTest('category filter'):
            threats = env.list_cases(category='threat')
            self.assertEqual([c['case_id'] for c in threats], [ids[3], ids[0]])
        with self.subTest('status filter'):
            assigned = env.list_cases(status='assigned')
            self.assertEqual(sorted(c['case_id'] for c in assigned),
                             sorted(m['case_id'] for m in made if m['status'] == 'assigned'))
            self.assertEqual(len(assigned), 3, 'capacity 3')
        with self.subTest('status and category'):
            both = env.list_cases(status='queued', category='other')
            self.assertEqual([c['case_id'] for c in both], [ids[5]])
        with self.subTest('cursor paging'):
            seen, cursor, pages = [], None, 0
            while True:
                r = env.list_page(limit=2, cursor=cursor)
                self.assertStatus(r, 200)
                self.assertLessEqual(len(r.body['cases']), 2)
                seen += [c['case_id'] for c in r.body['cases']]
                cursor = r.body['next_cursor']
                pages += 1
                self.assertLess(pages, 10)
                if cursor is None:
                    break
                self.assertIsInstance(cursor, str)
            self.assertEqual(seen, ids[::-1])
        with self.subTest('default limit is 50'):
            r = env.list_page()
            self.assertEqual(len(r.body['cases']), len(ids))
            self.assertIsNone(r.body['next_cursor'])

        # a resolved case leaves the open list but is found by status
        first_assigned = next(m for m in made if m['status'] == 'assigned')
        env.resolve(first_assigned['case_id'], tok)
        with self.subTest('resolved leaves the open list'):
            self.assertNotIn(first_assigned['case_id'], [c['case_id'] for c in env.list_cases()])
            resolved = env.list_cases(status='resolved')
            self.assertEqual([c['case_id'] for c in resolved], [first_assigned['case_id']])

    def test_paging_survives_cases_leaving_the_list(self):
        """A case that leaves the list between two pages must not make the next page skip one:
        the cursor is the last case seen, not a position."""
        env = self.env
        made = []
        for i in range(7):
            made.append(env.post_incident('other', 'ขอคำปรึกษาเรื่องหนี้สินครัวเรือน %d' % i))
            time.sleep(0.003)
        ids = [m['case_id'] for m in made]
        for status in (None, 'queued'):
            order = ids[::-1] if status is None else list(ids)  # newest first / queue order
            with self.subTest(status=status):
                first = env.list_page(status=status, limit=2)
                self.assertStatus(first, 200)
                page1 = [c['case_id'] for c in first.body['cases']]
                self.assertEqual(page1, order[:2])
                # the first page's newest case is closed before the second page is read
                self.assertStatus(env.set_status(page1[0], 'closed'), 200)
                seen, cursor = list(page1), first.body['next_cursor']
                while cursor is not None:
                    r = env.list_page(status=status, limit=2, cursor=cursor)
                    self.assertStatus(r, 200)
                    seen += [c['case_id'] for c in r.body['cases']]
                    cursor = r.body['next_cursor']
                    self.assertLess(len(seen), 20)
                self.assertEqual(seen, order, 'every case listed exactly once, in order')
                ids = [i for i in ids if i != page1[0]]
        for bad in ('abc', '5', '0', '-1', '12-', '12-NOTACASEID', '1' * 17 + '-' + ids[0]):
            with self.subTest(cursor=bad):
                self.assertErrorBody(env.list_page(cursor=bad), 400, 'invalid_query')

    def test_limit_bounds(self):
        env = self.env
        for _ in range(3):
            env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        for limit in ('1', '200'):
            r = env.list_page(limit=limit)
            self.assertStatus(r, 200, 'limit=' + limit)
        self.assertEqual(len(env.list_page(limit=1).body['cases']), 1)
        self.assertIsNotNone(env.list_page(limit=1).body['next_cursor'])
        for limit in ('0', '201', '-1', 'abc', '1.5', '99999999999999999999'):
            with self.subTest(limit=limit):
                self.assertErrorBody(env.list_page(limit=limit), 400, 'invalid_query')
        for status in ('bogus', 'ASSIGNED', 'assigned,queued'):
            with self.subTest(status=status):
                self.assertErrorBody(env.list_page(status=status), 400, 'invalid_query')
        for category in ('bogus', 'Threat'):
            with self.subTest(category=category):
                self.assertErrorBody(env.list_page(category=category), 400, 'invalid_query')

    def test_open_statuses_share_one_index(self):
        """An open case is in the open cases' index alone (a status change among open statuses
        moves no index); a listing by an open status reads the open cases. ess_upgrade drops the
        open statuses' own indexes that an older version kept, and the listings stay right."""
        env = self.env
        P = env.prefix
        tok = env.put_team_at('t1', 2.0, 80, POLICE_SW, capacity=3)
        made = [env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย %d' % i)
                for i in range(3)]
        ids = [m['case_id'] for m in made]
        self.assertEqual([m['status'] for m in made], ['assigned'] * 3)
        self.assertStatus(env.ack(ids[1], tok), 200)
        env.resolve(ids[2], tok)
        def status_indexes():
            return {k.decode() for k in env.redis.command('KEYS', P + 'cases:status:*')}
        self.assertEqual(status_indexes(), {P + 'cases:status:resolved'},
                         'no index of an open status')
        # an older version's data: every status had an index, a stale member included
        env.redis.command('ZADD', P + 'cases:status:assigned', 1, ids[0], 2, ids[1])
        env.redis.command('ZADD', P + 'cases:status:acknowledged', 2, ids[1])
        env.redis.command('SET', P + 'schema', '5')
        reply = json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, P))
        self.assertTrue(reply['upgraded'], reply)
        self.assertEqual(status_indexes(), {P + 'cases:status:resolved'})
        for status, want in (('assigned', [ids[0]]), ('acknowledged', [ids[1]]),
                             ('resolved', [ids[2]]), ('en_route', []), (None, ids[1::-1])):
            with self.subTest(status=status):
                self.assertEqual([c['case_id'] for c in env.list_cases(status=status)], want)

    def test_listing_needs_operator(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 80, POLICE_SW)
        self.assertErrorBody(env.http('GET', '/v1/cases'), 401, 'unauthorized')
        self.assertErrorBody(env.http('GET', '/v1/cases', token='garbage'), 401, 'unauthorized')
        self.assertErrorBody(env.http('GET', '/v1/cases', token=tok), (401, 403),
                             ('unauthorized', 'forbidden'))
        self.assertErrorBody(env.http('GET', '/v1/cases', token=env.admin_token), (401, 403),
                             ('unauthorized', 'forbidden'))


class IdempotencyTest(RouterTest):

    def test_repeated_call_id(self):
        env = self.env
        env.put_team_at('t1', 2.0, 80, POLICE_SW, capacity=5)
        body = env.incident_body(category='detention', description='มีคนถูกกักตัวไว้ในโกดังสินค้า')
        r1 = env.post_incident_raw(body)
        self.assertStatus(r1, 201)
        r2 = env.post_incident_raw(body)
        self.assertStatus(r2, 200, 'a repeated call_id answers 200')
        for key in ('case_id', 'tracking_code', 'category', 'priority', 'status'):
            self.assertEqual(r1.body[key], r2.body[key], key)
        self.assertEqual(r1.body['team'], r2.body['team'])
        # the same content sent again by another operator is still the same call
        r3 = env.post_incident_raw(dict(body, operator_id='op-18'), token=env.operator_tokens[1])
        self.assertStatus(r3, 200, 'the same content from another operator')
        self.assertEqual(r3.body['case_id'], r1.body['case_id'])
        cases = env.list_cases()
        self.assertEqual(len(cases), 1, 'one case for one call_id')
        self.assertEqual(len(env.list_cases(status='assigned')), 1,
                         'the repeat did not claim a second team slot')

    def test_reused_call_id_with_other_content(self):
        """The same call_id with another category, description, location or reporter: 409
        call_id_conflict naming the case the call_id belongs to, and nothing created or changed;
        the original content again still answers 200."""
        env = self.env
        env.put_team_at('t1', 2.0, 80, POLICE_SW, capacity=5)
        body = env.incident_body(category='detention', description='มีคนถูกกักตัวไว้ในโกดังสินค้า')
        r1 = env.post_incident_raw(body)
        self.assertStatus(r1, 201)
        case_id = r1.body['case_id']
        before = env.case(case_id)
        moved = dict(body['location'], lat=body['location']['lat'] + 0.01)
        variants = [
            ('another category', dict(body, category='threat')),
            ('another description', dict(body, description='ถูกขังไว้ในห้องใต้ดิน')),
            ('another location', dict(body, location=moved)),
            ('another address', dict(body, location=dict(body['location'],
                                                          address=harness.unique_address()))),
            ('another reporter', dict(body, reporter={'name': harness.unique_name(),
                                                      'phone': harness.unique_phone()})),
            ('no reporter', {k: v for k, v in body.items() if k != 'reporter'}),
        ]
        for name, b in variants:
            with self.subTest(name):
                r = env.post_incident_raw(b)
                self.assertErrorBody(r, 409, 'call_id_conflict', name)
                self.assertEqual(r.body['error'].get('case_id'), case_id, name)
                self.assertIn(case_id, r.body['error']['message'], 'the message names the case')
        self.assertEqual([c['case_id'] for c in env.list_cases()], [case_id], 'nothing created')
        self.assertEqual(env.case(case_id), before, 'the case is unchanged')
        r = env.post_incident_raw(body)
        self.assertStatus(r, 200, 'the original content again')
        self.assertEqual(r.body['case_id'], case_id)

    def test_digest_kept_short_and_older_ones_read(self):
        """A call_id keeps a 16-digit digest of the content; one an older version kept (a whole
        SHA-1, 40 digits) is compared on its first 16: the same content is still a repeat."""
        env = self.env
        env.put_team_at('t1', 2.0, 80, POLICE_SW, capacity=5)
        body = env.incident_body(category='detention', description='มีคนถูกกักตัวไว้ในโกดังสินค้า')
        r1 = env.post_incident_raw(body)
        self.assertStatus(r1, 201)
        key = env.prefix + 'call:' + body['call_id']
        case_id, digest = env.redis.command('GET', key).decode().split(' ')
        self.assertEqual((case_id, len(digest)), (r1.body['case_id'], 16))
        env.redis.command('SET', key, '%s %s%s' % (case_id, digest, 'a' * 24))
        self.assertStatus(env.post_incident_raw(body), 200, 'an older, longer digest')
        other = '1' * 40 if digest == '1' * 16 else '0' * 40
        env.redis.command('SET', key, '%s %s' % (case_id, other))
        self.assertErrorBody(env.post_incident_raw(body), 409, 'call_id_conflict')

    def test_create_contract_refuses_unknown_and_missing_names(self):
        """ess_case_create's arguments are name value pairs that ess.lua defines once: a name
        the router does not send, or one it would send misspelt, is refused by name and nothing
        is written (so the router and ess.lua cannot drift apart silently)."""
        env = self.env
        P = env.router.prefix
        base = ['case_id', '01JDTESTCONTRACT0000000000', 'tracking_code', 'HM-7K3-Q9X-TD4',
                'category', 'threat', 'priority', 'P2', 'priority_rank', '2',
                'skills', 'police', 'prefer_skill', '', 'radii', '5', 'ack_timeout_s', '120',
                'max_attempts', '3', 'dispatch', '1', 'channel', 'hotline', 'lat', '13.75',
                'lon', '100.5', 'by', 'op-17']

        def written():
            return sorted(k for pattern in ('case:*', 'track:*', 'cases:*', 'queue')
                          for k in env.redis.keys(P + pattern))

        before = written()
        cases = [('an unknown name', base + ['descripton', 'typo'], 'bad_argument:descripton'),
                 ('a missing name', base[:-2], 'bad_argument:by'),
                 ('a name twice', base + ['category', 'abuse_risk'], 'bad_argument:category'),
                 ('a name without value', base + ['address'], 'bad_argument:address')]
        for name, args, want in cases:
            with self.subTest(name):
                got = env.redis.command('FCALL', 'ess_case_create', '0', P, *args)
                self.assertEqual([x.decode() if isinstance(x, bytes) else x for x in got],
                                 ['err', want])
        self.assertEqual(written(), before, 'nothing written')
        ok = env.redis.command('FCALL', 'ess_case_create', '0', P, *base)
        self.assertEqual(ok[0], b'created', 'the same arguments, well formed: %r' % ok)

    def test_concurrent_repeats(self):
        env = self.env
        env.put_team_at('t1', 2.0, 80, POLICE_SW, capacity=20)
        body = env.incident_body(category='threat', description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        env.note_incident_pii(body)
        results, lock = [], threading.Lock()
        start = threading.Barrier(12)

        def post():
            start.wait()
            try:
                r = env.http('POST', '/v1/incidents', body, token=env.operator_token)
            except Exception as e:  # noqa: BLE001 (reported below)
                r = e
            with lock:
                results.append(r)

        threads = [threading.Thread(target=post) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(getattr(r, 'status', repr(r)) for r in results)
        self.assertEqual(statuses, [200] * 11 + [201], 'exactly one 201: %r' % results)
        self.assertEqual(len({r.body['case_id'] for r in results}), 1)
        self.assertEqual(len({r.body['tracking_code'] for r in results}), 1)
        self.assertEqual(len(env.list_cases()), 1)
        self.assertEqual(len(env.list_cases(status='assigned')), 1)

    def test_distinct_call_ids_are_distinct_cases(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย', call_id='1300-a')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย', call_id='1300-b')
        self.assertNotEqual(a['case_id'], b['case_id'])
        c = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย', call_id=None)
        d = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย', call_id=None)
        self.assertNotEqual(c['case_id'], d['case_id'])
        self.assertEqual(len(env.list_cases()), 4)

    def test_without_call_id(self):
        env = self.env
        body = env.incident_body(category='threat', description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        del body['call_id']
        r1 = env.post_incident_raw(body)
        r2 = env.post_incident_raw(body)
        self.assertStatus(r1, 201)
        self.assertStatus(r2, 201, 'without call_id every post is a new case')
        self.assertNotEqual(r1.body['case_id'], r2.body['case_id'])


if __name__ == '__main__':
    harness.main()
