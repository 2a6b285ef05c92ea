"""What the LINE bot says (issue 8, items 3, 4, 5 and 7), through the real daemon and Redis: the
safety numbers with the tracking code and in a suicide or mental-health context; the chat's own
wording of mental_crisis; the language kept on "555" or "ok"; status answers and postbacks that
never name the category; "cancel" with an open case keeping it open; "passed to" until the team
acknowledges; a case sent back to the queue telling its reporter once."""

import shutil
import tempfile

import harness
from fake_line import LineTest, quick_reply_actions, tracking_codes, visible_text

POLICE_SW = ['police', 'social_worker']
TEAM_TH = ('bkk-near', 1.0, 40, POLICE_SW, 'ทีมสหวิชาชีพ เขตพระนคร')
TEAM_EN = ('bkk-pol', 1.0, 40, POLICE_SW, 'Bang Rak Police Team')
NUMBERS = ('191', '1300', '1323')
# Every way a category can be named to the reporter: labels, chat labels, short forms.
CATEGORY_WORDS = ('ถูกกักขัง', 'Detained', 'ผู้คลุ้มคลั่ง', 'Mental-health crisis',
                  'ภาวะวิกฤตทางจิตใจ', 'Mental health crisis', 'ถูกข่มขู่', 'Threatened')


def display_texts(messages):
    """The displayText of every action: what LINE writes into the chat as the user's message."""
    return [a.get('displayText') for a in quick_reply_actions(messages) if a.get('displayText')]


class LineWordsTest(LineTest):

    def assertNumbers(self, messages, msg):
        text = visible_text(messages)
        for n in NUMBERS:
            self.assertIn(n, text, '%s: no %s in %r' % (msg, n, text))

    def assertNoCategory(self, messages, msg):
        text = visible_text(messages)
        for w in CATEGORY_WORDS:
            self.assertNotIn(w, text, '%s: names the category (%s): %r' % (msg, w, text))

    def assertNoCategoryShown(self, messages, msg):
        """No displayText names a category (the button's label may)."""
        for d in display_texts(messages):
            for w in CATEGORY_WORDS:
                self.assertNotIn(w, d, '%s: LINE would write %r into the chat' % (msg, d))

    def test_safety_lines(self):
        """Words of suicide bring the numbers at once, and the category is offered in the chat's
        own words; the created reply carries them too; a threat report mid-way does not."""
        u = self.new_user('th')
        m = self.say(u.text('ไม่อยากมีชีวิตอยู่แล้ว อยากฆ่าตัวตาย'))
        self.assertNumbers(m, 'the first answer to words of suicide')
        text = visible_text(m)
        self.assertIn('ภาวะวิกฤตทางจิตใจ', text, 'the chat label of mental_crisis')
        self.assertNotIn('ผู้คลุ้มคลั่ง', text, 'the operators\' label shown to the reporter')
        self.assertNoCategoryShown(m, 'the confirmation buttons')
        m = self.say(u.postback('cat=mental_crisis'))
        self.assertNumbers(m, 'the location question of a mental_crisis report')

        self.put_teams([TEAM_TH])
        v = self.new_user('th')
        m = self.say(v.text('สวัสดีค่ะ'))
        self.assertNotIn('1323', visible_text(m), 'numbers on a plain greeting')
        self.assertNoCategoryShown(m, 'the category buttons')
        m = self.say(v.postback('cat=detention'))
        self.assertNotIn('1323', visible_text(m), 'numbers mid-way through a detention report')
        m = self.say(v.location(*self.new_place()))
        self.assertEqual(len(tracking_codes(m)), 1, m)
        self.assertNumbers(m, 'the reply that carries the tracking code')
        # LINE takes five messages at most and shows the quick replies of the last one only:
        # the code and "passed to" first, the numbers before the question, the question last.
        texts = [x.get('text', '') for x in m]
        self.assertLessEqual(len(m), 5, m)
        self.assertIn(tracking_codes(m)[0], texts[0])
        self.assertIn('ส่งต่อเรื่องของคุณให้', texts[0])
        numbers = [i for i, t in enumerate(texts) if '1323' in t]
        self.assertTrue(numbers and numbers[0] < len(m) - 1, texts)
        self.assertIn('มีอะไรที่เราควรรู้เพิ่มไหม', texts[-1])
        self.assertEqual([i for i, x in enumerate(m) if 'quickReply' in x], [len(m) - 1],
                         'quick replies on the question alone')
        self.assertIn('skip', [a.get('data') for a in quick_reply_actions(m)])

    def test_language_stays(self):
        """Thai stays Thai on "555" and "ok"; an English sentence switches."""
        u = self.new_user('th')
        self.assertAsksCategory(self.say(u.text('สวัสดีค่ะ')), 'th')
        self.assertLang(self.say(u.text('555')), 'th', msg='after "555"')
        self.assertLang(self.say(u.text('ok')), 'th', msg='after "ok"')
        self.assertLang(self.say(u.text('help')), 'th', msg='after "help"')
        self.assertLang(self.say(u.text('Someone is locked in the next room')), 'en',
                        msg='after an English sentence')

    def test_status_and_cancel_with_open_case(self):
        """Status answers name no category; "cancel" with the case open keeps it open and offers
        a person; the created reply says "passed to" until the team acknowledges."""
        for lang, team in (('th', TEAM_TH), ('en', TEAM_EN)):
            with self.subTest(lang=lang):
                tokens = self.put_teams([team])
                u = self.new_user(lang)
                code = self.report(u, 'detention', self.new_place(), team_name=team[4])
                case = self.case_by_code(code)
                self.assertEqual(case['status'], 'assigned', case)
                created = [r for r in self.fake.replies() if code in visible_text(r.messages)]
                text = visible_text(created[0].messages)
                self.assertNotIn('on the way', text, 'on the way before the team accepted')
                self.assertNotIn('กำลังไปช่วย', text, 'on the way before the team accepted')
                m = self.say(u.text('สถานะ' if lang == 'th' else 'status'))
                self.assertIn(code, visible_text(m))
                self.assertNoCategory(m, 'the status answer')
                m = self.say(u.text(code))
                self.assertNoCategory(m, 'the answer to the code')

                m = self.say(u.text('ยกเลิก' if lang == 'th' else 'cancel'))
                text = visible_text(m)
                self.assertIn(code, text)
                self.assertIn('ยังเปิดอยู่' if lang == 'th' else 'stays open', text)
                self.assertNotIn('ยกเลิกการแจ้งเหตุแล้ว', text)
                self.assertNotIn('cancelled', text)
                talk = 'คุยกับเจ้าหน้าที่' if lang == 'th' else 'Talk to a person'
                self.assertIn({'type': 'message', 'label': talk, 'text': talk},
                              quick_reply_actions(m), 'the talk-to-a-person button')
                self.assertEqual(self.env.case(case['case_id'])['status'], 'assigned',
                                 'cancel changed the case')

                seen = len([r for r in self.fake.pushes() if r.to == u.user_id])
                self.assertStatus(self.env.ack(case['case_id'], tokens[team[0]]), 200, 'ack')
                pushes = self.fake.wait_for(
                    lambda reqs: [r for r in reqs if r.endpoint == 'push' and r.to == u.user_id]
                    if len([r for r in reqs if r.endpoint == 'push' and r.to == u.user_id]) > seen
                    else None, 10, 'the acknowledged push')
                self.assertIn('รับเรื่องแล้ว' if lang == 'th' else 'accepted your case',
                              visible_text(pushes[seen].messages))
                self.assertNoCategory(pushes[seen].messages, 'the acknowledged push')


    def test_cancel_at_anything_else(self):
        """"Cancel" once the location made the case (the bot asks "anything else?"): the case
        exists, so the answer says it stays open, never "report cancelled", and the case is
        unchanged; the words are not taken as a note."""
        for lang, team in (('th', TEAM_TH), ('en', TEAM_EN)):
            for how in ('text', 'button'):
                with self.subTest(lang=lang, how=how):
                    self.put_teams([team])
                    u = self.new_user(lang)
                    self.say(u.text('สวัสดีค่ะ' if lang == 'th' else 'Hi, I need to report something'))
                    self.say(u.postback('cat=detention'))
                    code = self.assertCreatedAsksMore(self.say(u.location(*self.new_place())),
                                                      lang)
                    case = self.case_by_code(code)
                    before = self.env.case(case['case_id'])
                    if how == 'text':
                        m = self.say(u.text('ยกเลิก' if lang == 'th' else 'cancel'))
                    else:
                        m = self.say(u.postback('cancel'))
                    text = visible_text(m)
                    self.assertIn(code, text)
                    self.assertIn('ยังเปิดอยู่' if lang == 'th' else 'stays open', text)
                    self.assertNotIn('ยกเลิกการแจ้งเหตุแล้ว', text)
                    self.assertNotIn('cancelled', text)
                    self.assertNoCategory(m, 'the answer to cancel')
                    full = self.env.case(case['case_id'])
                    self.assertEqual(full['status'], before['status'], 'cancel changed the case')
                    self.assertEqual(len(full['timeline']), len(before['timeline']),
                                     'cancel added to the case')
                    self.assertNotIn('note', [e.get('event') for e in full.get('timeline', [])],
                                     '"cancel" became a note')
                    m = self.say(u.text('สถานะ' if lang == 'th' else 'status'))
                    self.assertIn(code, visible_text(m), 'the case is still the last one')


class LineQueuedWordsTest(LineTest):
    """A team that does not acknowledge in time: the case goes back to the operators' queue and
    the reporter is told, once, that an operator is finding help."""

    def setUp(self):
        self.rules_dir = tempfile.mkdtemp(prefix='ess-rules-')
        self.addCleanup(shutil.rmtree, self.rules_dir, True)
        self.env_options = {'rules': harness.short_deadline_rules(self.rules_dir, 2, 1)}
        super().setUp()

    def test_escalation_told_once(self):
        env = self.env
        self.put_teams([TEAM_TH])
        u = self.new_user('th')
        code = self.report(u, 'detention', self.new_place(), team_name=TEAM_TH[4])
        case_id = self.case_by_code(code)['case_id']

        def mine():
            return [r for r in self.fake.pushes() if r.to == u.user_id]

        harness.wait_until(lambda: env.case(case_id)['status'] == 'queued', 15,
                           message='the unacknowledged case escalated')
        told = self.fake.wait_for(
            lambda reqs: [r for r in mine() if 'หาความช่วยเหลือ' in visible_text(r.messages)]
            or None, 10, 'the queued push')
        self.assertEqual(len(told), 1, told)
        text = visible_text(told[0].messages)
        self.assertIn(code, text)
        self.assertIn('เจ้าหน้าที่กำลังหาความช่วยเหลือให้คุณ', text)
        # Assigned again by an operator, and again not acknowledged: not told a second time.
        self.assertStatus(env.assign(case_id, TEAM_TH[0]), 200, 'assign again')
        harness.wait_until(lambda: env.case(case_id)['status'] == 'assigned', 10,
                           message='assigned again')
        harness.wait_until(lambda: env.case(case_id)['status'] == 'queued', 15,
                           message='escalated again')
        self.fake.quiet_for(1.0)
        told = [r for r in mine() if 'หาความช่วยเหลือ' in visible_text(r.messages)]
        self.assertEqual(len(told), 1, 'the reporter was told more than once: %r' % told)


class LinePublicUrlTest(LineTest):
    """With ESS_PUBLIC_URL set, the reply that gives the tracking code links to the e-Tracking
    page, in the conversation's language, within LINE's five messages; the link works."""

    env_options = {'extra_env': {'ESS_PUBLIC_URL': 'https://help.example.go.th/'}}

    def test_created_reply_links_to_the_page(self):
        for lang, team, words in (('th', TEAM_TH, 'ดูความคืบหน้าได้ที่ '),
                                  ('en', TEAM_EN, 'See how it is going: ')):
            with self.subTest(lang=lang):
                self.put_teams([team])
                u = self.new_user(lang)
                first = 'สวัสดีค่ะ' if lang == 'th' else 'Hi, I need to report something'
                self.say(u.text(first))
                self.say(u.postback('cat=detention'))
                m = self.say(u.location(*self.new_place()))
                code = tracking_codes(m)[0]
                self.assertLessEqual(len(m), 5, m)
                suffix = '?lang=en' if lang == 'en' else ''
                link = 'https://help.example.go.th/track/%s%s' % (code, suffix)
                self.assertIn(words + link, m[0].get('text', ''), 'the link in the first message')
                self.assertEqual(visible_text(m).count('/track/'), 1, 'one link')
                r = self.env.http('GET', '/track/%s%s' % (code, suffix))
                self.assertEqual(r.status, 200, 'the page the link names: %r' % r)
                self.assertIn(('<html lang="%s">' % lang).encode(), r.raw)


if __name__ == '__main__':
    harness.main()
