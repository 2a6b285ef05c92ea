"""Triage confidence (DESIGN.md "Triage confidence"): a hotline call without a category whose
classification is not confident is filed with its best guess as category_suggested, queued with
reason needs_triage at P1 above every other queued case, and never dispatched; an operator
confirms or corrects it (POST /v1/cases/{id}/triage) and it is then routed as any case of its
category; POST /v1/classify says needs_triage; the same call_id twice is one case; a category
given is never unsure. In LINE, an unsure free text offers every category instead of one guess.
In the console, a flagged case is confirmed in one click from the queue.

Every router here runs with ESS_TRIAGE_MODEL=none: the rule table's keywords alone classify, so
what is "unsure" does not depend on a learned model's figures. A text with no keyword at all is
unsure (its guess "other", confidence 0); a text naming two emergencies ("threatened and locked
in") is unsure too, by the keywords' rule (rules/rules.h: a rival keyword halves the confidence
below the 0.5 one keyword alone gives), its guess an emergency."""

import json

import harness
from harness import RouterTest, wait_until
from fake_line import CATEGORY_POSTBACKS, LineTest, postbacks, visible_text
from test_console import BrowserHelpers
from test_dispatch import FakeGateway
from test_events import Stream

ALL_SKILLS = ['police', 'social_worker', 'mental_health', 'nurse', 'child_protection']
KEYWORDS_ONLY = {'extra_env': {'ESS_TRIAGE_MODEL': 'none'}}

NO_KEYWORD = 'ทนไม่ไหวแล้ว ไม่รู้จะทำยังไงดี'         # names nothing: unsure, guess "other"
TWO_EMERGENCIES = 'ถูกขู่ทำร้าย และถูกขังไว้'           # threat and detention compete: unsure
CLEAR = 'ลูกสาวถูกแฟนขังไว้ในห้อง ออกมาไม่ได้'         # one emergency: confident


def timeline_notes(view):
    return [(e.get('status'), e.get('event'), e.get('note')) for e in view['timeline']]


class NeedsTriageTest(RouterTest):

    env_options = KEYWORDS_ONLY

    def setUp(self):
        super().setUp()
        self.gateway = FakeGateway()
        self.addCleanup(self.gateway.close)
        # one team that can take any category, told through the fake gateway
        self.env.put_team_at('all', 1.5, 40, ALL_SKILLS, capacity=10,
                             notify={'webhook': self.gateway.url('/all')})

    def triage(self, case_id, body, token=None):
        return self.env.http('POST', '/v1/cases/%s/triage' % case_id, body,
                             token=self.env.operator_token if token is None else token)

    def unsure(self, text=NO_KEYWORD, **kw):
        a = self.env.post_incident(None, text, **kw)
        self.assertEqual(a['queue_reason'], 'needs_triage', a)
        return a

    def dispatched_cases(self):
        """The case ids the gateway was sent."""
        return [json.loads(r['body'])['case_id'] for r in self.gateway.received()]

    def assertNeverDispatched(self, case_id, control_text=CLEAR):
        """No dispatch for case_id: none queued in the outbox, and none at the gateway once a
        dispatch queued after it (a clear case's) has arrived."""
        env = self.env
        self.assertEqual(env.redis.keys(env.prefix + 'outbox:item:d:%s:*' % case_id), [],
                         'a dispatch queued for a case waiting for triage')
        control = env.post_incident('detention', control_text)
        self.assertAssignedTo(control, 'all')
        wait_until(lambda: control['case_id'] in self.dispatched_cases(),
                   message='the clear case\'s dispatch at the gateway')
        self.assertNotIn(case_id, self.dispatched_cases())

    def test_unsure_call_waits_first_in_the_queue_and_is_never_dispatched(self):
        env = self.env
        stream = Stream(env.router.port, env.operator_token)
        self.addCleanup(stream.close)
        stream.wait(lambda s: s.status == 200, what='the event stream')
        # an older P1 case waiting in the queue (no place yet)
        older = env.post_incident_raw({'call_id': '1300-older', 'category': 'detention',
                                       'description': CLEAR})
        self.assertStatus(older, 201)
        older = older.body
        self.assertEqual((older['status'], older['priority']), ('queued', 'P1'))
        a = env.post_incident(None, NO_KEYWORD)
        self.assertQueued(a, 'an unsure call is not dispatched')
        self.assertEqual(a['priority'], 'P1')
        self.assertEqual(a['queue_reason'], 'needs_triage')
        self.assertEqual(a['category_suggested'], a['category'], 'the guess is the category')
        self.assertEqual(a['category'], 'other', 'no evidence: the guess is "other"')
        # first in the queue, above the older P1 case
        ids = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertEqual(ids[:2], [a['case_id'], older['case_id']], ids)
        summary = [c for c in env.list_cases(status='queued') if c['case_id'] == a['case_id']][0]
        self.assertEqual(summary['category_suggested'], 'other')
        self.assertEqual(summary['queue_reason'], 'needs_triage')
        opened = [c for c in env.list_cases() if c['case_id'] == a['case_id']][0]
        self.assertEqual(opened['category_suggested'], 'other')
        # the case view, and its timeline saying why it waits
        view = env.case(a['case_id'])
        self.assertEqual((view['category_suggested'], view['queue_reason'], view['priority']),
                         ('other', 'needs_triage', 'P1'))
        self.assertIsNone(view['team'])
        self.assertIn(('queued', None, 'needs_triage'), timeline_notes(view))
        # the live summaries carry the suggestion
        stream.wait(lambda s: any('"needs_triage"' in e.get('data', '') and a['case_id'] in
                                  e.get('data', '') and '"category_suggested":"other"' in
                                  e.get('data', '') for e in s.events),
                    what='the queued event with its suggestion')
        # a clear case of the older priority still comes after it
        self.assertNeverDispatched(a['case_id'])
        ids = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertEqual(ids[0], a['case_id'], ids)

    def test_confirming_the_suggestion_routes_the_case(self):
        env = self.env
        a = self.unsure(TWO_EMERGENCIES)
        guess = a['category_suggested']
        self.assertIn(guess, ('threat', 'detention'), a)
        self.assertEqual(a['category'], guess)
        self.assertEqual(a['priority'], 'P1')
        self.assertQueued(a)
        # what the rule engine gives the category when it is given
        given = env.post_incident(guess, TWO_EMERGENCIES)
        self.assertAssignedTo(given, 'all')
        r = self.triage(a['case_id'], {'category': guess})
        self.assertStatus(r, 200)
        view = r.body
        self.assertEqual(view['category'], guess)
        self.assertIsNone(view['category_suggested'])
        self.assertEqual(view['priority'], given['priority'], 'the category\'s own priority')
        self.assertEqual(view['status'], 'assigned', view)
        self.assertEqual(view['team']['id'], 'all')
        self.assertIsNone(view['queue_reason'])
        triaged = [e for e in view['timeline'] if e.get('event') == 'triage']
        self.assertEqual(len(triaged), 1, view['timeline'])
        self.assertEqual(triaged[0]['by'], env.operator_id, 'who confirmed it')
        self.assertIn('confirmed ' + guess, triaged[0]['note'])
        wait_until(lambda: a['case_id'] in self.dispatched_cases(),
                   message='the confirmed case\'s dispatch at the gateway')
        self.assertNotIn(a['case_id'], [c['case_id'] for c in env.list_cases(status='queued')])
        # a second confirmation changes nothing
        r = self.triage(a['case_id'], {'category': guess})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, env.case(a['case_id']))
        self.assertEqual(len([e for e in r.body['timeline'] if e.get('event') == 'triage']), 1)

    def test_choosing_an_emergency_routes_the_case(self):
        env = self.env
        a = self.unsure(NO_KEYWORD)
        r = self.triage(a['case_id'], {'category': 'mental_crisis'})
        self.assertStatus(r, 200)
        self.assertEqual((r.body['category'], r.body['category_suggested'], r.body['status']),
                         ('mental_crisis', None, 'assigned'), r.body)
        self.assertEqual(r.body['team']['id'], 'all')
        note = [e for e in r.body['timeline'] if e.get('event') == 'triage'][0]['note']
        self.assertIn('other -> mental_crisis', note)
        track = env.track(a['tracking_code']).body
        self.assertEqual(track['category'], 'mental_crisis')

    def test_correcting_to_other_waits_for_triage(self):
        env = self.env
        p1 = env.post_incident_raw({'call_id': '1300-p1', 'category': 'detention',
                                    'description': TWO_EMERGENCIES})  # P1, waits for a place
        self.assertStatus(p1, 201)
        a = self.unsure(TWO_EMERGENCIES)
        self.assertEqual([c['case_id'] for c in env.list_cases(status='queued')][0],
                         a['case_id'])
        r = self.triage(a['case_id'], {'category': 'other'})
        self.assertStatus(r, 200)
        view = r.body
        self.assertEqual((view['category'], view['category_suggested'], view['status'],
                          view['queue_reason']), ('other', None, 'queued', 'triage'), view)
        self.assertNotEqual(view['priority'], 'P1', 'the priority the rules give "other"')
        ids = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertLess(ids.index(p1.body['case_id']), ids.index(a['case_id']),
                        'no longer above the P1 case: %r' % ids)
        self.assertNeverDispatched(a['case_id'])
        # a priority given with the correction wins over the rules'
        b = self.unsure(NO_KEYWORD)
        r = self.triage(b['case_id'], {'category': 'other', 'priority': 'P2'})
        self.assertStatus(r, 200)
        self.assertEqual((r.body['priority'], r.body['queue_reason']), ('P2', 'triage'))

    def test_priority_alone_keeps_it_waiting_for_triage(self):
        env = self.env
        a = self.unsure(NO_KEYWORD)
        r = self.triage(a['case_id'], {'priority': 'P3'})
        self.assertStatus(r, 200)
        self.assertEqual((r.body['priority'], r.body['queue_reason'],
                          r.body['category_suggested']), ('P3', 'needs_triage', 'other'))
        older = env.post_incident_raw({'call_id': '1300-p1b', 'category': 'detention',
                                       'description': CLEAR})
        self.assertEqual([c['case_id'] for c in env.list_cases(status='queued')][0],
                         a['case_id'], 'still first: an operator has not triaged it yet')
        self.assertStatus(older, 201)

    def test_refusals_leave_it_waiting(self):
        env = self.env
        a = self.unsure()
        path = '/v1/cases/%s/triage' % a['case_id']
        for label, body, code in (('empty', {}, 'missing_field'),
                                  ('unknown category', {'category': 'fire'}, 'invalid_field'),
                                  ('bad priority', {'category': 'threat', 'priority': 'P9'},
                                   'invalid_field')):
            with self.subTest(label):
                self.assertErrorBody(env.http('POST', path, body, token=env.operator_token), 400,
                                     code)
        self.assertErrorBody(self.triage('01JD0000000000000000000000', {'category': 'threat'}),
                             404, 'not_found')
        tok = env.team_tokens['all']
        self.assertErrorBody(self.triage(a['case_id'], {'category': 'threat'}, tok), 403,
                             'forbidden')
        view = env.case(a['case_id'])
        self.assertEqual((view['queue_reason'], view['category_suggested']),
                         ('needs_triage', 'other'))

    def test_classify_says_what_the_incident_would_get(self):
        env = self.env
        for text, unsure in ((NO_KEYWORD, True), (TWO_EMERGENCIES, True), (CLEAR, False)):
            with self.subTest(text):
                env.note_pii(text)
                r = env.http('POST', '/v1/classify', {'description': text},
                             token=env.operator_token)
                self.assertStatus(r, 200)
                self.assertIs(r.body['needs_triage'], unsure)
                self.assertEqual(sorted(r.body), ['category', 'category_label', 'confidence',
                                                  'needs_triage', 'priority'])
                a = env.post_incident(None, text)
                self.assertEqual((r.body['category'], r.body['priority']),
                                 (a['category'], a['priority']), 'as the incident is filed')
                self.assertEqual(a['queue_reason'] == 'needs_triage', unsure, a)
                if unsure:
                    self.assertEqual(r.body['priority'], 'P1')

    def test_the_same_call_id_twice_is_one_case(self):
        env = self.env
        body = env.incident_body(description=NO_KEYWORD)
        first = env.post_incident_raw(body)
        again = env.post_incident_raw(body)
        self.assertStatus(first, 201)
        self.assertStatus(again, 200)
        self.assertEqual(first.body['case_id'], again.body['case_id'])
        self.assertEqual(again.body['queue_reason'], 'needs_triage')
        self.assertEqual(again.body['category_suggested'], first.body['category_suggested'])
        self.assertEqual(len(env.redis.keys(env.prefix + 'case:*:timeline')), 1)
        self.assertEqual([c['case_id'] for c in env.list_cases(status='queued')],
                         [first.body['case_id']])

    def test_a_given_category_is_never_unsure(self):
        env = self.env
        other = env.post_incident('other', NO_KEYWORD)
        self.assertEqual((other['category'], other['category_suggested'], other['queue_reason']),
                         ('other', None, 'triage'))
        self.assertNotEqual(other['priority'], 'P1')
        threat = env.post_incident('threat', NO_KEYWORD)
        self.assertAssignedTo(threat, 'all')
        self.assertIsNone(threat['category_suggested'])
        clear = env.post_incident(None, CLEAR)
        self.assertEqual((clear['category'], clear['category_suggested']), ('detention', None))
        self.assertAssignedTo(clear, 'all')


class LineUnsureTest(LineTest):
    """An unsure free text offers every category; a clear one is confirmed in one tap."""

    env_options = KEYWORDS_ONLY

    def test_unsure_text_offers_every_category(self):
        for lang, text in (('th', NO_KEYWORD), ('th', TWO_EMERGENCIES),
                           ('en', 'Someone threatened me and locked me in')):
            with self.subTest(text):
                u = self.new_user(lang)
                self.env.note_pii(text)
                m = self.say(u.text(text))
                self.assertAsksCategory(m, lang, 'an unsure text')
                quick = postbacks(m, quick_only=True)
                for data in CATEGORY_POSTBACKS:
                    self.assertIn(data, quick, 'every category offered: %r' % quick)
                self.assertNotIn('ฟังดูเหมือน', visible_text(m))
                self.assertNotIn('It sounds like', visible_text(m))
                self.assertNotEchoed([m], [text])

    def test_clear_text_is_confirmed(self):
        u = self.new_user('th')
        text = 'ช่วยด้วย ถูกขังอยู่ในห้อง'
        self.env.note_pii(text)
        m = self.say(u.text(text))
        self.assertQuestion(m, 'confirm_detention', 'a clear text: one guess to confirm')
        self.assertIn('ฟังดูเหมือน', visible_text(m))


class ConsoleTriageTest(BrowserHelpers):
    """The queue shows the unsure case first, flagged, with its suggestion; one click (or Enter on
    the focused button) confirms it."""

    env_options = KEYWORDS_ONLY

    def test_confirm_from_the_queue_in_one_click(self):
        env = self.env
        env.put_team_at('all', 1.5, 40, ALL_SKILLS, capacity=10)
        older = env.post_incident_raw({'call_id': '1300-older', 'category': 'detention',
                                       'description': CLEAR})
        self.assertStatus(older, 201)
        a = env.post_incident(None, TWO_EMERGENCIES)
        self.assertEqual(a['queue_reason'], 'needs_triage')
        guess = a['category_suggested']
        b = self.open('needs-triage')
        self.login(b)
        wait_until(lambda: b.find_all('#queue-human tr.needs-triage'), message='the flagged row')
        rows = [r.get_attribute('data-case-id') for r in b.find_all('#queue-human tr[data-case-id]')]
        self.assertEqual(rows[:2], [a['case_id'], older.body['case_id']], 'first in the queue')
        row = '#queue-human tr[data-case-id="%s"]' % a['case_id']
        self.assertIn('ระบบไม่แน่ใจ', self.text_of(b, row))
        label = {'threat': 'ถูกข่มขู่', 'detention': 'ถูกกักขัง'}[guess]
        self.assertIn(label, self.text_of(b, row + ' td.triage'))
        b.screenshot('queue-needs-triage')
        # keyboard: the confirm button is the next Tab stop after the case's link
        from selenium.webdriver.common.keys import Keys
        b.driver.execute_script('document.querySelector(arguments[0]).focus()',
                                row + ' td.code a')
        self.keys(b, Keys.TAB)
        self.assertIn('confirm-triage', self.active(b).get_attribute('class'))
        button = b.find(row + ' button.confirm-triage')
        self.assertIn(label, button.get_attribute('aria-label'))
        button.click()
        wait_until(lambda: env.case(a['case_id'])['category_suggested'] is None,
                   message='the suggestion confirmed')
        view = env.case(a['case_id'])
        self.assertEqual((view['category'], view['status']), (guess, 'assigned'), view)
        self.assertEqual(view['team']['id'], 'all')
        wait_until(lambda: not b.find_all('#queue-human tr.needs-triage'),
                   message='the flag gone from the queue')
        wait_until(lambda: a['case_id'] in [r.get_attribute('data-case-id') for r in
                                            b.find_all('#queue-active tr[data-case-id]')],
                   message='the case among those in progress')
        b.screenshot('queue-triage-confirmed')

    def test_case_page_and_new_call_say_it_waits(self):
        env = self.env
        b = self.open('needs-triage-case')
        self.login(b)
        self.goto(b, 'new')
        self.wait_for(b, '#new-call')
        self.fill(b, 'description', NO_KEYWORD)
        wait_until(lambda: 'ไม่แน่ใจ' in self.text_of(b, '#suggest'),
                   message='the suggestion says it is unsure')
        b.find('#new-call button[type=submit]').click()
        self.wait_for(b, '#answer-outcome')
        outcome = self.text_of(b, '#answer-outcome')
        self.assertIn('ระบบไม่แน่ใจ', outcome)
        self.assertIn('คัดกรอง', outcome)
        b.screenshot('new-call-needs-triage')
        b.find('#answer-open').click()
        confirm = self.wait_for(b, '#act-triage-confirm', message='the confirm button')
        self.assertIn('ปัญหาสังคมอื่น', confirm.text)
        b.screenshot('case-needs-triage')
        case_id = b.current_url().rsplit('/', 1)[1]
        confirm.send_keys('\n')  # Enter on the focused button: the keyboard alone
        wait_until(lambda: env.case(case_id)['category_suggested'] is None,
                   message='confirmed from the case page')
        view = env.case(case_id)
        self.assertEqual((view['category'], view['queue_reason']), ('other', 'triage'))
        wait_until(lambda: not b.find('#act-triage-confirm').is_displayed(),
                   message='the confirm button gone')


if __name__ == '__main__':
    harness.main()
