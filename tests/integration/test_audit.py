"""The audit (DESIGN.md "Safeguarding", PLAN12 part A): every request that reads or changes a
case's personal data, every search and every log-in leaves exactly one entry in the audit stream,
naming the actor's kind and id (an operator by session cookie, by account token and by
ESS_OPERATOR_TOKENS, a supervisor, a team) and the client address; a team never reads a case it
does not hold or that is closed (403, recorded as refused); when the entry cannot be written (a
Redis ACL that denies the audit's keys, a stream whose last id is the largest there is, Redis out
of memory) the request is refused with 503 and no personal data leaves, nothing is changed; a
team's accept button in its LINE group is an update by that team; each chat route is a chat entry;
GET /v1/cases/{id}/access-log and GET /v1/audit (supervisors) with their filters and paging;
entries expire after ESS_AUDIT_RETENTION_DAYS (a fraction of a day here). In a browser, a
supervisor sees the access log on the case page and an operator does not."""

import calendar
import re
import secrets
import time
import urllib.parse

import fake_line
import harness
from fake_line import LineTest
from harness import RouterTest, scaled, wait_until
from test_console import BrowserHelpers, new_password
from test_dispatch_deadlines import group_postback
from test_line_handoff import HandoffHelpers

POLICE_SW = ['police', 'social_worker']
ENTRY_FIELDS = {'at', 'actor_kind', 'actor_id', 'action', 'case_id', 'ip', 'outcome'}
VIEW_KEYS = {'id', 'at', 'actor', 'action', 'case_id', 'ip', 'outcome'}
ENTRY_ID = re.compile(r'^\d+-\d+$')


def q(case_id):
    return urllib.parse.quote(case_id, safe='')


class AuditHelpers(RouterTest):
    """Accounts, a case and readers of the audit stream (no tests of its own)."""

    def setUp(self):
        super().setUp()
        env = self.env
        self.op_password, self.op_token = self.create('op-17', 'operator')
        self.sup_password, self.sup_token = self.create('sup-1', 'supervisor')

    def create(self, op_id, role):
        env = self.env
        password = 'pw-' + secrets.token_hex(10)
        name = 'เจ้าหน้าที่ ' + op_id
        env.note_pii(name)
        env.secrets.add(password)
        r = env.http('PUT', '/v1/operators/' + op_id,
                     {'name': name, 'role': role, 'password': password}, token=env.admin_token)
        self.assertStatus(r, 201)
        env.secrets.add(r.body['token'])
        return password, r.body['token']

    def session(self, op_id, password):
        r = self.env.http('POST', '/v1/session', {'operator_id': op_id, 'password': password})
        self.assertStatus(r, 200, 'log-in of ' + op_id)
        cookie = re.match(r'ess_session=([A-Za-z0-9_-]{43});', r.headers['set-cookie']).group(1)
        self.env.secrets |= {cookie, r.body['csrf_token']}
        return cookie, r.body['csrf_token']

    def with_cookie(self, method, path, cookie, csrf=None, body=None):
        headers = {'Cookie': 'ess_session=' + cookie}
        if csrf:
            headers['X-CSRF-Token'] = csrf
        return self.env.http(method, path, body, headers=headers)

    def canary_case(self, team='t1'):
        """A case assigned to team, its reporter's name, phone, address and description noted:
        (answer, the personal texts)."""
        env = self.env
        description = 'ถูกกักตัวไว้ในห้อง รหัส %s' % secrets.token_hex(4)
        a = env.post_incident('detention', description)
        self.assertAssignedTo(a, team)
        body = a['_request']
        texts = [description, body['reporter']['name'], body['reporter']['phone'],
                 body['location']['address']]
        return a, texts

    # the stream, as Redis holds it

    def entries(self):
        """Every audit entry, oldest first: [(id, {field: value})]."""
        out = []
        for eid, flat in self.env.redis.command('XRANGE', self.env.prefix + 'audit', '-', '+'):
            f = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
            out.append((eid.decode(), f))
        return out

    def count(self):
        return self.env.redis.command('XLEN', self.env.prefix + 'audit')

    def one_entry(self, request, action, kind, actor, case_id='', outcome='ok'):
        """Runs request(); asserts that it added exactly one entry, with these values and the
        client's address; returns request()'s answer."""
        before = self.entries()
        r = request()
        after = self.entries()
        self.assertEqual(len(after), len(before) + 1,
                         'one entry for %s by %s:%s (%r): %r' % (action, kind, actor, r,
                                                                  after[len(before):]))
        eid, e = after[-1]
        self.assertEqual(set(e), ENTRY_FIELDS, 'an entry holds these fields and nothing else')
        self.assertEqual((e['action'], e['actor_kind'], e['actor_id'], e['case_id'], e['outcome']),
                         (action, kind, actor, case_id, outcome), repr(r))
        self.assertEqual(e['ip'], '127.0.0.1')
        self.assertLessEqual(abs(int(e['at']) - time.time() * 1000), scaled(60000))
        return r

    def audit(self, token=None, **params):
        path = '/v1/audit' + ('?' + urllib.parse.urlencode(params) if params else '')
        return self.env.http('GET', path, token=self.sup_token if token is None else token)

    def access_log(self, case_id, token=None, **params):
        path = '/v1/cases/%s/access-log' % q(case_id)
        if params:
            path += '?' + urllib.parse.urlencode(params)
        return self.env.http('GET', path, token=self.sup_token if token is None else token)

    def all_pages(self, fetch, limit):
        """Every entry a reader gives, following next_cursor; asserts no page repeats one."""
        out, cursor = [], None
        for _ in range(200):
            params = {'limit': limit}
            if cursor:
                params['cursor'] = cursor
            r = fetch(**params)
            self.assertStatus(r, 200)
            self.assertLessEqual(len(r.body['entries']), limit)
            out.extend(r.body['entries'])
            cursor = r.body['next_cursor']
            if cursor is None:
                ids = [e['id'] for e in out]
                self.assertEqual(len(ids), len(set(ids)), 'no entry on two pages')
                return out
        self.fail('the pages did not end')


class AuditTest(AuditHelpers):

    def test_each_action_is_one_entry_naming_its_actor(self):
        env = self.env
        t1 = env.put_team_at('t1', 1.0, 0, POLICE_SW, capacity=3)
        env.put_team_at('t2', 2.0, 90, POLICE_SW, capacity=3)
        env.put_team_at('t3', 9.0, 180, POLICE_SW, capacity=3)
        a, texts = self.canary_case()
        cid = a['case_id']
        self.assertEqual(self.count(), 0, 'making accounts, teams and cases is not audited')
        cookie, csrf = self.session('op-17', self.op_password)
        self.assertEqual(self.count(), 1, 'the log-in is an entry')

        path = '/v1/cases/' + q(cid)
        # reads, by every kind of caller
        self.one_entry(lambda: self.with_cookie('GET', path, cookie), 'read', 'operator', 'op-17',
                       cid)
        self.one_entry(lambda: env.get_case(cid, token=self.op_token), 'read', 'operator',
                       'op-17', cid)
        self.one_entry(lambda: env.get_case(cid), 'read', 'operator', 'desk-1', cid)
        self.one_entry(lambda: env.get_case(cid, token=env.operator_tokens[1]), 'read',
                       'operator', 'desk-2', cid)
        r = self.one_entry(lambda: env.get_case(cid, token=self.sup_token), 'read', 'supervisor',
                           'sup-1', cid)
        self.assertStatus(r, 200)
        r = self.one_entry(lambda: env.get_case(cid, token=t1), 'read', 'team', 't1', cid)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['reporter']['phone'], a['_request']['reporter']['phone'])

        # changes
        self.assertStatus(self.one_entry(lambda: env.ack(cid, t1), 'update', 'team', 't1', cid),
                          200)
        self.assertStatus(self.one_entry(lambda: env.set_status(cid, 'en_route', token=t1),
                                         'update', 'team', 't1', cid), 200)
        note = 'โทรกลับหลังหกโมงเย็น %s' % secrets.token_hex(3)
        env.note_pii(note)
        self.assertStatus(self.one_entry(
            lambda: self.with_cookie('POST', path + '/notes', cookie, csrf, {'text': note}),
            'update', 'operator', 'op-17', cid), 201)
        self.assertStatus(self.one_entry(
            lambda: env.http('POST', path + '/triage', {'priority': 'P2'},
                             token=env.operator_token),
            'update', 'operator', 'desk-1', cid), 200)
        self.assertStatus(self.one_entry(
            lambda: env.http('POST', path + '/triage', {'category': 'threat'},
                             token=self.op_token),
            'update', 'operator', 'op-17', cid), 200)
        self.assertStatus(self.one_entry(lambda: env.assign(cid, 't2', token=self.sup_token),
                                         'update', 'supervisor', 'sup-1', cid), 200)
        lat, lon = harness.jitter(harness.BKK)
        env.note_pii(lat, lon)
        self.assertStatus(self.one_entry(
            lambda: env.http('POST', path + '/location', {'lat': lat, 'lon': lon},
                             token=env.operator_token),
            'update', 'operator', 'desk-1', cid), 200)
        # refusals after the entry are the request's answer; the entry is still one
        r = self.one_entry(lambda: env.assign(cid, 'nosuchteam'), 'update', 'operator', 'desk-1',
                           cid)
        self.assertErrorBody(r, 404, 'not_found')
        r = self.one_entry(lambda: env.set_status(cid, 'closed', token=t1), 'update', 'team',
                           't1', cid, 'forbidden')
        self.assertErrorBody(r, 403, 'forbidden', 'the case went to t2')
        r = self.one_entry(lambda: env.ack(cid, t1), 'update', 'team', 't1', cid, 'forbidden')
        self.assertErrorBody(r, 409, 'not_assigned', 'an ack by a team not holding it is a 409')

        # a search is a list entry on no case, and never holds what was searched
        phone = a['_request']['reporter']['phone']
        r = self.one_entry(
            lambda: env.http('GET', '/v1/cases?' + urllib.parse.urlencode({'q': phone}),
                             token=env.operator_token),
            'list', 'operator', 'desk-1')
        self.assertEqual([c['case_id'] for c in r.body['cases']], [cid])
        self.one_entry(
            lambda: env.http('GET', '/v1/cases?q=' + a['tracking_code'], token=self.sup_token),
            'list', 'supervisor', 'sup-1')

        # what carries no personal data is not audited
        n = self.count()
        for p in ('/v1/cases', '/v1/cases?status=queued', '/v1/cases/%s/candidates' % q(cid),
                  '/v1/teams', '/v1/track/' + a['tracking_code']):
            self.assertStatus(env.http('GET', p, token=env.operator_token), 200, p)
        self.assertStatus(self.access_log(cid), 200)
        self.assertStatus(self.audit(), 200)
        self.assertEqual(self.count(), n, 'lists, candidates, the audit itself: no entry')

        # nothing personal in the stream, its indexes or anywhere under the audit's keys
        dump = repr(env.redis.command('XRANGE', env.prefix + 'audit', '-', '+'))
        for key in env.redis.keys(env.prefix + 'audit*'):
            if key != env.prefix + 'audit':
                dump += repr(env.redis.command('ZRANGE', key, 0, -1))
        for text in texts + [note, phone, '%.5f' % lat]:
            self.assertNotIn(text.encode('unicode_escape').decode(), dump)
            self.assertNotIn(repr(text.encode())[2:-1], dump)

    def test_a_team_reads_only_the_case_it_holds_and_never_once_closed(self):
        env = self.env
        t1 = env.put_team_at('t1', 1.0, 0, POLICE_SW, capacity=2)
        t2 = env.put_team_at('t2', 30.0, 90, POLICE_SW, capacity=2)
        a, texts = self.canary_case('t1')
        cid = a['case_id']
        r = self.one_entry(lambda: env.get_case(cid, token=t2), 'read', 'team', 't2', cid,
                           'forbidden')
        self.assertErrorBody(r, 403, 'forbidden', 'another team')
        r = self.one_entry(lambda: env.get_case(cid, token='t1.' + 'x' * 43), 'read', 'team', 't1',
                           cid, 'unauthorized')
        self.assertErrorBody(r, 401, 'unauthorized', 'a token that is not t1\'s')
        env.resolve(cid, t1)
        r = self.one_entry(lambda: env.get_case(cid, token=t1), 'read', 'team', 't1', cid)
        self.assertStatus(r, 200, 'resolved: the team still holds the case until it is closed')
        self.assertStatus(env.set_status(cid, 'closed', token=t1), 200, 'the team closes it')
        for _ in range(2):
            r = self.one_entry(lambda: env.get_case(cid, token=t1), 'read', 'team', 't1', cid,
                               'forbidden')
            self.assertErrorBody(r, 403, 'forbidden', 'a closed case')
            for text in texts:
                self.assertNotIn(text, r.raw.decode('utf-8'))
        r = self.one_entry(lambda: env.set_status(cid, 'en_route', token=t1), 'update', 'team',
                           't1', cid, 'forbidden')
        self.assertErrorBody(r, 403, 'forbidden')
        # an unknown case: recorded as not found, and under no case's access log
        other = '01' + 'J' * 24
        r = self.one_entry(lambda: env.get_case(other), 'read', 'operator', 'desk-1', other,
                           'not_found')
        self.assertErrorBody(r, 404, 'not_found')
        self.assertErrorBody(self.access_log(other), 404, 'not_found')
        # the supervisor sees the refusals on the case's access log
        log = self.access_log(cid).body['entries']
        outcomes = [(e['actor']['id'], e['action'], e['outcome']) for e in log]
        self.assertEqual(outcomes[:3], [('t1', 'update', 'forbidden'), ('t1', 'read', 'forbidden'),
                                        ('t1', 'read', 'forbidden')])
        self.assertIn(('t2', 'read', 'forbidden'), outcomes)
        self.assertIn(('t1', 'read', 'unauthorized'), outcomes)

    def test_log_ins_and_failed_log_ins(self):
        env = self.env
        login = lambda op, pw: env.http('POST', '/v1/session', {'operator_id': op, 'password': pw})
        r = self.one_entry(lambda: login('sup-1', self.sup_password), 'login', 'supervisor',
                           'sup-1')
        self.assertStatus(r, 200)
        self.env.secrets.add(r.body['csrf_token'])
        r = self.one_entry(lambda: login('op-17', 'wrong-' + self.op_password), 'login_failed',
                           'operator', 'op-17', outcome='unauthorized')
        self.assertErrorBody(r, 401, 'unauthorized')
        r = self.one_entry(lambda: login('nobody', 'whatever-password'), 'login_failed',
                           'operator', 'nobody', outcome='unauthorized')
        self.assertErrorBody(r, 401, 'unauthorized')
        r = self.one_entry(lambda: login('NOT AN ID', 'whatever-password'), 'login_failed',
                           'operator', '', outcome='unauthorized')
        self.assertErrorBody(r, 401)
        for _ in range(4):
            self.one_entry(lambda: login('op-17', 'wrong-again'), 'login_failed', 'operator',
                           'op-17', outcome='unauthorized')
        r = self.one_entry(lambda: login('op-17', self.op_password), 'login_failed', 'operator',
                           'op-17', outcome='too_many_failures')
        self.assertErrorBody(r, 429, 'too_many_failures')
        dump = repr(self.entries())
        self.assertNotIn(self.op_password, dump)
        self.assertNotIn('wrong-again', dump)
        # the supervisor finds them by actor and action
        r = self.audit(actor='op-17', action='login_failed')
        self.assertStatus(r, 200)
        self.assertEqual([e['outcome'] for e in r.body['entries']],
                         ['too_many_failures'] + ['unauthorized'] * 5)

    def check_refused(self, cid, texts, status_before):
        """While the audit cannot be written: the case is not answered, not changed, not found,
        and no session opens."""
        env = self.env
        r = env.get_case(cid)
        self.assertErrorBody(r, 503, 'audit_unavailable')
        r2 = env.get_case(cid, token=self.sup_token)
        self.assertErrorBody(r2, 503, 'audit_unavailable')
        r3 = env.http('GET', '/v1/cases?q=' + q(texts[2]), token=env.operator_token)
        self.assertErrorBody(r3, 503, 'audit_unavailable')
        for resp in (r, r2, r3):
            for text in texts:
                self.assertNotIn(text, resp.raw.decode('utf-8'))
        timeline = env.redis.command('LLEN', env.prefix + 'case:%s:timeline' % cid)
        r = env.set_status(cid, 'closed')
        self.assertErrorBody(r, 503, 'audit_unavailable')
        r = env.http('POST', '/v1/cases/%s/notes' % q(cid), {'text': 'ไม่ควรถูกบันทึก'},
                     token=env.operator_token)
        self.assertErrorBody(r, 503, 'audit_unavailable')
        self.assertEqual(env.redis.command('HGET', env.prefix + 'case:' + cid, 'status').decode(),
                         status_before, 'the status change was not made')
        self.assertEqual(env.redis.command('LLEN', env.prefix + 'case:%s:timeline' % cid),
                         timeline, 'nothing went on the timeline')
        r = env.http('POST', '/v1/session', {'operator_id': 'op-17',
                                             'password': self.op_password})
        self.assertErrorBody(r, 503, 'audit_unavailable')
        self.assertNotIn('set-cookie', r.headers, 'no session without its log-in entry')

    def test_no_personal_data_when_the_audit_is_denied_by_an_acl(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, texts = self.canary_case()
        cid = a['case_id']
        self.assertStatus(env.get_case(cid), 200)
        n = self.count()
        # the router's Redis user (default) may touch every key of the prefix but the audit's
        env.redis.command('ACL', 'SETUSER', 'default', 'resetkeys', '~%s[^a]*' % env.prefix)
        try:
            self.check_refused(cid, texts, 'assigned')
        finally:
            env.redis.command('ACL', 'SETUSER', 'default', 'allkeys')
        self.assertEqual(self.count(), n, 'no entry could be written')
        self.assertStatus(env.get_case(cid), 200, 'with the audit back, the case is read again')
        self.assertEqual(self.count(), n + 1)

    def test_no_personal_data_when_the_audit_stream_is_full(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, texts = self.canary_case()
        cid = a['case_id']
        last = '18446744073709551615-18446744073709551615'
        env.redis.command('XADD', env.prefix + 'audit', last, 'x', 'y')
        self.check_refused(cid, texts, 'assigned')
        self.assertEqual(self.entries()[-1][0], last)
        env.redis.command('DEL', env.prefix + 'audit')
        self.assertStatus(env.get_case(cid), 200)

    def test_redis_out_of_memory_answers_503(self):
        """Redis refuses a function that writes before it runs when memory is out: an audited
        read, a change and a new case are 503, not 500."""
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, texts = self.canary_case()
        cid = a['case_id']
        env.redis.command('CONFIG', 'SET', 'maxmemory', '1')
        try:
            r = env.get_case(cid)
            s = env.set_status(cid, 'closed')
            n = env.post_incident_raw(env.incident_body(category='threat'))
        finally:
            env.redis.command('CONFIG', 'SET', 'maxmemory', '0')
        self.assertErrorBody(r, 503, 'redis_unavailable')
        self.assertErrorBody(s, 503, 'redis_unavailable')
        self.assertErrorBody(n, 503, 'redis_unavailable', 'a new case is refused as unavailable')
        for text in texts:
            self.assertNotIn(text, r.raw.decode('utf-8'))
        self.assertEqual(env.case(cid)['status'], 'assigned')

    def test_the_access_log_lists_every_read(self):
        env = self.env
        t1 = env.put_team_at('t1', 1.0, 0, POLICE_SW, capacity=2)
        a, _ = self.canary_case()
        b, _ = self.canary_case()
        cid = a['case_id']
        readers = [(env.operator_token, 'operator', 'desk-1'), (self.op_token, 'operator', 'op-17'),
                   (t1, 'team', 't1'), (self.sup_token, 'supervisor', 'sup-1'),
                   (env.operator_tokens[1], 'operator', 'desk-2')] * 3
        for token, _, _ in readers:
            self.assertStatus(env.get_case(cid, token=token), 200)
            self.assertStatus(env.get_case(b['case_id'], token=env.operator_token), 200)
        self.assertStatus(env.set_status(cid, 'en_route', token=t1), 200)
        r = self.access_log(cid)
        self.assertStatus(r, 200)
        self.assertEqual(set(r.body), {'case_id', 'entries', 'next_cursor'})
        self.assertEqual(r.body['case_id'], cid)
        self.assertIsNone(r.body['next_cursor'])
        log = r.body['entries']
        reads = [e for e in log if e['action'] == 'read']
        self.assertEqual([(e['actor']['kind'], e['actor']['id']) for e in reads],
                         [(k, i) for _, k, i in reversed(readers)], 'every read, newest first')
        for e in log:
            self.assertEqual(set(e), VIEW_KEYS)
            self.assertEqual(set(e['actor']), {'kind', 'id'})
            self.assertRegex(e['id'], ENTRY_ID)
            self.assertTime(e['at'])
            self.assertEqual((e['case_id'], e['ip'], e['outcome']), (cid, '127.0.0.1', 'ok'))
        self.assertEqual(log[0]['action'], 'update', 'the status change is the newest')
        ats = [e['at'] for e in log]
        self.assertEqual(ats, sorted(ats, reverse=True))
        # page by page, the same entries
        paged = self.all_pages(lambda **p: self.access_log(cid, **p), 4)
        self.assertEqual(paged, log)
        # only supervisors read it; a bad query is a 400; an unknown case a 404
        for token in (env.operator_token, self.op_token, t1, env.admin_token):
            self.assertErrorBody(self.access_log(cid, token=token), 403, 'forbidden')
        self.assertErrorBody(env.http('GET', '/v1/cases/%s/access-log' % q(cid)), 401)
        for params in ({'limit': '0'}, {'limit': '501'}, {'limit': 'x'}, {'cursor': 'abc'},
                       {'cursor': '1-2-3'}):
            self.assertErrorBody(self.access_log(cid, **params), 400, 'invalid_query', repr(params))
        self.assertErrorBody(self.access_log('not-a-case'), 404, 'not_found')

    def test_audit_filters_and_paging(self):
        env = self.env
        t1 = env.put_team_at('t1', 1.0, 0, POLICE_SW, capacity=3)
        a, _ = self.canary_case()
        b, _ = self.canary_case()
        self.session('sup-1', self.sup_password)
        env.http('POST', '/v1/session', {'operator_id': 'op-17', 'password': 'nope-nope-nope'})
        for token in (env.operator_token, t1, self.sup_token, self.op_token):
            env.get_case(a['case_id'], token=token)
        env.get_case(b['case_id'], token=env.operator_token)
        env.http('GET', '/v1/cases?q=' + a['tracking_code'], token=env.operator_token)
        env.ack(b['case_id'], t1)
        every = self.all_pages(lambda **p: self.audit(**p), 500)
        self.assertEqual(len(every), self.count())
        self.assertEqual([e['id'] for e in every], [i for i, _ in reversed(self.entries())])

        def matching(pred):
            return [e['id'] for e in every if pred(e)]

        def ids(**params):
            r = self.audit(**params)
            self.assertStatus(r, 200, repr(params))
            self.assertIsNone(r.body['next_cursor'])
            return [e['id'] for e in r.body['entries']]

        desk1 = lambda e: e['actor']['id'] == 'desk-1'
        self.assertEqual(ids(actor='desk-1'), matching(desk1))
        self.assertEqual(ids(actor='operator:desk-1'), matching(desk1))
        self.assertEqual(ids(actor='supervisor:desk-1'), [])
        self.assertEqual(ids(actor='team:t1'), matching(lambda e: e['actor']['id'] == 't1'))
        self.assertEqual(len(ids(actor='team:t1')), 2, 'a read and an ack')
        self.assertEqual(ids(case_id=a['case_id']),
                         matching(lambda e: e['case_id'] == a['case_id']))
        self.assertEqual(ids(case_id=a['case_id'].lower()), ids(case_id=a['case_id']))
        self.assertEqual(ids(case_id=b['case_id'], actor='desk-1'),
                         matching(lambda e: e['case_id'] == b['case_id'] and desk1(e)))
        self.assertEqual(ids(action='list'), matching(lambda e: e['action'] == 'list'))
        self.assertEqual(len(ids(action='list')), 1)
        self.assertEqual(ids(action='login'), matching(lambda e: e['action'] == 'login'))
        self.assertEqual(ids(action='read', actor='desk-1'),
                         matching(lambda e: e['action'] == 'read' and desk1(e)))
        list_entry = [e for e in every if e['action'] == 'list'][0]
        self.assertIsNone(list_entry['case_id'])
        # from and to (inclusive, in ms): the entries of a time range
        ms = lambda t: calendar.timegm(time.strptime(t[:19], '%Y-%m-%dT%H:%M:%S')) * 1000 + \
            int(t[20:23])
        mid = every[len(every) // 2]
        self.assertEqual(ids(**{'from': mid['at']}),
                         matching(lambda e: ms(e['at']) >= ms(mid['at'])))
        self.assertEqual(ids(to=mid['at']), matching(lambda e: ms(e['at']) <= ms(mid['at'])))
        self.assertEqual(ids(to=mid['at'], actor='desk-1'),
                         matching(lambda e: ms(e['at']) <= ms(mid['at']) and desk1(e)))
        self.assertEqual(ids(**{'from': '2099-01-01T00:00:00Z'}), [])
        self.assertEqual(ids(to='2000-01-01T00:00:00Z'), [])
        # paging with and without an index, with filters
        for params in ({}, {'actor': 'desk-1'}, {'case_id': a['case_id']}, {'action': 'read'}):
            paged = self.all_pages(lambda **p: self.audit(**dict(params, **p)), 2)
            self.assertEqual([e['id'] for e in paged], ids(**params), repr(params))
        # bad filters, and who may read it
        for params in ({'actor': 'boss:x'}, {'actor': 'Desk-1'}, {'actor': ''}, {'action': 'delete'},
                       {'from': 'yesterday'}, {'to': '2026-01-01 00:00:00'}, {'limit': '0'},
                       {'limit': '501'}, {'cursor': 'x'}, {'case_id': 'abc'}):
            self.assertErrorBody(self.audit(**params), 400, 'invalid_query', repr(params))
        for token in (env.operator_token, self.op_token, t1, env.admin_token):
            self.assertErrorBody(self.audit(token=token), 403, 'forbidden')

    def test_a_page_stops_after_a_thousand_entries_and_says_where_to_go_on(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        self.session('sup-1', self.sup_password)  # the one log-in, the oldest entry
        key = env.prefix + 'audit'
        for i in range(1100):  # newer entries the filter does not want
            env.redis.command('XADD', key, '*', 'at', str(int(time.time() * 1000)), 'actor_kind',
                              'operator', 'actor_id', 'desk-1', 'action', 'read', 'case_id',
                              '', 'ip', '127.0.0.1', 'outcome', 'ok')
        r = self.audit(action='login')
        self.assertStatus(r, 200)
        self.assertEqual(r.body['entries'], [], 'no login among the newest 1000')
        self.assertIsNotNone(r.body['next_cursor'], 'but the log goes on')
        r = self.audit(action='login', cursor=r.body['next_cursor'])
        self.assertEqual([(e['action'], e['actor']['id']) for e in r.body['entries']],
                         [('login', 'sup-1')])
        self.assertIsNone(r.body['next_cursor'])
        self.assertEqual(len(self.all_pages(lambda **p: self.audit(**p), 500)), 1101)


class AuditLineTest(LineTest, AuditHelpers):
    """The team's accept button in its LINE group is an update by that team."""

    def test_a_group_accept_button_is_an_update_by_its_team(self):
        env = self.env
        group = fake_line.new_group_id()
        env.put_team_at('line-team', 1.5, 60, POLICE_SW, notify={'line_to': group})
        a = env.post_incident('detention', 'มีคนถูกขังไว้ในโกดัง')
        self.assertAssignedTo(a, 'line-team')
        cid = a['case_id']
        self.assertEqual(self.count(), 0)

        def pressed(group_id):
            def press():
                ev = group_postback('ack=' + cid, group_id)
                self.deliver(ev)
                return self.fake.wait_reply(ev)
            return press
        self.one_entry(pressed(fake_line.new_group_id()), 'update', 'team', '', cid,
                       'unauthorized')
        self.one_entry(pressed(group), 'update', 'team', 'line-team', cid)
        self.assertEqual(env.case(cid)['status'], 'acknowledged')


class AuditChatTest(HandoffHelpers, AuditHelpers):
    """Each chat route (the conversation read, take, write, close) is one chat entry."""

    def test_each_chat_route_is_one_chat_entry(self):
        env = self.env
        user = self.new_user()
        case = self.ask_after_report(user)
        cid = case['case_id']
        r = self.one_entry(lambda: self.messages(cid), 'chat', 'operator', 'desk-1', cid)
        self.assertStatus(r, 200)
        r = self.one_entry(lambda: self.take(cid, token=self.op_token), 'chat', 'operator',
                           'op-17', cid)
        self.assertStatus(r, 200)
        r = self.one_entry(lambda: self.take(cid), 'chat', 'operator', 'desk-1', cid)
        self.assertErrorBody(r, 409, 'chat_taken', 'refused by the chat, allowed by the audit')
        text = 'เจ้าหน้าที่รับเรื่องแล้วค่ะ %s' % secrets.token_hex(3)
        r = self.one_entry(lambda: self.write(cid, text, token=self.op_token), 'chat', 'operator',
                           'op-17', cid)
        self.assertStatus(r, 201)
        r = self.one_entry(lambda: self.messages(cid, token=self.sup_token), 'chat',
                           'supervisor', 'sup-1', cid)
        self.assertIn(text, [m['text'] for m in r.body['messages']])
        r = self.one_entry(lambda: self.close(cid, token=self.sup_token), 'chat', 'supervisor',
                           'sup-1', cid)
        self.assertStatus(r, 200, 'a supervisor closes another operator\'s chat')
        self.assertNotIn(text, repr(self.entries()), 'no chat text in the audit')
        # the case's access log holds them
        actions = [e['action'] for e in self.access_log(cid).body['entries']]
        self.assertEqual(actions.count('chat'), 6)


class AuditRetentionTest(AuditHelpers):
    env_options = {'extra_env': {'ESS_AUDIT_RETENTION_DAYS': '0.00002'}}  # 1.728 s

    def test_entries_expire_after_the_retention(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, _ = self.canary_case()
        index = env.prefix + 'audit:case:' + a['case_id']
        for _ in range(3):
            self.assertStatus(env.get_case(a['case_id']), 200)
            self.assertGreaterEqual(self.count(), 1)
            pttl = env.redis.command('PTTL', index)
            self.assertTrue(pttl == -2 or 0 < pttl <= 1728, 'the index expires with its entries')
        # nothing more is written: the sweep trims the stream, the indexes expire
        wait_until(lambda: self.count() == 0, 15, 0.1, 'the audit stream trimmed')
        wait_until(lambda: env.redis.keys(env.prefix + 'audit:*') == [], 15, 0.1,
                   'the indexes expired')
        self.assertEqual(self.access_log(a['case_id']).body['entries'], [])
        # a new entry finds an empty log
        self.assertStatus(env.get_case(a['case_id']), 200)
        self.assertLessEqual(len(self.entries()), 1)


class AuditConsoleTest(BrowserHelpers):
    """The access log on the case page, in a browser."""

    def test_a_supervisor_sees_the_access_log_and_an_operator_does_not(self):
        env = self.env
        t1 = env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกขังไว้ในบ้านหลังตลาด')
        cid = a['case_id']
        sup_password = new_password()
        self.create_operator('sup-1', sup_password, role='supervisor')
        self.assertStatus(env.get_case(cid, token=t1), 200)
        self.assertStatus(env.get_case(cid), 200)
        self.assertStatus(env.get_case(cid, token=t1.split('.')[0] + '.' + 'x' * 43), 401)

        b = self.open('access-log')
        self.login(b, 'sup-1', sup_password)
        b.get(self.base + '/console/cases/' + cid)
        self.wait_for(b, '#access-log tr[data-entry-id]')
        wait_until(lambda: len(b.find_all('#access-log tr[data-entry-id]')) >= 4,
                   message='the reads and the page\'s own')
        text = self.text_of(b, '#access-log')
        self.assertIn('บันทึกการเข้าถึง', text)
        for who in ('desk-1', 't1', 'sup-1'):
            self.assertIn(who, text)
        self.assertIn('ปฏิเสธ', text, 'the refused read is shown as refused')
        self.assertIn('127.0.0.1', text)
        self.no_sideways_scroll(b, 'case page with its access log')
        b.driver.execute_script("document.getElementById('access-log').scrollIntoView()")
        b.screenshot('supervisor')
        # a page at a time: older entries come with the button, the focus on the first of them
        for _ in range(25):
            self.assertStatus(env.get_case(cid, token=env.operator_tokens[1]), 200)
        b.reload()
        wait_until(lambda: len(b.find_all('#access-log tr[data-entry-id]')) == 20,
                   message='the first page of 20')
        self.assertIn('desk-2', self.text_of(b, '#access-log tbody tr:nth-child(2)'),
                      'after the page\'s own read, the newest reads')
        b.find('#access-log button.more').click()
        wait_until(lambda: len(b.find_all('#access-log tr[data-entry-id]')) == 30,
                   message='the older entries appended')
        self.assertFalse(b.find('#access-log button.more').is_displayed(), 'no more pages')
        self.assertEqual(self.active(b).get_attribute('data-entry-id'),
                         b.find_all('#access-log tr[data-entry-id]')[20].get_attribute(
                             'data-entry-id'))

        o = self.open('access-log-operator')
        self.login(o)
        o.get(self.base + '/console/cases/' + cid)
        self.wait_for(o, '.facts-list')
        self.wait_for(o, '#candidates table')
        self.assertEqual(o.find_all('#access-log'), [], 'no access log for an operator')
        self.assertFalse([r for r in o.requests() if 'access-log' in r['url']],
                         'the operator\'s page never asks for it')


if __name__ == '__main__':
    harness.main()
