"""Consent and quiet updates (DESIGN.md "Safeguarding", PLAN12 part B).

Consent: POST /v1/cases/{id}/consent (operators, by session cookie or token) records whether the
reporter's identifying data may go to the agencies that help, on which basis, who said so and
when: in the case's view (consent), on its timeline (who, no free note), in the case log (no
text), one audit entry (consent) per request; bad input is a 400 and stores nothing. In LINE the
reporter is asked once, after "anything else?", with two quick replies; the answer is recorded
with basis consent, by the reporter, and the closing line offers status, talk and quiet.

Quiet updates: "เงียบ" / "quiet" (or its button) with an open case: no progress push about it
any more, pushes queued before the choice included, through a whole lifecycle; "สถานะ" still
answers; a chat with a person still reaches the reporter; "แจ้งต่อ" / "updates on" turns pushes
back on. In a browser, an operator sees and records consent on the case page."""

import json
import secrets
import urllib.parse

import harness
from fake_line import Answer, postbacks, tracking_codes, visible_text
from harness import wait_until
from test_audit import AuditHelpers, POLICE_SW
from test_console import BrowserHelpers, new_password
from test_line_handoff import HandoffHelpers

QUESTION_TH = 'หน่วยงานที่ช่วยเหลือดูชื่อและข้อมูลติดต่อของคุณได้ไหมคะ (เพื่อไม่ต้องเล่าซ้ำ)'
QUESTION_EN = 'may the agencies that help see your name and contact details'
QUIET_TH = 'จะไม่ส่งข้อความแจ้งความคืบหน้ามาอีก ถ้าอยากรู้ พิมพ์ “สถานะ” ได้ทุกเมื่อค่ะ'
QUIET_EN = 'we will send you no more updates'
AGAIN_TH = 'จะส่งข้อความแจ้งความคืบหน้าให้อีกครั้งค่ะ'
TEAM = [('bkk-sw', 0.7, 20, ['social_worker', 'police'], 'ทีมสหวิชาชีพ บางรัก')]


def consent_path(case_id):
    return '/v1/cases/%s/consent' % urllib.parse.quote(case_id, safe='')


def consent_entries(view):
    return [e for e in view['timeline'] if e.get('event') == 'consent']


class ConsentApiTest(AuditHelpers):

    def post_consent(self, case_id, body, token=None):
        return self.env.http('POST', consent_path(case_id), body,
                             token=self.env.operator_token if token is None else token)

    def log_text(self):
        return json.dumps(self.env.redis.command('XRANGE', self.env.prefix + 'log', '-', '+'),
                          default=lambda b: b.decode('utf-8', 'replace'), ensure_ascii=False)

    def test_recorded_by_cookie_and_by_token(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, texts = self.canary_case()
        cid = a['case_id']
        before = env.case(cid)
        self.assertIsNone(before['consent'], 'no consent recorded yet: null')
        self.assertFalse(before['quiet_updates'])
        cookie, csrf = self.session('op-17', self.op_password)
        note = 'ผู้แจ้งยินยอมทางโทรศัพท์ ให้โทรหลังหกโมง %s' % secrets.token_hex(3)
        env.note_pii(note)
        r = self.one_entry(
            lambda: self.with_cookie('POST', consent_path(cid), cookie, csrf,
                                     {'share_with_agencies': True, 'basis': 'consent',
                                      'note': note}),
            'consent', 'operator', 'op-17', cid)
        self.assertStatus(r, 200, 'consent by cookie')
        c = r.body['consent']
        self.assertEqual((c['share_with_agencies'], c['basis'], c['by'], c['note']),
                         (True, 'consent', 'op-17', note), c)
        self.assertTime(c['at'])
        self.assertEqual(r.body['case_id'], cid, 'the answer is the case view')
        self.assertEqual(r.body['reporter'], before['reporter'])
        e = consent_entries(r.body)
        self.assertEqual(len(e), 1, r.body['timeline'])
        self.assertEqual((e[0]['by'], e[0]['note'], e[0]['basis'], e[0]['status']),
                         ('op-17', 'share', 'consent', 'assigned'), e[0])
        self.assertNotIn(note, json.dumps(r.body['timeline'], ensure_ascii=False),
                         'the free note is not on the timeline')
        self.assertEqual(env.case(cid)['consent'], c, 'stored')
        # the case log has the event, never the note
        log = self.log_text()
        self.assertIn('"consent"', log)
        self.assertNotIn(note, log)
        # the public view and the lists know nothing of it
        self.assertNotIn(note, env.track(a['tracking_code']).raw.decode('utf-8'))
        self.assertNotIn('consent', env.track(a['tracking_code']).raw.decode('utf-8'))
        self.assertNotIn(note, env.http('GET', '/v1/cases', token=env.operator_token)
                         .raw.decode('utf-8'))

        # by a token from ESS_OPERATOR_TOKENS: replaced, the old note gone
        r = self.one_entry(lambda: self.post_consent(cid, {'share_with_agencies': False,
                                                           'basis': 'vital_interest'}),
                           'consent', 'operator', 'desk-1', cid)
        self.assertStatus(r, 200)
        self.assertEqual((r.body['consent']['share_with_agencies'], r.body['consent']['basis'],
                          r.body['consent']['by'], r.body['consent']['note']),
                         (False, 'vital_interest', 'desk-1', None))
        # by an account's token, and a supervisor's; null note is no note
        r = self.one_entry(lambda: self.post_consent(cid, {'share_with_agencies': True,
                                                           'basis': 'legal_obligation',
                                                           'note': None}, token=self.op_token),
                           'consent', 'operator', 'op-17', cid)
        self.assertEqual(r.body['consent']['basis'], 'legal_obligation')
        r = self.one_entry(lambda: self.post_consent(cid, {'share_with_agencies': False,
                                                           'basis': 'consent'},
                                                     token=self.sup_token),
                           'consent', 'supervisor', 'sup-1', cid)
        self.assertStatus(r, 200)
        e = consent_entries(env.case(cid))
        self.assertEqual([(x['by'], x['note'], x['basis']) for x in e],
                         [('op-17', 'share', 'consent'), ('desk-1', 'no_share', 'vital_interest'),
                          ('op-17', 'share', 'legal_obligation'),
                          ('sup-1', 'no_share', 'consent')],
                         'every consent on the timeline, with who recorded it')
        self.assertNotIn(note, json.dumps(env.redis.command(
            'HGETALL', env.prefix + 'case:' + cid), default=lambda b: b.decode('utf-8'),
            ensure_ascii=False),
            'a later consent without a note removes the note')

    def test_who_may_record_it(self):
        env = self.env
        t1 = env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, _ = self.canary_case()
        cid = a['case_id']
        cookie, csrf = self.session('op-17', self.op_password)
        body = {'share_with_agencies': True, 'basis': 'consent'}
        r = self.with_cookie('POST', consent_path(cid), cookie, None, body)
        self.assertErrorBody(r, 403, msg='a cookie without its CSRF token')
        self.assertErrorBody(self.post_consent(cid, body, token=t1), 403,
                             msg='the holding team may not')
        self.assertErrorBody(self.post_consent(cid, body, token=env.admin_token), 403,
                             msg='nor the admin')
        self.assertErrorBody(env.http('POST', consent_path(cid), body), 401, msg='no token')
        self.assertIsNone(env.case(cid)['consent'])

    def test_bad_input_stores_nothing(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a, _ = self.canary_case()
        cid = a['case_id']
        cases = [
            ({'basis': 'consent'}, 'missing_field'),
            ({'share_with_agencies': 'yes', 'basis': 'consent'}, 'invalid_field'),
            ({'share_with_agencies': 1, 'basis': 'consent'}, 'invalid_field'),
            ({'share_with_agencies': None, 'basis': 'consent'}, 'invalid_field'),
            ({'share_with_agencies': True}, 'missing_field'),
            ({'share_with_agencies': True, 'basis': 'whim'}, 'invalid_field'),
            ({'share_with_agencies': True, 'basis': 'CONSENT'}, 'invalid_field'),
            ({'share_with_agencies': True, 'basis': ['consent']}, 'invalid_field'),
            ({'share_with_agencies': True, 'basis': 'consent', 'note': 7}, 'invalid_field'),
            ({'share_with_agencies': True, 'basis': 'consent', 'note': '   '}, 'invalid_field'),
            ({'share_with_agencies': True, 'basis': 'consent', 'note': 'ก' * 400},
             'invalid_field'),  # 1200 bytes
            ({'share_with_agencies': True, 'basis': 'consent', 'note': 'a\x07b'},
             'invalid_field'),
        ]
        for body, code in cases:
            r = self.post_consent(cid, body)
            self.assertErrorBody(r, 400, code, msg=repr(body))
        for raw in (b'[]', b'{"share_with_agencies": true, "basis": "consent"',
                    b'{"share_with_agencies": true, "share_with_agencies": false, '
                    b'"basis": "consent"}'):
            r = env.http('POST', consent_path(cid), raw, token=env.operator_token)
            self.assertErrorBody(r, 400, msg=repr(raw))
        ok = {'share_with_agencies': True, 'basis': 'consent', 'note': 'ก' * 333}
        self.assertErrorBody(self.post_consent('01JD0000000000000000000000', ok), 404,
                             'not_found')
        self.assertErrorBody(self.post_consent('no-such-case', ok), 404, 'not_found')
        view = env.case(cid)
        self.assertIsNone(view['consent'], 'nothing stored')
        self.assertEqual(consent_entries(view), [])
        self.assertStatus(self.post_consent(cid, ok), 200, '333 Thai characters fit 1000 bytes')


class ConsentHelpers(HandoffHelpers):
    """A LINE report up to its consent question (no tests of its own)."""

    def report_to_consent(self, user, details=None, teams=TEAM):
        """A report whose "anything else?" is answered (details) or skipped: the answer ends with
        the consent question. Returns (code, the answer)."""
        self.put_teams(teams)
        lang = user.lang
        m = self.say(user.text('สวัสดีค่ะ' if lang == 'th' else 'Hello, I need some help'))
        m = self.say(user.postback('cat=detention'))
        lat, lon, addr = self.new_place()
        m = self.say(user.location(lat, lon, addr))
        code = self.assertCreatedAsksMore(m, lang, teams[0][4] if teams else None)
        if details is None:
            m = self.say(user.postback('skip'))
        else:
            self.env.note_pii(details)
            m = self.say(user.text(details))
        self.assertEqual(tracking_codes(m), [code], m)
        want = QUESTION_EN if lang == 'en' else QUESTION_TH
        self.assertIn(want, visible_text(m[-1:]), 'the consent question comes last: %r' % m)
        self.assertEqual(postbacks(m, quick_only=True), ['consent=yes', 'consent=no'],
                         'two quick replies, nothing else')
        self.assertLang(m, lang, msg='the consent question')
        return code, m



class LineConsentTest(ConsentHelpers):

    def consent_asked(self, case_id):
        return self.env.redis.command('HGET', self.env.prefix + 'case:' + case_id,
                                      'consent_asked')

    def test_yes_recorded_as_the_reporters_consent(self):
        user = self.new_user()
        code, _ = self.report_to_consent(user)
        case = self.case_by_code(code)
        self.assertIsNotNone(self.consent_asked(case['case_id']), 'the case says it was asked')
        self.assertIsNone(case['consent'])
        m = self.say(user.postback('consent=yes'))
        self.assertEqual(tracking_codes(m), [code])
        self.assertIn('หน่วยงานที่ช่วยเหลือจะเห็นชื่อและข้อมูลติดต่อของคุณ', visible_text(m))
        self.assertEqual(postbacks(m, quick_only=True), ['status', 'talk', 'quiet'],
                         'the closing line offers status, talk to a person, quiet')
        labels = [a['action']['label'] for a in m[-1]['quickReply']['items']]
        self.assertEqual(labels, ['สถานะ', 'คุยกับเจ้าหน้าที่', 'ไม่ต้องแจ้ง (เงียบ)'])
        case = self.case_by_code(code)
        c = case['consent']
        self.assertEqual((c['share_with_agencies'], c['basis'], c['by'], c['note']),
                         (True, 'consent', 'reporter', None), c)
        e = consent_entries(case)
        self.assertEqual([(x['by'], x['note'], x['basis']) for x in e],
                         [('reporter', 'share', 'consent')])
        # asked once: the button again, and a later word, record nothing more
        m = self.say(user.postback('consent=no'))
        self.assertNotIn('consent=yes', postbacks(m))
        m = self.say(user.text('ยินยอม'))
        self.assertNotIn('consent=yes', postbacks(m))
        case = self.case_by_code(code)
        self.assertEqual(len(consent_entries(case)), 1, 'one answer, once')
        self.assertTrue(case['consent']['share_with_agencies'])
        self.assertEqual(self.env.http('GET', '/v1/audit?action=consent',
                                       token=self.supervisor_token()).body['entries'], [],
                         'the reporter\'s own answer is no API access')

    def test_no_in_english_after_a_note(self):
        user = self.new_user(lang='en')
        details = 'He took my phone, I am using a friend\'s %s' % secrets.token_hex(3)
        code, m = self.report_to_consent(user, details=details)
        self.assertIn('we added this', visible_text(m))
        m = self.say(user.text('I do not agree'))
        self.assertIn('we pass them to no agency besides', visible_text(m))
        self.assertLang(m, 'en', msg='the closing line')
        self.assertEqual(postbacks(m, quick_only=True), ['status', 'talk', 'quiet'])
        case = self.case_by_code(code)
        self.assertEqual((case['consent']['share_with_agencies'], case['consent']['by'],
                          case['consent']['basis']), (False, 'reporter', 'consent'))
        self.assertNotEchoed(self.fake.requests(), [details])

    def test_something_else_drops_the_question(self):
        """Asked once: anything but an answer goes to the case as before, and the question is not
        asked again."""
        user = self.new_user()
        code, _ = self.report_to_consent(user)
        story = 'เขาล็อกประตูจากข้างนอก %s' % secrets.token_hex(3)
        m = self.say(self.said(user, story))
        self.assertIn('เพิ่มข้อมูลนี้ให้แล้วค่ะ', visible_text(m))
        self.assertNotIn('consent=yes', postbacks(m))
        m = self.say(user.postback('consent=yes'))  # a stale button
        self.assertNotIn('consent=yes', postbacks(m))
        case = self.case_by_code(code)
        self.assertIsNone(case['consent'], 'no answer recorded')
        self.assertIn(story, [e.get('note') for e in case['timeline']])
        self.assertNotEchoed(self.fake.requests(), [story])


class QuietTest(ConsentHelpers):

    def report_and_answer(self, user, teams=TEAM):
        code, _ = self.report_to_consent(user, teams=teams)
        m = self.say(user.postback('consent=no'))
        self.assertEqual(tracking_codes(m), [code])
        return code

    def quiet(self, user, code, words='เงียบ'):
        m = self.say(user.text(words) if words else user.postback('quiet'))
        self.assertEqual(tracking_codes(m), [code], m)
        self.assertIn(QUIET_EN if user.lang == 'en' else QUIET_TH, visible_text(m))
        self.assertIn('updates', postbacks(m, quick_only=True), 'a button for updates again')
        return m

    def accepted_pushes(self, user):
        return [r for r in self.fake.pushes() if r.to == user.user_id and r.ok]

    def test_a_whole_lifecycle_pushes_nothing(self):
        """Quiet while queued: assigned, acknowledged, en route, on scene, resolved, closed come
        and go with no push; "สถานะ" still answers."""
        env = self.env
        user = self.new_user()
        code = self.report_and_answer(user, teams=[])
        case = self.case_by_code(code)
        self.assertEqual(case['status'], 'queued', case)
        self.quiet(user, code)
        case = self.case_by_code(code)
        self.assertTrue(case['quiet_updates'])
        self.assertEqual([(e['by'], e['note']) for e in case['timeline']
                          if e.get('event') == 'quiet'], [('reporter', 'on')])
        pushed_before = len(self.accepted_pushes(user))
        cid = case['case_id']
        tokens = self.put_teams(TEAM)  # the queue drains into the new team: assigned
        wait_until(lambda: env.case(cid)['status'] == 'assigned', message='assigned')
        tok = tokens['bkk-sw']
        self.assertStatus(env.ack(cid, tok), 200)
        for status in ('en_route', 'on_scene', 'resolved'):
            self.assertStatus(env.set_status(cid, status, token=tok), 200, status)
        self.assertStatus(env.set_status(cid, 'closed'), 200)
        self.assertEqual([s['status'] for s in env.case(cid)['timeline'] if not s.get('event')],
                         ['received', 'queued', 'assigned', 'acknowledged', 'en_route',
                          'on_scene', 'resolved', 'closed'])
        self.settle(1.0)
        self.assertEqual(self.accepted_pushes(user)[pushed_before:], [],
                         'no push about a quiet case')
        self.assertEqual([r for r in self.fake.pushes() if r.to == user.user_id], [],
                         'not even tried')
        m = self.say(user.text('สถานะ'))
        self.assertEqual(tracking_codes(m), [code])
        self.assertIn('ปิดเคสแล้ว', visible_text(m), 'the status still answers')

    def test_pushes_queued_before_the_choice_are_dropped(self):
        env = self.env
        user = self.new_user()
        tokens = self.put_teams(TEAM)
        code = self.report_and_answer(user)
        cid = self.case_by_code(code)['case_id']
        self.fake.script('push', *[Answer(503)] * 6)
        self.assertStatus(env.ack(cid, tokens['bkk-sw']), 200)
        self.fake.wait_for(lambda reqs: [r for r in reqs if r.endpoint == 'push'
                                         and r.to == user.user_id], 10, 'the first try')
        self.quiet(user, code, words=None)
        self.assertStatus(env.set_status(cid, 'en_route', token=tokens['bkk-sw']), 200)
        wait_until(lambda: env.redis.command('ZCARD', env.prefix + 'outbox:due') == 0, 20,
                   message='the progress notice dropped, not retried')
        self.fake.script('push')  # whatever is left of the script is not needed
        self.settle(0.5)
        self.assertEqual(self.accepted_pushes(user), [], 'never delivered')
        self.assertEqual(env.redis.command('LLEN', env.prefix + 'outbox:dead'), 0,
                         'dropped, not given up on')
        tried = [r for r in self.fake.pushes() if r.to == user.user_id]
        self.assertLessEqual(len(tried), 2, 'at most one more try raced the choice: %r' % tried)

    def test_updates_on_again_and_a_chat_still_comes(self):
        env = self.env
        user = self.new_user(lang='en')
        tokens = self.put_teams(TEAM)
        code = self.report_and_answer(user)
        cid = self.case_by_code(code)['case_id']
        self.quiet(user, code, words='quiet')
        # a chat the reporter asks for still reaches them
        self.say(user.postback('talk'))
        self.assertStatus(self.take(cid), 200)
        words = 'This is the operator, are you safe now? %s' % secrets.token_hex(3)
        self.assertStatus(self.write(cid, words), 201)
        self.wait_push(user, words)
        self.assertStatus(self.close(cid), 200)
        self.wait_push(user, 'The operator has ended the chat.')
        self.assertStatus(env.ack(cid, tokens['bkk-sw']), 200)
        self.settle(0.5)
        self.assertEqual([p for p in self.accepted_pushes(user)
                          if 'accepted your case' in visible_text(p.messages)], [],
                         'no progress push while quiet')
        m = self.say(user.text('updates on'))
        self.assertEqual(tracking_codes(m), [code])
        self.assertIn('we will send you updates again', visible_text(m))
        self.assertIn('quiet', postbacks(m, quick_only=True))
        case = env.case(cid)
        self.assertFalse(case['quiet_updates'])
        self.assertEqual([e['note'] for e in case['timeline'] if e.get('event') == 'quiet'],
                         ['on', 'off'])
        self.assertStatus(env.set_status(cid, 'en_route', token=tokens['bkk-sw']), 200)
        self.wait_push(user, 'is on the way')

    def test_quiet_with_no_open_case(self):
        user = self.new_user()
        m = self.say(user.text('เงียบ'))
        self.assertIn('ตอนนี้ไม่มีเรื่องที่เปิดอยู่ค่ะ', visible_text(m))
        self.assertEqual(self.env.list_cases(), [], 'no case made')

    def test_quiet_at_anything_else_then_consent(self):
        user = self.new_user()
        self.put_teams(TEAM)
        self.say(user.text('สวัสดีค่ะ'))
        self.say(user.postback('cat=threat'))
        lat, lon, addr = self.new_place()
        code = self.assertCreatedAsksMore(self.say(user.location(lat, lon, addr)), 'th',
                                          TEAM[0][4])
        m = self.say(user.text('ไม่ต้องแจ้งค่ะ'))
        self.assertIn(QUIET_TH, visible_text(m))
        self.assertIn(QUESTION_TH, visible_text(m[-1:]))
        self.assertEqual(postbacks(m, quick_only=True), ['consent=yes', 'consent=no'])
        self.assertTrue(self.case_by_code(code)['quiet_updates'])


class ConsentConsoleTest(BrowserHelpers):
    """The case page shows the consent and records it."""

    def test_an_operator_records_consent(self):
        env = self.env
        env.put_team_at('t1', 1.0, 0, POLICE_SW)
        a = env.post_incident('detention', 'ลูกสาวถูกขังไว้ในห้อง %s' % secrets.token_hex(3))
        cid = a['case_id']
        b = self.open('consent')
        self.login(b)
        b.get(self.base + '/console/cases/' + cid)
        self.wait_for(b, '#act-consent')
        self.assertIn('ยังไม่ได้บันทึก', self.text_of(b, '#consent-now'))
        b.find('#act-consent button[type=submit]').click()
        wait_until(lambda: 'เลือกว่าผู้แจ้งยินยอมหรือไม่' in self.text_of(b, '#act-consent'),
                   message='a choice is asked for')
        b.find('#consent-no-share').click()
        from selenium.webdriver.support.ui import Select
        Select(b.find('#act-consent select[name=basis]')).select_by_value('vital_interest')
        note = 'ผู้แจ้งไม่อยากให้ส่งต่อ กลัวคนในบ้านรู้ %s' % secrets.token_hex(3)
        env.note_pii(note)
        b.find('#act-consent textarea[name=note]').send_keys(note)
        b.find('#act-consent button[type=submit]').click()
        wait_until(lambda: 'ไม่ยินยอม' in self.text_of(b, '#consent-now'),
                   message='the consent shown')
        now = self.text_of(b, '#consent-now')
        self.assertIn('ป้องกันอันตรายต่อชีวิต', now)
        self.assertIn('op-17', now)
        self.assertIn(note, self.text_of(b, '#act-consent'))
        wait_until(lambda: 'ไม่ยินยอมให้ส่งต่อ' in self.text_of(b, '.timeline'),
                   message='on the timeline')
        self.assertNotIn(note, self.text_of(b, '.timeline'), 'the note is not on the timeline')
        view = env.case(cid)
        self.assertEqual((view['consent']['share_with_agencies'], view['consent']['basis'],
                          view['consent']['by'], view['consent']['note']),
                         (False, 'vital_interest', 'op-17', note))
        self.no_sideways_scroll(b, 'case page with consent')
        b.driver.execute_script("document.getElementById('act-consent').scrollIntoView()")
        b.screenshot('case')

        e = self.open('consent-en', lang='en')
        self.login(e)
        e.get(self.base + '/console/cases/' + cid)
        self.wait_for(e, '#act-consent')
        wait_until(lambda: 'No, do not share' in self.text_of(e, '#act-consent'),
                   message='English')
        self.assertIn('Vital interest', self.text_of(e, '#consent-now'))
        e.driver.execute_script("document.getElementById('act-consent').scrollIntoView()")
        e.screenshot('case-en')


if __name__ == '__main__':
    harness.main()
