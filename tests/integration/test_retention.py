"""Retention and erasure (DESIGN.md "Safeguarding", PLAN12 part C). A LINE case (the reporter's
first words, a location, a note, a chat with an operator both ways, an operator's note, pushes
still waiting in the outbox, the conversation state) and a hotline case (name, phone, address,
description, a dispatch to its team still being retried, the phone index) are closed; with
ESS_RETENTION_DAYS of seconds, a scan of the whole Redis keyspace (SCAN, then every value of
every type) then finds none of their personal data: names, phone and its digits, the LINE user
id and its hash, descriptions, addresses, note and chat texts, exact coordinates, the keyed hash
of the phone; the place stays rounded to 0.01 degree, the statuses, times and statistics stay
whole; the public view answers 404 after ESS_TRACK_RETENTION_DAYS; an AOF rewrite leaves none of
it on disk. DELETE /v1/cases/{id}/personal-data does the same at once (a supervisor, with a
reason, audited, idempotent; 401/403 for anyone else, 400 without a reason, 409 for a case not
closed). ess_upgrade lists the cases closed under an older version. A reporter's new report in
progress goes on after the erasure of their last case. In a browser, a supervisor erases a case
from its page after a dialog asking the reason; an operator has no such button."""

import glob
import hashlib
import json
import os
import re
import secrets
import urllib.parse

import harness
from fake_line import Answer, tracking_codes
from harness import BKK, wait_until
from test_console import BrowserHelpers, new_password
from test_dispatch_deadlines import Gateway
from test_line_chat import TEAMS
from test_line_handoff import HandoffHelpers

HOTLINE_TEAM = ('hl-1', 0.4, 120, ['mental_health', 'police'], 'ทีมสุขภาพจิต บางรัก')
POLICE_SW = ['police', 'social_worker']
SHORT = {'ESS_RETENTION_DAYS': '0.00005',        # 4.32 s
         'ESS_TRACK_RETENTION_DAYS': '0.0001',   # 8.64 s
         # the tests poll a public view until it goes (five lookups a second): the default 30 a
         # minute would answer them 429 after six seconds, before a slow sweep removed the view
         'ESS_TRACK_RATE_PER_MIN': '100000'}


def q(case_id):
    return urllib.parse.quote(case_id, safe='')


def erase_path(case_id):
    return '/v1/cases/%s/personal-data' % q(case_id)


def coordinate_canaries(value):
    """How an exact coordinate is written (7 decimals, as the router stores it), and its first 5
    decimals (about a metre: a prefix of the longer forms); the place rounded to 0.01 degree
    holds neither."""
    s = '%.7f' % value
    return {s, s[:s.index('.') + 6]}


def forms(text):
    """text as it may be stored: as is, JSON-escaped (\\uXXXX), with Lua's escaped slashes."""
    return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1],
            text.replace('/', '\\/'), json.dumps(text, ensure_ascii=False)[1:-1].replace('/', '\\/')}


class RetentionHelpers(HandoffHelpers):
    """Cases full of personal data, the keyspace scan, the statistics (no tests of their own)."""

    def setUp(self):
        super().setUp()
        self.gateway = Gateway()
        self.addCleanup(self.gateway.close)

    # --- the cases

    def line_case(self):
        """A LINE case, not closed: the reporter's first words and location, a note, a chat both
        ways, a note after it, an operator's note, resolved by its team while LINE refuses pushes
        (so that they wait in the outbox). {case_id, code, user, canaries}."""
        env = self.env
        tokens = self.put_teams(TEAMS)
        user = self.new_user()
        place = self.new_place()
        first = 'ฉันถูกแฟนขังไว้ในห้อง ช่วยด้วยค่ะ %s' % secrets.token_hex(4)
        details = 'คนที่ขังฉันชื่อเล่นว่าต้น อยู่ชั้นสอง %s' % secrets.token_hex(4)
        env.note_pii(first, details)
        self.say(user.text(first))  # names the emergency: kept as the description
        self.assertAsksLocation(self.say(user.text('ใช่ค่ะ')), 'th')
        code = self.assertCreatedAsksMore(self.say(user.location(*place)), 'th', TEAMS[0][4])
        self.assertEqual(tracking_codes(self.say(user.text(details))), [code])
        cid = self.case_by_code(code)['case_id']
        # a chat with a person, both ways
        self.say(user.postback('talk'))
        self.assertStatus(self.take(cid), 200, 'take the chat')
        said = 'ฉันอยู่ในห้องน้ำ เขาไม่รู้ว่าฉันแชตอยู่ %s' % secrets.token_hex(4)
        self.deliver(self.said(user, said))
        wait_until(lambda: len(self.conversation(cid)) == 1, message='the reporter\'s chat text')
        self.fake.set_default('push', Answer(500))  # from now on pushes wait in the outbox
        answer = 'เจ้าหน้าที่กำลังไปค่ะ อย่าเปิดประตูนะคะ %s' % secrets.token_hex(4)
        self.assertStatus(self.write(cid, answer), 201, 'the operator writes')
        self.assertStatus(self.close(cid), 200, 'close the chat')
        later = 'ประตูหลังบ้านเปิดได้ รหัสประตู %s' % secrets.token_hex(4)
        env.note_pii(later)
        self.say(user.text(later))
        op_note = self.note(cid, 'ผู้แจ้งมีลูกเล็ก %s' % secrets.token_hex(4))
        consent_note = 'ผู้แจ้งยินยอมทางโทรศัพท์ ให้ส่งต่อมูลนิธิ %s' % secrets.token_hex(4)
        env.note_pii(consent_note)
        r = env.http('POST', '/v1/cases/%s/consent' % q(cid),
                     {'share_with_agencies': True, 'basis': 'consent', 'note': consent_note},
                     token=env.operator_token)
        self.assertStatus(r, 200, 'consent with a note')
        self.assertEqual(r.body['consent']['note'], consent_note)
        env.resolve(cid, tokens[TEAMS[0][0]])
        view = env.case(cid)
        notes = [e.get('note') for e in view['timeline']]
        for n in (details, later, op_note):
            self.assertIn(n, notes, 'the notes are on the timeline before')
        self.assertEqual(view['description'], first, 'the first words are the description')
        self.assertEqual(view['reporter']['line_user_id'], user.user_id)
        canaries = {user.user_id, self.user_key(user), first, details, place[2], said, answer,
                    later, op_note, consent_note}
        canaries |= coordinate_canaries(place[0]) | coordinate_canaries(place[1])
        return {'case_id': cid, 'code': code, 'user': user, 'place': place,
                'canaries': canaries}

    def hotline_case(self):
        """A hotline call, not closed: name, phone (written with dashes), address, description,
        assigned to a team whose webhook refuses (the dispatch waits in the outbox), a note.
        {case_id, code, canaries}."""
        env = self.env
        tid, km, bearing, skills, name = HOTLINE_TEAM
        env.put_team_at(tid, km, bearing, skills, name=name,
                        notify={'webhook': self.gateway.url('/hl')})
        self.gateway.script('/hl', *([500] * 20))
        digits = harness.unique_phone()
        phone = '%s-%s-%s' % (digits[:3], digits[3:6], digits[6:])
        description = 'น้องชายคลุ้มคลั่ง ถือมีดอยู่ในบ้าน %s' % secrets.token_hex(4)
        reporter = {'name': harness.unique_name(), 'phone': phone}
        a = env.post_incident('mental_crisis', description, reporter=reporter)
        self.assertAssignedTo(a, tid)
        cid = a['case_id']
        self.gateway.wait_dispatch('/hl', cid)
        env.note_pii(digits)
        op_note = self.note(cid, 'ผู้แจ้งขอให้โทรกลับหลังสองทุ่ม %s' % secrets.token_hex(4))
        loc = a['_request']['location']
        phone_keys = [k for k in env.redis.keys(env.prefix + 'phone:*')
                      if env.redis.command('ZSCORE', k, cid) is not None]
        self.assertEqual(len(phone_keys), 1, 'the phone index holds the case')
        canaries = {reporter['name'], phone, description, loc['address'], op_note,
                    phone_keys[0].split(':')[-1]}
        canaries |= coordinate_canaries(loc['lat']) | coordinate_canaries(loc['lon'])
        return {'case_id': cid, 'code': a['tracking_code'], 'canaries': canaries,
                'lat': loc['lat'], 'lon': loc['lon'], 'phone': phone, 'digits': digits}

    def two_cases(self):
        """line_case() and hotline_case(), and every canary of both: each found by the scan now,
        before any erasure (so that the scan would find one left); then the phone's digits too,
        which are never stored as such."""
        line, hot = self.line_case(), self.hotline_case()
        every = line['canaries'] | hot['canaries']
        self.assertEverywhere(every, 'before')
        every.add(hot['digits'])
        return line, hot, every

    def note(self, case_id, text):
        self.env.note_pii(text)
        r = self.env.http('POST', '/v1/cases/%s/notes' % q(case_id), {'text': text},
                          token=self.env.operator_token)
        self.assertStatus(r, 201, 'a note')
        return text

    def close_case(self, case_id):
        """Closes the case with a status note (a person's words, erased too); returns the note."""
        note = 'ปิดเคส ผู้แจ้งย้ายไปอยู่บ้านญาติ %s' % secrets.token_hex(4)
        self.env.note_pii(note)
        status = self.env.case(case_id)['status']
        if status != 'resolved':
            self.assertStatus(self.env.set_status(case_id, 'resolved'), 200, 'resolve')
        self.assertStatus(self.env.set_status(case_id, 'closed', note=note), 200, 'close')
        return note

    @staticmethod
    def user_key(user):
        return hashlib.sha256(user.user_id.encode()).hexdigest()

    # --- the whole keyspace

    def keyspace(self):
        """Every key of the Redis server and every value it holds, of every type, as text."""
        r = self.env.redis
        parts = []
        cursor = b'0'
        while True:
            cursor, keys = r.command('SCAN', cursor, 'COUNT', 1000)
            for k in keys:
                kind = r.command('TYPE', k)
                if kind == 'string':
                    values = [r.command('GET', k)]
                elif kind == 'hash':
                    values = r.command('HGETALL', k)
                elif kind == 'list':
                    values = r.command('LRANGE', k, 0, -1)
                elif kind == 'set':
                    values = r.command('SMEMBERS', k)
                elif kind == 'zset':
                    values = r.command('ZRANGE', k, 0, -1, 'WITHSCORES')
                elif kind == 'stream':
                    values = []
                    for eid, flat in r.command('XRANGE', k, '-', '+'):
                        values.append(eid)
                        values.extend(flat)
                elif kind == 'none':  # expired since the SCAN
                    continue
                else:
                    self.fail('a key of a type the scan does not read: %r %s' % (k, kind))
                parts.append(k)
                parts.extend(v for v in values if v is not None)
            if cursor in (b'0', '0'):
                break
        return '\n'.join(p.decode('utf-8', 'replace') if isinstance(p, bytes) else str(p)
                         for p in parts)

    def found(self, canaries, text=None):
        """The canaries (in any stored form) that text (default: the keyspace) holds."""
        text = self.keyspace() if text is None else text
        return sorted(c for c in canaries if any(f in text for f in forms(c)))

    def assertEverywhere(self, canaries, what):
        self.assertEqual(self.found(canaries), sorted(canaries),
                         '%s: the scan must find every canary before the erasure' % what)

    def assertNowhereInRedis(self, canaries, what):
        text = self.keyspace()
        left = self.found(canaries, text)
        where = []
        for c in left:
            f = next(f for f in forms(c) if f in text)
            i = text.index(f)
            where.append('%r in …%s…' % (c, text[max(0, i - 200):i + 80].replace('\n', ' | ')))
        self.assertEqual(left, [], '%s: personal data left in Redis:\n%s' % (what, '\n'.join(where)))

    # --- what must not change

    def statistics(self):
        env = self.env
        stats = env.redis.command('HGETALL', env.prefix + 'stats')
        r = env.http('GET', '/metrics')
        self.assertStatus(r, 200, '/metrics')
        gauge = sorted(l for l in r.raw.decode().splitlines() if l.startswith('ess_cases{'))
        self.assertTrue(gauge, 'the cases gauge')
        closed = env.http('GET', '/v1/cases?status=closed', token=env.operator_token)
        self.assertStatus(closed, 200)
        summaries = sorted((c['case_id'], c['category'], c['priority'], c['status'], c['channel'],
                            (c['team'] or {}).get('id')) for c in closed.body['cases'])
        return {'stats': sorted(stats), 'metrics': gauge, 'closed': summaries}

    def assertErased(self, view, by, reason=None):
        """The view of an erased case: personal fields null, erased_at and erased_by set, no
        note of a person's on the timeline, the statuses still there."""
        self.assertIsNone(view['description'], view)
        self.assertIsNone(view['location']['address'], view)
        self.assertEqual(view['reporter'], {'name': None, 'phone': None}, view)
        self.assertTime(view['erased_at'])
        self.assertEqual(view['erased_by'], by)
        if reason is not None:
            self.assertEqual(view['erase_reason'], reason)
        for e in view['timeline']:
            if e.get('note') is not None:
                self.assertTrue(e.get('by') == 'router' or e.get('event') in
                                ('dispatch', 'chat', 'triage', 'consent'),
                                'a person\'s note left on the timeline: %r' % e)
        self.assertEqual([e['event'] for e in view['timeline'] if e.get('event') == 'erased'],
                         ['erased'], 'one erased entry')
        self.assertEqual(view['timeline'][-1]['event'], 'erased')
        self.assertEqual(view['status'], 'closed')

    @staticmethod
    def entries_of(view):
        """The timeline without notes and the erasure's own entry: what the erasure keeps."""
        return [(e['status'], e['at'], e['by'], e.get('event'), e.get('team'))
                for e in view['timeline'] if e.get('event') != 'erased']

    def rounded(self, value):
        return round(round(value * 100)) / 100

    def supervisor(self):
        if not hasattr(self, '_sup'):
            self._sup = self.supervisor_token('sup-1')
        return self._sup

    def aof_text(self):
        d = self.env.redis.dir
        out = []
        for p in glob.glob(os.path.join(d, '**', '*.aof*'), recursive=True):
            with open(p, 'rb') as f:
                out.append(f.read().decode('utf-8', 'replace'))
        return '\n'.join(out)


class RetentionTest(RetentionHelpers):
    env_options = {'extra_env': SHORT}

    def test_personal_data_is_gone_after_the_retention(self):
        env = self.env
        line, hot, every = self.two_cases()
        keys = env.redis.keys(env.prefix + '*')
        ukey = self.user_key(line['user'])
        self.assertIn(env.prefix + 'line:state:' + ukey, keys, 'the conversation state')
        self.assertIn(env.prefix + 'case:%s:chat' % line['case_id'], keys)
        outbox = env.redis.keys(env.prefix + 'outbox:item:*')
        self.assertIn(env.prefix + 'outbox:item:d:%s:1' % hot['case_id'], outbox,
                      'the dispatch waits for a retry')
        waiting = [k for k in outbox if line['user'].user_id.encode() in
                   b''.join(env.redis.command('HGETALL', k))]
        self.assertGreaterEqual(len(waiting), 3, 'pushes to the reporter wait in the outbox')

        notes = [self.close_case(line['case_id']), self.close_case(hot['case_id'])]
        every |= set(notes)
        before = self.statistics()
        entries = {c['case_id']: self.entries_of(env.case(c['case_id'])) for c in (line, hot)}
        views = {}
        for c in (line, hot):
            views[c['case_id']] = wait_until(
                lambda: (lambda v: v if v.get('erased_at') else None)(
                    env.case(c['case_id'])), 30, 0.2, 'case %s erased' % c['case_id'])
        self.assertNowhereInRedis(every, 'after the retention')

        # what stays: the statuses, times, team, the place rounded; the statistics
        for c in (line, hot):
            v = env.http('GET', '/v1/cases/' + q(c['case_id']), token=self.supervisor()).body
            self.assertErased(v, 'router', 'retention')
            self.assertEqual(self.entries_of(v), entries[c['case_id']],
                             'every entry stays, with its status, time and author')
            self.assertEqual(v, views[c['case_id']] | {'erase_reason': 'retention'})
            self.assertIsNotNone(v['team'])
            self.assertIn('erase_reason', v, 'a supervisor reads the reason')
            self.assertNotIn('erase_reason', env.case(c['case_id']), 'an operator does not')
        lv = env.case(line['case_id'])
        self.assertNotIn('line_user_id', lv['reporter'])
        self.assertEqual((lv['consent']['share_with_agencies'], lv['consent']['note']),
                         (True, None), 'the consent stays, its note goes')
        self.assertEqual((lv['location']['lat'], lv['location']['lon']),
                         (self.rounded(line['place'][0]), self.rounded(line['place'][1])))
        hv = env.case(hot['case_id'])
        self.assertEqual((hv['location']['lat'], hv['location']['lon']),
                         (self.rounded(hot['lat']), self.rounded(hot['lon'])))
        self.assertEqual(self.messages(line['case_id']).body['messages'], [], 'no chat left')
        self.assertEqual(self.statistics(), before, 'the statistics are unchanged')
        for c in (line, hot):
            self.assertStatus(env.track(c['code']), 200, 'the public view stays a while')
        # the phone no longer finds the case; the LINE conversation starts afresh
        r = env.http('GET', '/v1/cases?q=' + urllib.parse.quote(hot['phone']),
                     token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual(r.body['cases'], [], 'the phone index no longer names the case')
        for key in ('line:state:', 'line:version:', 'line:who:', 'line:talk:'):
            self.assertEqual(env.redis.keys(env.prefix + key + ukey), [], key)

        # the public view goes after ESS_TRACK_RETENTION_DAYS
        for c in (line, hot):
            wait_until(lambda: env.track(c['code']).status == 404, 30, 0.2,
                       'the public view of %s gone' % c['code'])
            self.assertErrorBody(env.track(c['code']), 404, 'not_found')
            self.assertEqual(env.http('GET', '/track/' + c['code']).status, 404, 'the page too')
            self.assertEqual(env.redis.keys(env.prefix + 'track:' + c['code']), [])
        self.assertEqual(env.redis.command('ZCARD', env.prefix + 'erase:due'), 0)
        self.assertEqual(env.redis.command('ZCARD', env.prefix + 'track:due'), 0)
        self.assertEqual(self.statistics(), before, 'the statistics are still unchanged')
        self.assertNowhereInRedis(every, 'at the end')

        # the append-only file keeps the erased values until it is rewritten (its new base
        # uncompressed here, so that a value left would be read as it is)
        wait_until(lambda: self.found(every, self.aof_text()), 10, 0.2, 'the AOF holds them')
        env.redis.command('CONFIG', 'SET', 'rdbcompression', 'no')
        env.redis.command('BGREWRITEAOF')

        def rewritten():
            info = env.redis.command('INFO', 'persistence').decode()
            return ('aof_rewrite_in_progress:0' in info and 'aof_rewrite_scheduled:0' in info
                    and not self.found(every, self.aof_text()))
        wait_until(rewritten, 30, 0.2, 'no personal data in the AOF after BGREWRITEAOF')
        self.assertIn(TEAMS[0][4], self.aof_text(), 'what stays is in the rewritten AOF')

    def test_upgrade_lists_cases_closed_before(self):
        """Cases closed under a version without the retention lists (schema 2) are listed by
        ess_upgrade from their updated_at, and erased; an erased one is not listed again."""
        env = self.env
        env.router.stop()
        old = env.add_router(extra_env={'ESS_RETENTION_DAYS': '90',
                                        'ESS_TRACK_RETENTION_DAYS': '90'})
        env.router = old
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a = env.post_incident('detention', 'ถูกกักตัวไว้ในโกดัง %s' % secrets.token_hex(4))
        cid = a['case_id']
        self.close_case(cid)
        self.assertEqual(env.redis.command('ZSCORE', env.prefix + 'erase:due', cid) is not None,
                         True, 'listed when closed')
        old.stop()
        # as an older version left it
        env.redis.command('ZREM', env.prefix + 'erase:due', cid)
        env.redis.command('ZREM', env.prefix + 'track:due', cid)
        env.redis.command('HDEL', env.prefix + 'case:' + cid, 'closed_at')
        env.redis.command('SET', env.prefix + 'schema', '2')
        updated = int(env.redis.command('HGET', env.prefix + 'case:' + cid, 'updated_at'))
        reply = json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, env.prefix))
        self.assertEqual((reply['upgraded'], reply['closed']), (True, 1), reply)
        for z in ('erase:due', 'track:due'):
            self.assertEqual(int(env.redis.command('ZSCORE', env.prefix + z, cid)), updated, z)
        reply = json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, env.prefix))
        self.assertFalse(reply['upgraded'], 'once')
        # again as the older version left it, for a router to find at its start
        env.redis.command('ZREM', env.prefix + 'erase:due', cid)
        env.redis.command('ZREM', env.prefix + 'track:due', cid)
        env.redis.command('SET', env.prefix + 'schema', '2')
        new = env.add_router()  # SHORT retention
        env.router = new
        self.assertGreaterEqual(int(env.redis.command('GET', env.prefix + 'schema')), 3)
        v = wait_until(lambda: (lambda v: v if v.get('erased_at') else None)(env.case(cid)), 30,
                       0.2, 'the old case erased')
        self.assertErased(v, 'router')
        self.assertNowhereInRedis({a['_request']['description'], a['_request']['reporter']['name'],
                                   a['_request']['location']['address']}, 'the old case')
        wait_until(lambda: env.track(a['tracking_code']).status == 404, 30, 0.2, 'its view gone')
        # an erased case is not listed again by an upgrade
        env.redis.command('SET', env.prefix + 'schema', '2')
        json.loads(env.redis.command('FCALL', 'ess_upgrade', 0, env.prefix))
        self.assertIsNone(env.redis.command('ZSCORE', env.prefix + 'erase:due', cid))


class EraseOnRequestTest(RetentionHelpers):
    """DELETE /v1/cases/{id}/personal-data, with the default retention (90 days)."""

    def erase(self, case_id, body, token=None):
        return self.env.http('DELETE', erase_path(case_id), body,
                             token=self.supervisor() if token is None else token)

    def audit_entries(self, case_id):
        return self.env.audit_entries(case_id=case_id)

    def test_a_supervisor_erases_at_once(self):
        env = self.env
        line, hot, every = self.two_cases()
        every |= {self.close_case(line['case_id']), self.close_case(hot['case_id'])}
        cid = line['case_id']
        reason = 'ผู้แจ้งขอให้ลบข้อมูลตาม พ.ร.บ. คุ้มครองข้อมูลส่วนบุคคล คำร้องที่ 12/2569'

        # who may not
        t1 = env.team_tokens[TEAMS[0][0]]
        for token, status in ((env.operator_token, 403), (env.admin_token, 403), (t1, 403),
                              ('', 401)):
            r = env.http('DELETE', erase_path(cid), {'reason': reason}, token=token or None)
            self.assertErrorBody(r, status, 'forbidden' if status == 403 else 'unauthorized')
        # what is not a reason
        long_reason = 'ก' * 501
        for body, code in ((b'', 'invalid_json'), ({}, 'missing_field'),
                           ({'reason': ''}, 'invalid_field'), ({'reason': '   '}, 'invalid_field'),
                           ({'reason': 42}, 'invalid_field'), ({'reason': None}, 'invalid_field'),
                           ({'reason': long_reason}, 'invalid_field'),
                           ({'reason': 'a\x00b'}, ('invalid_field', 'invalid_json')),
                           ({'reason': 'line\x07bell'}, 'invalid_field')):
            r = self.erase(cid, body)
            self.assertErrorBody(r, 400, code, repr(body)[:60])
        r = env.http('DELETE', erase_path(cid), {'reason': reason}, token=self.supervisor(),
                     content_type='text/plain')
        self.assertErrorBody(r, 415)
        for bad in ('01JD0000000000000000000000', 'nope'):
            self.assertErrorBody(self.erase(bad, {'reason': reason}), 404, 'not_found')
        self.assertEqual(self.found(every), sorted(every - {hot['digits']}),
                         'nothing erased by a refusal')
        # a case not closed is not erased
        other = env.post_incident('threat', 'มีคนขู่ทำร้ายที่หน้าร้าน %s' % secrets.token_hex(3),
                                  origin=(18.7883, 98.9853))  # far from the canaries' places
        r = self.erase(other['case_id'], {'reason': reason})
        self.assertErrorBody(r, 409, 'case_open')
        self.assertIsNotNone(env.case(other['case_id'])['description'])

        # the erasure: one audit entry, erase by the supervisor
        before = self.statistics()
        n = len(self.audit_entries(cid))
        r = self.erase(cid, {'reason': reason})
        self.assertStatus(r, 200, 'erase')
        self.assertErased(r.body, 'sup-1', reason)
        entries = self.audit_entries(cid)
        self.assertEqual(len(entries), n + 1)
        self.assertEqual((entries[-1]['action'], entries[-1]['actor_kind'],
                          entries[-1]['actor_id'], entries[-1]['outcome']),
                         ('erase', 'supervisor', 'sup-1', 'ok'))
        self.assertNotIn(reason, json.dumps(entries, ensure_ascii=False), 'no reason there')
        # again: the same answer, nothing more done, audited again
        again = self.erase(cid, {'reason': 'อีกครั้ง'})
        self.assertStatus(again, 200, 'erase again')
        self.assertEqual(again.body['erased_at'], r.body['erased_at'])
        self.assertEqual(again.body['erase_reason'], reason)
        self.assertEqual(again.body['timeline'], r.body['timeline'])
        self.assertEqual(len(self.audit_entries(cid)), n + 2)
        # the reason (500 Thai characters at most) for the hotline case
        r = self.erase(hot['case_id'], {'reason': 'ข' * 500})
        self.assertStatus(r, 200, 'a reason of 500 characters')
        self.assertErased(r.body, 'sup-1', 'ข' * 500)

        self.assertNowhereInRedis(every, 'after the erasure')
        self.assertEqual(self.statistics(), before, 'the statistics are unchanged')
        # the calls' keys still name their cases, without the digest of the content
        for c in (line, hot):
            call_id = env.case(c['case_id'])['call_id']
            self.assertEqual(env.redis.command('GET', env.prefix + 'call:' + call_id),
                             c['case_id'].encode(), call_id)
        # the public view stays until its own retention; an erased case takes no new note
        self.assertStatus(env.track(line['code']), 200)
        r = env.http('POST', '/v1/cases/%s/notes' % q(cid), {'text': 'ข้อความใหม่'},
                     token=env.operator_token)
        self.assertErrorBody(r, 409, 'erased')
        r = env.http('POST', '/v1/cases/%s/consent' % q(cid),
                     {'share_with_agencies': False, 'basis': 'consent', 'note': 'ข้อความใหม่'},
                     token=env.operator_token)
        self.assertErrorBody(r, 409, 'erased')
        self.assertNotIn('ข้อความใหม่', self.keyspace())
        # the reporter, back in LINE, starts afresh: the bot no longer knows the erased case
        m = self.say(line['user'].text('สถานะ'))
        self.assertNotIn(line['code'], tracking_codes(m), 'the bot no longer knows the case')

    def test_a_new_report_goes_on(self):
        """The reporter started another report when their last case is erased: the report goes
        on (its state keeps everything but the erased case's code) and becomes a case."""
        env = self.env
        self.put_teams(TEAMS)
        user = self.new_user()
        code = self.report(user, 'detention', self.new_place(), team_name=TEAMS[0][4])
        cid = self.case_by_code(code)['case_id']
        self.close_case(cid)
        m = self.say(user.text('สวัสดีค่ะ'))
        self.assertAsksCategory(m, 'th')
        m = self.say(user.postback('cat=threat'))
        self.assertAsksLocation(m, 'th')
        skey = env.prefix + 'line:state:' + self.user_key(user)
        self.assertIn(code.encode(), env.redis.command('GET', skey), 'the old code is kept')
        self.assertStatus(self.erase(cid, {'reason': 'ทดสอบ'}), 200)
        state = env.redis.command('GET', skey)
        self.assertIsNotNone(state, 'the new report is kept')
        self.assertNotIn(code.encode(), state)
        self.assertEqual(json.loads(state)['category'], 'threat')
        place = self.new_place()
        m = self.say(user.location(*place))
        new_code = self.assertCreatedAsksMore(m, 'th', TEAMS[0][4])
        self.assertNotEqual(new_code, code)
        self.assertEqual(self.case_by_code(new_code)['location']['address'], place[2])


class EraseConsoleTest(BrowserHelpers):
    """The erase button on a closed case's page, a supervisor's only."""

    def test_a_supervisor_erases_from_the_case_page(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a = env.post_incident('detention', 'ถูกขังไว้ในห้องเก็บของ %s' % secrets.token_hex(3))
        cid = a['case_id']
        rep = a['_request']['reporter']
        sup_password = new_password()
        self.create_operator('sup-1', sup_password, role='supervisor')

        o = self.open('erase-operator')
        self.login(o)
        o.get(self.base + '/console/cases/' + cid)
        self.wait_for(o, '.facts-list')
        self.assertEqual(o.find_all('#erase'), [], 'no erasure for an operator')

        b = self.open('erase')
        self.login(b, 'sup-1', sup_password)
        b.get(self.base + '/console/cases/' + cid)
        self.wait_for(b, '#erase')
        self.assertIn('ปิด', self.text_of(b, '#erase'), 'an open case: close it first')
        self.assertFalse([e for e in b.find_all('#erase-button') if e.is_displayed()])
        self.assertTrue(b.find('#act-status').is_displayed(), 'an open case can be moved on')
        for st in ('resolved', 'closed'):
            self.assertStatus(env.set_status(cid, st), 200)
        button = self.wait_for(b, '#erase-button', message='the button once the case is closed')
        # a closed case offers no assignment, status or triage, but still takes a note
        wait_until(lambda: b.find('#case-closed-note').is_displayed(), message='the closed note')
        for hidden in ('#act-status', '#act-triage', '#candidates'):
            self.assertFalse(b.find(hidden).is_displayed(), hidden + ' on a closed case')
        self.assertTrue(b.find('#act-note').is_displayed(), 'a note on a closed case')
        self.assertIn(rep['name'], self.text_of(b, '.facts-list'))
        button.click()
        self.wait_for(b, '#confirm textarea[name=reason]')
        b.screenshot('dialog')
        b.find('#confirm button.danger').click()
        self.wait_for(b, '#confirm .field-error', message='a reason is required')
        self.assertIsNone(env.case(cid)['erased_at'], 'nothing erased without a reason')
        reason = 'คำร้องขอลบข้อมูลจากผู้แจ้ง เลขที่ 7/2569'
        b.find('#confirm textarea[name=reason]').send_keys(reason)
        b.find('#confirm button.danger').click()
        wait_until(lambda: env.case(cid)['erased_at'], message='erased')
        wait_until(lambda: rep['name'] not in self.text_of(b, '.facts-list'),
                   message='the page shows the case erased')
        text = self.text_of(b, '#erase')
        self.assertIn('sup-1', text)
        self.assertIn(reason, text)
        self.assertFalse([e for e in b.find_all('#erase-button') if e.is_displayed()])
        self.assertIn('ลบแล้ว', self.text_of(b, '.facts-list'))
        for hidden in ('#act-note', '#act-consent'):
            self.assertFalse(b.find(hidden).is_displayed(), hidden + ' on an erased case')
        self.no_sideways_scroll(b, 'the erased case')
        b.driver.execute_script("document.getElementById('erase').scrollIntoView()")
        b.screenshot('erased')
        view = env.case(cid)
        self.assertIsNone(view['reporter']['name'])
        self.assertEqual(view['erased_by'], 'sup-1')


if __name__ == '__main__':
    harness.main()
