"""The citizen's conversation with the LINE Official Account (DESIGN.md, "The LINE conversation"),
driven through the real daemon and Redis: whole reports in Thai and in English ending with a valid
tracking code in at most five taps, the case routed to the nearest suitable team like a hotline
case; free text that pre-selects the category; a location sent first; cancelling; the follow
greeting; asking the status by keyword or by typing the code. Replies never echo the description
or the address."""

import json
import secrets

import harness
import fake_line
from fake_line import LineTest, postbacks, tracking_codes, visible_text

POLICE_SW = ['police', 'social_worker']
MH_POLICE = ['mental_health', 'police']

TEAMS_TH = [('bkk-sw', 0.7, 20, ['social_worker'], 'ทีมสังคมสงเคราะห์ บางรัก'),
            ('bkk-near', 2.0, 110, POLICE_SW, 'ทีมสหวิชาชีพ เขตพระนคร'),
            ('bkk-far', 5.5, 250, POLICE_SW, 'ทีมสหวิชาชีพ เขตดุสิต')]
TEAMS_EN = [('bkk-pol', 0.9, 30, POLICE_SW, 'Bang Rak Police Team'),
            ('bkk-mh', 2.5, 140, MH_POLICE, 'Bang Rak Crisis Team'),
            ('bkk-mh-far', 7.0, 300, MH_POLICE, 'Dusit Crisis Team')]


class LineConversationTest(LineTest):

    def assertPublicTrack(self, code, category, status, user):
        r = self.env.track(code)
        self.assertStatus(r, 200, 'GET /v1/track/%s' % code)
        self.assertEqual(r.body.get('tracking_code'), code)
        self.assertEqual(r.body.get('category'), category)
        self.assertEqual(r.body.get('status'), status)
        self.assertNotIn(user.user_id, r.raw.decode('utf-8'), 'the LINE user id in the public view')

    def test_thai_conversation(self):
        """สวัสดีค่ะ → ถูกกักขัง → location → skip: a code, the nearest team with police and a
        social worker (not the nearer one without police), the case on the LINE channel."""
        env = self.env
        self.put_teams(TEAMS_TH)
        u = self.new_user('th')
        place = self.new_place()
        code = self.report(u, 'detention', place, team_name='ทีมสหวิชาชีพ เขตพระนคร')
        self.assertPublicTrack(code, 'detention', 'assigned', u)
        case = self.case_by_code(code)
        self.assertEqual(case['channel'], 'line')
        self.assertEqual(case['category'], 'detention')
        self.assertAlmostEqual(case['location']['lat'], place[0], places=6)
        self.assertAlmostEqual(case['location']['lon'], place[1], places=6)
        self.assertEqual(case['location'].get('address'), place[2])
        self.assertRouted(case, 'bkk-near', place)
        self.assertEqual([e['status'] for e in case['timeline']][:2], ['received', 'assigned'])
        self.assertNotEchoed(self.fake.requests(), [place[2]], 'Thai conversation')
        self.assertEqual(len(env.list_cases()), 1)

    def test_english_conversation(self):
        """An English first message: every question and the code in English; the sentence
        typed after the code ("anything else?") is a note on the case's timeline by the
        reporter, for operators only, never sent back nor public."""
        self.put_teams(TEAMS_EN)
        u = self.new_user('en')
        place = self.new_place()
        details = 'My brother has not slept for days, he is on the balcony rail of unit %s' \
                  % secrets.token_hex(3)
        code = self.report(u, 'mental_crisis', place, details=details,
                           team_name='Bang Rak Crisis Team')
        self.assertPublicTrack(code, 'mental_crisis', 'assigned', u)
        case = self.case_by_code(code)
        self.assertEqual(case['channel'], 'line')
        self.assertEqual(case['category'], 'mental_crisis')
        notes = [e for e in case['timeline'] if e.get('by') == 'reporter']
        self.assertEqual([e.get('note') for e in notes], [details],
                         'the sentence is a reporter note on the timeline: %r' % case['timeline'])
        self.assertRouted(case, 'bkk-mh', place)
        r = self.env.http('GET', '/v1/track/%s' % code)
        self.assertNotIn(details, r.raw.decode('utf-8'), 'the note in the public view')
        self.assertNotIn('reporter', r.raw.decode('utf-8'), 'the note in the public view')
        self.assertNotEchoed(self.fake.requests(), [details, place[2]], 'English conversation')

    def test_free_text_preselects_category(self):
        """A first message naming an emergency is confirmed with one tap (a cat=detention
        button) and kept as the report: four taps in all, the story told once."""
        self.put_teams(TEAMS_TH)
        u = self.new_user('th')
        story = 'ช่วยด้วย ถูกขังอยู่ในห้อง'
        self.env.note_pii(story)
        m = self.say(u.text(story))
        self.assertQuestion(m, 'confirm_detention', 'one-tap confirmation of the free text')
        self.assertEqual(tracking_codes(m), [])
        self.assertLang(m, 'th', msg='the confirmation')
        self.assertAsksLocation(self.say(u.postback('cat=detention')), 'th')
        place = self.new_place()
        code = self.assertCreatedAsksMore(self.say(u.location(*place)), 'th',
                                          team_name='ทีมสหวิชาชีพ เขตพระนคร')
        self.assertEqual(tracking_codes(self.say(u.postback('skip'))), [code])
        case = self.case_by_code(code)
        self.assertEqual(case['category'], 'detention')
        self.assertIn('ถูกขังอยู่ในห้อง', case.get('description') or '',
                      'the first message is the report: the citizen must not tell it twice')
        self.assertRouted(case, 'bkk-near', place)
        self.assertNotEchoed(self.fake.requests(), [story, 'ถูกขังอยู่ในห้อง', place[2]])

        en = self.new_user('en')
        story_en = 'Please help, my landlord locked me in the storeroom'
        self.env.note_pii(story_en)
        m = self.say(en.text(story_en))
        self.assertQuestion(m, 'confirm_detention', 'English free text')
        self.assertLang(m, 'en', msg='the English confirmation')
        self.assertNotEchoed([m], [story_en, 'storeroom'])

    def test_location_first(self):
        """A location sent before anything else is kept: the category is asked next, which
        creates the case at once (the location is not asked again), and the case has that
        location."""
        self.put_teams(TEAMS_TH)
        u = self.new_user('th')
        place = self.new_place()
        self.assertAsksCategory(self.say(u.location(*place)), 'th', 'reply to a first location')
        code = self.assertCreatedAsksMore(self.say(u.postback('cat=threat')), 'th',
                                          team_name='ทีมสหวิชาชีพ เขตพระนคร',
                                          msg='category after the location (not asked again)')
        case = self.case_by_code(code)
        self.assertEqual(case['category'], 'threat')
        self.assertAlmostEqual(case['location']['lat'], place[0], places=6)
        self.assertAlmostEqual(case['location']['lon'], place[1], places=6)
        self.assertEqual(case['location'].get('address'), place[2])
        self.assertRouted(case, 'bkk-near', place)
        self.assertNotEchoed(self.fake.requests(), [place[2]])

    def test_cancel(self):
        """ยกเลิก / cancel (typed, or the cancel postback) drops the half-finished report: no
        case, and what follows starts a new one."""
        env = self.env
        with self.subTest('typed ยกเลิก at the location step'):
            u = self.new_user('th')
            self.say(u.text('สวัสดีค่ะ'))
            self.assertAsksLocation(self.say(u.postback('cat=threat')), 'th')
            m = self.say(u.text('ยกเลิก'))
            self.assertEqual(tracking_codes(m), [])
            self.assertFalse(fake_line.has_location_action(m), 'still asks the location: %r' % m)
            self.assertLang(m, 'th', msg='cancelled')
            place = self.new_place()
            self.assertAsksCategory(self.say(u.location(*place)), 'th',
                                    'a location after cancelling starts a new report')
        with self.subTest('cancel postback at the typed-address step'):
            u = self.new_user('th')
            self.say(u.text('สวัสดีค่ะ'))
            self.say(u.postback('cat=gathering'))
            self.say(u.postback('address'))
            m = self.say(u.postback('cancel'))
            self.assertEqual(tracking_codes(m), [])
            sentence = 'บ้านสีฟ้าหลังที่สาม ซอย %s' % secrets.token_hex(3)
            env.note_pii(sentence)
            self.assertAsksCategory(self.say(u.text(sentence)), 'th',
                                    'a sentence after cancelling does not create a case')
        with self.subTest('typed cancel in English'):
            u = self.new_user('en')
            self.assertAsksCategory(self.say(u.text('Hi, I need to report something')), 'en')
            self.say(u.postback('cat=abuse_risk'))
            m = self.say(u.text('cancel'))
            self.assertEqual(tracking_codes(m), [])
            self.assertLang(m, 'en', msg='cancelled in English')
            # (a location says nothing about language: either is right here)
            self.assertAsksCategory(self.say(u.location(*self.new_place())), None)
        self.assertEqual(env.list_cases(), [], 'a cancelled report created a case')

    def test_follow_greeting(self):
        """Adding the account: a greeting with a report button; tapping it asks the category."""
        u = self.new_user('th')
        m = self.say(u.follow())
        self.assertQuestion(m, 'greeting', 'the follow greeting')
        self.assertEqual(tracking_codes(m), [])
        self.assertLang(m, 'th', msg='the greeting')
        self.assertAsksCategory(self.say(u.postback('report')), 'th', 'after tapping report')

    def test_longest_line_text_answered(self):
        """LINE lets a text message hold 5000 characters (15000 bytes in Thai): such a message
        is a message like any other, answered as a first message and, after the case, added to
        it as the reporter's note (at most shortened), never silently dropped."""
        long_th = ('มีเสียงผู้หญิงร้องขอให้ช่วยจากบ้านหลังที่สามทุกคืน ' * 120)[:5000]
        self.assertEqual(len(long_th), 5000)
        self.env.note_pii(long_th)
        with self.subTest('first message'):
            u = self.new_user('th')
            m = self.say(u.text(long_th))
            self.assertLang(m, 'th', msg='reply to a 5000-character first message')
        with self.subTest('details'):
            u = self.new_user('th')
            self.say(u.text('สวัสดีค่ะ'))
            self.say(u.postback('cat=threat'))
            place = self.new_place()
            code = self.assertCreatedAsksMore(self.say(u.location(*place)), 'th')
            self.assertLang(self.say(u.text(long_th)), 'th',
                            msg='reply to 5000 characters of details')
            case = self.case_by_code(code)
            notes = [e.get('note') or '' for e in case['timeline'] if e.get('by') == 'reporter']
            self.assertTrue(len(notes) == 1 and notes[0].startswith(long_th[:300]),
                            'the note is the text sent: %r' % [n[:40] for n in notes])

    def test_location_without_address(self):
        """LINE's location message may carry no address (nor title): the report goes on and the
        case has the coordinates."""
        u = self.new_user('th')
        lat, lon, _ = self.new_place()
        self.say(u.text('สวัสดีค่ะ'))
        self.say(u.postback('cat=threat'))
        ev = u.location(lat, lon, '')
        loc = json.loads(ev.json)
        del loc['message']['address'], loc['message']['title']
        ev.json = json.dumps(loc, ensure_ascii=False, separators=(',', ':'))
        code = self.assertCreatedAsksMore(self.say(ev), 'th', msg='after a location without address')
        case = self.case_by_code(code)
        self.assertAlmostEqual(case['location']['lat'], lat, places=6)
        self.assertAlmostEqual(case['location']['lon'], lon, places=6)

    def test_status_by_keyword_and_by_code(self):
        """สถานะ gives the reporter's case status (and follows it as it moves); anyone typing the
        code, in any case and spacing, gets it too; nothing personal is said."""
        env = self.env
        tokens = self.put_teams(TEAMS_TH)
        u = self.new_user('th')
        place = self.new_place()
        code = self.report(u, 'detention', place, team_name='ทีมสหวิชาชีพ เขตพระนคร')
        case = self.case_by_code(code)

        first = self.say(u.text('สถานะ'))
        self.assertIn(code, visible_text(first), 'the status reply names the case')
        self.assertFalse(set(postbacks(first)) & set(fake_line.CATEGORY_POSTBACKS),
                         'สถานะ started a new report: %r' % first)
        self.assertLang(first, 'th', allowed=('ทีมสหวิชาชีพ เขตพระนคร',), msg='status')

        self.assertStatus(env.ack(case['case_id'], tokens['bkk-near']), 200)
        self.assertStatus(env.set_status(case['case_id'], 'en_route', token=tokens['bkk-near']),
                          200)
        later = self.say(u.text('สถานะ'))
        self.assertIn(code, visible_text(later))
        self.assertNotEqual(visible_text(later), visible_text(first),
                            'the status reply did not change after acknowledged and en_route')

        m = self.say(u.text('status'))
        self.assertIn(code, visible_text(m), '"status" in English')

        other = self.new_user('th')
        m = self.say(other.text(code))
        self.assertIn(code, visible_text(m), 'someone typing the code')
        self.assertFalse(set(postbacks(m)) & set(fake_line.CATEGORY_POSTBACKS), m)
        typed = code.lower().replace('-', ' ')
        m = self.say(self.new_user('th').text(typed))
        self.assertIn(code, visible_text(m), 'the code typed as %r' % typed)

        self.assertNotEchoed(self.fake.requests(), [place[2]])
        self.assertEqual(len(env.list_cases()), 1, 'asking the status created a case')


if __name__ == '__main__':
    harness.main()
