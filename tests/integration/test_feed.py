"""Partner agencies and their feed (DESIGN.md "The shared record"): PUT and GET /v1/agencies,
agency tokens, GET /v1/feed on a consumer group per agency (categories, identifying data only with
consent, redelivery after ESS_FEED_VISIBILITY_S, block_ms woken by a new entry), POST
/v1/feed/ack, the audit."""

import json
import re
import secrets
import socket
import threading
import time

import harness
from harness import RouterTest, scaled
from test_line_chat import ChatHelpers


class FeedHelpers:
    """What the feed tests share (no tests of their own)."""

    def put_agency(self, agency_id, body, status=(200, 201)):
        r = self.env.http('PUT', '/v1/agencies/' + agency_id, body, token=self.env.admin_token)
        self.assertStatus(r, status, 'put agency ' + agency_id)
        if 'token' in r.body:
            self.env.secrets.add(r.body['token'])
        return r

    def feed(self, token, query=''):
        r = self.env.http('GET', '/v1/feed' + query, token=token)
        self.assertStatus(r, 200, 'feed')
        return r.body['entries']

    def ack(self, token, ids):
        r = self.env.http('POST', '/v1/feed/ack', {'ids': ids}, token=token)
        self.assertStatus(r, 200, 'ack')
        return r.body['acknowledged']

    def consent(self, case_id, share):
        r = self.env.http('POST', '/v1/cases/%s/consent' % case_id,
                          {'share_with_agencies': share, 'basis': 'consent'},
                          token=self.env.operator_token)
        self.assertStatus(r, 200, 'consent')

    def log_entries(self, event=None):
        """The case log's entries [(id, {field: value})], of one event when given."""
        out = []
        for eid, f in self.env.redis.command('XRANGE', self.env.prefix + 'log', '-', '+'):
            d = {f[i].decode(): f[i + 1].decode() for i in range(0, len(f), 2)}
            if event is None or d.get('event') == event:
                out.append((eid.decode(), d))
        return out

    def police_with_one_case(self):
        """An agency of threats (not identifying) that has read and acknowledged its feed of one
        threat case: its token, and the case's last log entry's fields."""
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        case = self.env.post_incident(category='threat', description='ถูกขู่ทำร้ายที่ตลาด')
        self.ack(token, [e['id'] for e in self.feed(token, '?count=1000')])
        _, fields = self.log_entries()[-1]
        self.assertEqual(fields['case_id'], case['case_id'])
        return token, fields

    def log_add(self, fields):
        """Appends an entry of these fields to the case log; its id."""
        flat = [x for kv in fields.items() for x in kv]
        return self.env.redis.command('XADD', self.env.prefix + 'log', '*', *flat).decode()

    # A departed read must be forgotten well before its block_ms (30 s) ends: the deadline of
    # that wait, kept below it whatever ESS_TEST_TIME_SCALE is.
    BLOCK_MS = 30000
    GONE_WITHIN = min(10.0, 20.0 / harness.TIME_SCALE)

    def park(self, token):
        """A socket whose GET /v1/feed?block_ms=30000 has been sent (and not answered)."""
        s = socket.create_connection(('127.0.0.1', self.env.router.port))
        s.sendall(('GET /v1/feed?block_ms=%d HTTP/1.1\r\nHost: x\r\n'
                   'Authorization: Bearer %s\r\n\r\n' % (self.BLOCK_MS, token)).encode())
        return s

    def answers_of(self, s, n=1):
        """[(status, parsed body)] of the next n answers read from s."""
        s.settimeout(scaled(25))
        buf, out = b'', []
        while len(out) < n:
            while b'\r\n\r\n' not in buf:
                chunk = s.recv(65536)
                self.assertTrue(chunk, 'closed without an answer')
                buf += chunk
            head, buf = buf.split(b'\r\n\r\n', 1)
            length = int(re.search(rb'(?im)^content-length: *(\d+)', head).group(1))
            while len(buf) < length:
                chunk = s.recv(65536)
                self.assertTrue(chunk, 'closed in the middle of the answer')
                buf += chunk
            out.append((int(head.split()[1]), json.loads(buf[:length])))
            buf = buf[length:]
        return out

    def waiting(self):
        """ess_feed_reads_waiting of /metrics."""
        r = self.env.http('GET', '/metrics')
        self.assertStatus(r, 200)
        m = re.search(r'^ess_feed_reads_waiting (\d+)$', r.raw.decode('utf-8'), re.M)
        self.assertIsNotNone(m, 'ess_feed_reads_waiting in /metrics')
        return int(m.group(1))

    def pending_ids(self, agency_id):
        """Ids read by the agency's group and not acknowledged."""
        r = self.env.redis.command('XPENDING', self.env.prefix + 'log', 'feed:' + agency_id,
                                   '-', '+', '1000')
        return [e[0].decode() for e in r]


class FeedTest(FeedHelpers, RouterTest):
    env_options = {'extra_env': {'ESS_FEED_VISIBILITY_S': '1'}}

    def test_accounts_and_roles(self):
        env = self.env
        r = env.http('PUT', '/v1/agencies/dsdw', {'name': 'x'}, token=env.admin_token)
        self.assertErrorBody(r, 400, 'missing_field')
        r = env.http('PUT', '/v1/agencies/dsdw', {'name': 'x', 'categories': ['fire'],
                                                  'identifying': False}, token=env.admin_token)
        self.assertErrorBody(r, 400, 'invalid_field')
        r = self.put_agency('dsdw', {'name': 'พม.', 'categories': ['abuse_risk', 'other'],
                                     'identifying': True}, 201)
        token = r.body['token']
        self.assertTrue(token.startswith('AG.') and len(token) == 46, token)
        r = self.put_agency('dsdw', {'identifying': False}, 200)
        self.assertNotIn('token', r.body)
        self.assertFalse(r.body['identifying'])
        r = env.http('GET', '/v1/agencies', token=env.admin_token)
        self.assertStatus(r, 200)
        self.assertEqual([a['agency_id'] for a in r.body['agencies']], ['dsdw'])
        self.assertEqual(r.body['agencies'][0]['categories'], ['abuse_risk', 'other'])
        self.assertNotIn('token_hash', r.body['agencies'][0])
        self.assertErrorBody(env.http('GET', '/v1/feed'), 401)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=env.operator_token), 403)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=env.admin_token), 403)
        self.assertErrorBody(env.http('POST', '/v1/feed/ack', {'ids': ['1-0']},
                                      token=env.operator_token), 403)
        self.assertErrorBody(env.http('GET', '/v1/agencies', token=token), 403)
        self.assertErrorBody(env.http('GET', '/v1/cases', token=token), 403)
        self.assertEqual(self.feed(token), [])
        self.assertErrorBody(env.http('GET', '/v1/feed?count=0', token=token), 400)
        self.assertErrorBody(env.http('GET', '/v1/feed?block_ms=30001', token=token), 400)
        self.assertErrorBody(env.http('POST', '/v1/feed/ack', {'ids': ['x']}, token=token), 400)
        self.assertErrorBody(env.http('POST', '/v1/feed/ack', {'ids': []}, token=token), 400)
        r = self.put_agency('dsdw', {'rotate_token': True}, 200)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=token), 401)
        token = r.body['token']
        self.assertEqual(self.feed(token), [])
        self.put_agency('dsdw', {'disabled': True}, 200)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=token), 401)

    def test_two_agencies_consent_redelivery_and_audit(self):
        env = self.env
        police = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                            'identifying': True}, 201).body['token']
        mental = self.put_agency('dmh', {'name': 'กรมสุขภาพจิต',
                                         'categories': ['mental_crisis'],
                                         'identifying': False}, 201).body['token']
        threat = env.post_incident(category='threat', description='ถูกขู่ทำร้ายที่ตลาด')
        crisis = env.post_incident(category='mental_crisis', description='เพื่อนบอกจะทำร้ายตัวเอง')
        pol = self.feed(police)
        self.assertTrue(pol, 'the threat case is in the police feed')
        self.assertEqual({e['case_id'] for e in pol}, {threat['case_id']})
        for e in pol:
            self.assertEqual(set(e) >= {'id', 'case_id', 'event', 'at', 'case'}, True, e)
            for t in (e['at'], e['case']['created_at'], e['case']['updated_at']):
                self.assertRegex(t, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$', e)
            self.assertIn(e['case']['distance_km'].__class__, (int, float, type(None)), e)
            self.assertNotIn('reporter', e, 'no consent yet: no identifying data')
            self.assertNotIn('description', e)
        men = self.feed(mental)
        self.assertEqual({e['case_id'] for e in men}, {crisis['case_id']})
        # not acknowledged: again after the visibility timeout, same ids, before new ones
        harness.wait_until(lambda: [e['id'] for e in self.feed(police)] ==
                           [e['id'] for e in pol], timeout=scaled(10),
                           message='redelivery after ESS_FEED_VISIBILITY_S')
        self.ack(police, [e['id'] for e in pol])
        self.ack(mental, [e['id'] for e in men])

        self.consent(threat['case_id'], True)
        self.consent(crisis['case_id'], True)
        pol = self.feed(police)
        self.assertTrue(pol)
        for e in pol:
            self.assertEqual(e['reporter']['name'], threat['_request']['reporter']['name'])
            self.assertIsInstance(e['description'], str)
        men = self.feed(mental)
        for e in men:
            self.assertNotIn('reporter', e, 'identifying false: never identifying data')
        self.ack(police, [e['id'] for e in pol])
        self.ack(mental, [e['id'] for e in men])
        self.consent(threat['case_id'], False)
        pol = self.feed(police)
        self.assertTrue(pol)
        for e in pol:
            self.assertNotIn('reporter', e, 'consent withdrawn: none')
        self.assertEqual(self.ack(police, [e['id'] for e in pol]), len(pol))
        self.assertEqual(self.feed(police), [])

        entries = []
        for _, f in env.redis.command('XRANGE', env.prefix + 'audit', '-', '+'):
            d = {f[i].decode(): f[i + 1].decode() for i in range(0, len(f), 2)}
            if d['actor_id'] == 'police':
                entries.append(d)
        self.assertTrue(all(d['actor_kind'] == 'agency' for d in entries), entries)
        self.assertIn('read', [d['action'] for d in entries])
        exports = [d['case_id'] for d in entries if d['action'] == 'export']
        self.assertEqual(set(exports), {threat['case_id']}, 'export only with consent')

    def test_a_full_batch_is_read_and_acknowledged(self):
        """count=1000 and an acknowledgment of 1000 ids (the most of each) in one request."""
        env = self.env
        token, fields = self.police_with_one_case()
        # The case log's own entry of the case, as the log would hold it 1000 times over.
        for _ in range(1000):
            self.log_add(fields)
        batch = self.feed(token, '?count=1000')
        self.assertEqual(len(batch), 1000)
        ids = [e['id'] for e in batch]
        r = env.http('POST', '/v1/feed/ack', {'ids': ids + ['1-1']}, token=token)
        self.assertErrorBody(r, 400, 'invalid_field')
        self.assertEqual(self.ack(token, ids), 1000)
        self.assertEqual(self.pending_ids('police'), [])
        self.assertEqual(self.feed(token), [])

    def test_entries_of_other_categories_past_one_scan_and_a_lost_group(self):
        """A read looks at 1000 log entries at most; entries not for the agency are
        acknowledged at once, and a waiting read looks further until it finds one that is. A
        consumer group that is gone (Redis restored from an older file) is made again."""
        env = self.env
        token, fields = self.police_with_one_case()
        for _ in range(1500):
            self.log_add(dict(fields, category='gathering'))
        mine = self.log_add(fields)
        self.assertEqual(self.feed(token), [], 'the first 1000 looked at hold nothing for it')
        batch = self.feed(token, '?block_ms=5000')
        self.assertEqual([e['id'] for e in batch], [mine])
        self.assertEqual(self.pending_ids('police'), [mine], 'the others acknowledged at once')
        self.ack(token, [mine])

        env.redis.command('XGROUP', 'DESTROY', env.prefix + 'log', 'feed:police')
        self.assertEqual(self.feed(token), [], 'made again, from the next entry')
        later = env.post_incident(category='threat', description='ถูกขู่อีกครั้ง')
        batch = self.feed(token)
        self.assertTrue(batch)
        self.assertEqual({e['case_id'] for e in batch}, {later['case_id']})

    def test_block_ms_wakes_and_times_out(self):
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        self.assertEqual(self.feed(token, '?block_ms=300'), [], 'times out empty')
        got = {}

        def reader():
            got['r'] = env.http('GET', '/v1/feed?block_ms=20000', token=token)

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(scaled(0.5))  # the read is parked by then (it passes either way)
        threat = env.post_incident(category='threat', description='ถูกขู่ทำร้าย')
        t.join(scaled(25))
        self.assertFalse(t.is_alive())
        self.assertStatus(got['r'], 200)
        self.assertEqual({e['case_id'] for e in got['r'].body['entries']}, {threat['case_id']})

    def test_departed_reads_give_their_places_back(self):
        """A waiting read whose client leaves is forgotten at once (ess_feed_reads_waiting drops
        long before block_ms), also when its client leaves while new entries wake it; the read
        still there gets the next entry, and the router goes on (a read freed twice, or used once
        freed, fails this under the sanitizer build)."""
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        socks = [self.park(token) for _ in range(12)]
        try:
            harness.wait_until(lambda: self.waiting() == 12, message='12 reads waiting')
            for s in socks[:4]:
                s.close()
            harness.wait_until(lambda: self.waiting() == 8, timeout=self.GONE_WITHIN,
                               message='the 4 departed reads forgotten before their block_ms')
            # Nothing for police in a gathering: the woken reads look, find nothing and wait on;
            # four clients leave meanwhile (before, during or after their reads).
            env.post_incident(category='gathering', description='มีคนรวมตัวหน้าอาคาร')
            for s in socks[4:8]:
                s.close()
            harness.wait_until(lambda: self.waiting() == 4, timeout=self.GONE_WITHIN,
                               message='the reads that left while woken forgotten')
            for s in socks[8:11]:
                s.close()
            harness.wait_until(lambda: self.waiting() == 1, timeout=self.GONE_WITHIN,
                               message='one read left')
            # The one left gets the next entry (the group hands an entry to one read only); a
            # request its client sent meanwhile on the same connection is answered after it, and
            # the connection serves on.
            again = ('GET /v1/feed?block_ms=50 HTTP/1.1\r\nHost: x\r\n'
                     'Authorization: Bearer %s\r\n\r\n' % token).encode()
            socks[11].sendall(again)
            threat = env.post_incident(category='threat', description='ถูกขู่ทำร้าย')
            (status, body), (status2, body2) = self.answers_of(socks[11], 2)
            self.assertEqual(status, 200)
            self.assertEqual({e['case_id'] for e in body['entries']}, {threat['case_id']})
            self.assertEqual((status2, body2), (200, {'entries': []}))
            socks[11].sendall(again)
            self.assertEqual(self.answers_of(socks[11]), [(200, {'entries': []})])
            self.assertEqual(self.waiting(), 0)
            self.assertEqual(self.feed(token, '?block_ms=50'), [], 'the router reads on')
        finally:
            for s in socks:
                s.close()

    def feed_gauges(self):
        """{agency: (lag, pending)} from /metrics."""
        r = self.env.http('GET', '/metrics')
        self.assertStatus(r, 200)
        out = {}
        for line in r.raw.decode('utf-8').splitlines():
            m = re.match(r'ess_feed_(lag|pending)\{agency="([^"]+)"\} (-?\d+)$', line)
            if m:
                lag, pending = out.get(m.group(2), (None, None))
                if m.group(1) == 'lag':
                    lag = int(m.group(3))
                else:
                    pending = int(m.group(3))
                out[m.group(2)] = (lag, pending)
        return out

    def test_metrics_gauges(self):
        """ess_feed_lag and ess_feed_pending per agency, read by the sweep every 15 s."""
        r = self.env.http('GET', '/metrics')
        self.assertIn('# TYPE ess_feed_lag gauge', r.raw.decode('utf-8'))
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        self.env.post_incident(category='threat', description='ถูกขู่ทำร้ายที่ท่าเรือ')
        self.env.post_incident(category='gathering', description='มีคนรวมตัวหน้าอาคาร')
        harness.wait_until(lambda: self.feed_gauges().get('police', (0, 0))[0] > 0,
                           timeout=scaled(40), message='lag of the unread entries in /metrics')
        self.assertEqual(self.feed_gauges()['police'][1], 0, 'nothing read: nothing pending')
        entries = self.feed(token, '?count=1000')
        self.assertTrue(entries)
        harness.wait_until(lambda: self.feed_gauges().get('police') == (0, len(entries)),
                           timeout=scaled(40), message='lag 0, the entries read pending')
        self.ack(token, [e['id'] for e in entries])
        harness.wait_until(lambda: self.feed_gauges().get('police') == (0, 0),
                           timeout=scaled(40), message='acknowledged: nothing pending')

    def test_erased_case_carries_no_personal_data(self):
        """An identifying agency with consent sees the reporter; once the case is erased, no
        entry (its past ones redelivered, or new ones) carries any personal value."""
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': True}, 201).body['token']
        desc = 'ชายถือมีดขู่ที่ซอย %s' % secrets.token_hex(4)
        threat = env.post_incident(category='threat', description=desc)
        self.consent(threat['case_id'], True)
        entries = self.feed(token)
        self.assertTrue(entries and all(e.get('description') == desc for e in entries), entries)
        cid = threat['case_id']
        r = env.http('POST', '/v1/cases/%s/status' % cid, {'status': 'closed'},
                     token=env.operator_token)
        self.assertStatus(r, 200, 'close')
        sup = self.supervisor_token()
        reason = 'ผู้แจ้งขอลบข้อมูล %s' % secrets.token_hex(3)
        env.note_pii(reason)
        r = env.http('DELETE', '/v1/cases/%s/personal-data' % cid, {'reason': reason},
                     token=sup)
        self.assertStatus(r, 200, 'erase')
        # the entries read before come again (not acknowledged), and the new ones with them
        got = {}
        harness.wait_until(lambda: got.update(e=self.feed(token, '?count=1000')) or
                           {e['id'] for e in entries} <= {e['id'] for e in got['e']},
                           timeout=scaled(10), message='redelivery after the erasure')
        req = threat['_request']
        personal = [desc, req['reporter']['name'], req['reporter']['phone'],
                    req['location']['address'], repr(req['location']['lat'])[:9],
                    repr(req['location']['lon'])[:9]]
        raw = env.http('GET', '/v1/feed?count=1000', token=token).raw.decode('utf-8')
        for e in got['e']:
            for field in ('reporter', 'description', 'address'):
                self.assertNotIn(field, e, 'erased: no %s' % field)
        text = json.dumps(got['e'], ensure_ascii=False) + raw
        for v in personal:
            self.assertNotIn(v, text, 'an erased case\'s personal value in the feed')

    def test_restart_and_two_routers(self):
        """Entries read and not acknowledged before a restart come again after it; with two
        routers reading one agency's feed, every entry for it is delivered at least once and
        none is lost."""
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        for _ in range(3):
            env.post_incident(category='threat', description='ถูกขู่ %s' % secrets.token_hex(3))
        before = [e['id'] for e in self.feed(token)]
        self.assertTrue(before)
        env.router.restart()
        second = env.add_router()
        routers = [env.router, second]
        for i in range(6):
            body = env.incident_body(category='threat' if i % 2 else 'gathering',
                                     description='เหตุที่ %d %s' % (i, secrets.token_hex(3)))
            r = env.post_incident_raw(body, router=routers[i % 2])
            self.assertStatus(r, 201, 'incident through router %d' % (i % 2 + 1))
        wanted = {eid for eid, d in self.log_entries()
                  if d.get('category') == 'threat' and d.get('event') != 'chat_message'}
        self.assertTrue(set(before) < wanted)
        delivered, again = set(), set()
        turn = [0]

        def read_both():
            r = env.http('GET', '/v1/feed?count=2', token=token, router=routers[turn[0] % 2])
            turn[0] += 1
            self.assertStatus(r, 200, 'feed')
            ids = [e['id'] for e in r.body['entries']]
            again.update(set(ids) & set(before))
            delivered.update(ids)
            if ids:
                self.ack(token, ids)
            return delivered >= wanted and not self.pending_ids('police')
        harness.wait_until(read_both, timeout=scaled(20),
                           message='every entry delivered through the two routers')
        self.assertEqual(again, set(before), 'the entries read before the restart came again')
        self.assertEqual(delivered, wanted, 'only the agency\'s entries')
        self.assertTrue(turn[0] >= 2)


class FeedReleaseTest(FeedHelpers, RouterTest):
    """A read that fails after it took entries gives them back at once (the visibility timeout
    here is long: without that, they would come again only after it)."""
    env_options = {'extra_env': {'ESS_FEED_VISIBILITY_S': '600'}}

    def test_failed_read_gives_its_entries_back(self):
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': True}, 201).body['token']
        case = env.post_incident(category='threat', description='ถูกขู่ทำร้ายที่ตลาด')
        env.note_pii(case['_request']['reporter']['name'])
        self.consent(case['case_id'], True)
        ids = [eid for eid, f in self.log_entries() if f.get('case_id') == case['case_id']]
        # the export's audit entry cannot be written (its case index is not a sorted set)
        index = env.prefix + 'audit:case:' + case['case_id']
        env.redis.command('DEL', index)
        env.redis.command('SET', index, 'x')
        r = env.http('GET', '/v1/feed', token=token)
        self.assertErrorBody(r, 503, 'audit_unavailable')
        env.redis.command('DEL', index)
        batch = self.feed(token)
        self.assertEqual([e['id'] for e in batch], ids, 'the same entries, at once')
        self.assertEqual(batch[0]['reporter']['name'], case['_request']['reporter']['name'])


class FeedClaimTest(FeedHelpers, RouterTest):
    """An idle entry behind more than ten times a read's count of entries re-read lately is
    still delivered again before any new one (XAUTOCLAIM's cursor is followed: Redis looks at
    no more than 10 x COUNT pending entries a call)."""
    VISIBILITY_S = 2
    env_options = {'extra_env': {'ESS_FEED_VISIBILITY_S': str(VISIBILITY_S)}}

    def test_idle_entry_behind_fresh_ones_comes_before_new_ones(self):
        token, fields = self.police_with_one_case()
        ids = [self.log_add(fields) for _ in range(12)]
        first = self.feed(token, '?count=11')
        self.assertEqual([e['id'] for e in first], ids[:11])
        time.sleep(self.VISIBILITY_S + 0.5)  # all eleven idle now
        again = self.feed(token, '?count=10')  # the first ten come again: fresh once more
        self.assertEqual([e['id'] for e in again], ids[:10])
        # a read of one looks at ten pending entries a call: the ten fresh ones, then on
        next_one = self.feed(token, '?count=1')
        self.assertEqual([e['id'] for e in next_one], [ids[10]],
                         'the idle entry, not the new one after it')
        self.assertEqual(self.ack(token, ids[:11]), 11)
        self.assertEqual([e['id'] for e in self.feed(token, '?count=10')], [ids[11]])


class FeedClaimScanTest(FeedHelpers, RouterTest):
    """More entries read and not acknowledged than one read looks through (160 x count) and
    none of them due again: a read that may wait (block_ms) looks through them all, then
    delivers the new entry; one that may not answers at once with none."""
    env_options = {'extra_env': {'ESS_FEED_VISIBILITY_S': '600'}}

    def test_long_pending_list_then_new_entry(self):
        token, fields = self.police_with_one_case()
        for _ in range(200):
            self.log_add(fields)
        self.assertEqual(len(self.feed(token, '?count=200')), 200)  # read, not acknowledged
        new = self.log_add(fields)
        self.assertEqual(self.feed(token, '?count=1'), [], 'no wait: cut short, none')
        got = self.feed(token, '?count=1&block_ms=5000')
        self.assertEqual([e['id'] for e in got], [new])


class FeedWaitCapTest(FeedHelpers, RouterTest):
    """The real cap of parked reads (FEED_MAX_WAITS, 1024 in one process): one more is answered
    503 too_many_waits; once their clients leave, their places come back. The connection caps are
    raised for it (they are settings of their own)."""
    CAP = 1024
    env_options = {'extra_env': {'ESS_MAX_CONNECTIONS': '3000',
                                 'ESS_MAX_CONNECTIONS_PER_CLIENT': '0'}}

    def test_too_many_waits(self):
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        socks = []
        try:
            socks = [self.park(token) for _ in range(self.CAP)]

            def refused():
                r = env.http('GET', '/v1/feed?block_ms=50', token=token)
                if r.status == 503:
                    self.assertErrorBody(r, 503, 'too_many_waits')
                    return True
                self.assertStatus(r, 200, 'a read before the cap is reached')
                return False
            harness.wait_until(refused, timeout=scaled(25),
                               message='the %d+1st parked read is refused' % self.CAP)
            self.assertEqual(self.waiting(), self.CAP)
            # Their clients leave: every place comes back before block_ms, and as many reads
            # again wait rather than being refused.
            for s in socks:
                s.close()
            harness.wait_until(lambda: self.waiting() == 0, timeout=self.GONE_WITHIN,
                               message='the departed reads\' places given back')
            socks = [self.park(token) for _ in range(self.CAP)]
            harness.wait_until(lambda: self.waiting() == self.CAP,
                               message='%d reads wait again' % self.CAP)
            harness.wait_until(refused, timeout=scaled(25),
                               message='the cap holds again')
        finally:
            for s in socks:
                s.close()


class FeedChatTest(FeedHelpers, ChatHelpers):
    """chat_message entries of the case log are never in a feed: acknowledged at once."""

    def test_chat_messages_skipped(self):
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['detention'],
                                           'identifying': True}, 201).body['token']
        user = self.new_user()
        case = self.ask_after_report(user)
        self.consent(case['case_id'], True)
        texts = ['ตอนนี้ยังถูกขังอยู่ %s' % secrets.token_hex(4) for _ in range(2)]
        for t in texts:
            self.deliver(self.said(user, t))
        self.settle()
        harness.wait_until(lambda: len(self.log_entries('chat_message')) >= 2,
                           message='the chat messages in the case log (%r)'
                           % [d.get('event') for _, d in self.log_entries()])
        chat_ids = {eid for eid, _ in self.log_entries('chat_message')}
        r = self.env.http('GET', '/v1/feed?count=1000', token=token)
        self.assertStatus(r, 200)
        entries = r.body['entries']
        self.assertTrue(entries, 'the case\'s other entries are there')
        self.assertEqual({e['case_id'] for e in entries}, {case['case_id']})
        self.assertFalse(chat_ids & {e['id'] for e in entries}, 'no chat_message entry')
        self.assertNotIn('chat_message', [e['event'] for e in entries])
        self.assertFalse(chat_ids & set(self.pending_ids('police')), 'acknowledged at once')
        raw = r.raw.decode('utf-8')
        for t in texts:
            self.assertNotIn(t, raw)


if __name__ == '__main__':
    harness.main()
