"""Issue 8, items 2 and 6: after the report, the reporter is still talking about it. While their
last case is open, a text is a reporter note on that case (the operators' timeline, never the
public view), the team is not dispatched again, the answer offers "New report", which starts one;
once the case is resolved, text starts a new report. Media messages are acknowledged and noted
("[image] id …")."""

import harness
from fake_line import LineTest, postbacks, tracking_codes

POLICE_SW = ['police', 'social_worker']
TEAMS = [('bkk-near', 2.0, 110, POLICE_SW, 'ทีมสหวิชาชีพ เขตพระนคร')]


class LineFollowUpTest(LineTest):

    def reporter_notes(self, code):
        case = self.case_by_code(code)
        return [e.get('note') for e in case['timeline'] if e.get('by') == 'reporter']

    def not_notes(self, code):
        case = self.case_by_code(code)
        return [(e.get('status'), e.get('at')) for e in case['timeline']
                if e.get('by') != 'reporter']

    def test_follow_up_text_media_new_report(self):
        env = self.env
        tokens = self.put_teams(TEAMS)
        u = self.new_user('th')
        place = self.new_place()
        code = self.report(u, 'detention', place, team_name='ทีมสหวิชาชีพ เขตพระนคร')
        case = self.case_by_code(code)
        before = self.not_notes(code)
        ncases = len(env.list_cases())

        words = 'เขากลับมาแล้ว ตะโกนเสียงดัง พวกเรากลัวมาก'
        env.note_pii(words)
        m = self.say(u.text(words))
        self.assertEqual(tracking_codes(m), [code], 'the answer names the open case: %r' % m)
        self.assertIn('newreport', postbacks(m, quick_only=True), 'a "New report" button')
        self.assertNotIn(words, str(m), 'the words are not echoed')
        self.assertEqual(self.reporter_notes(code), [words], 'the text is a reporter note')
        self.assertEqual(len(env.list_cases()), ncases, 'no new case')
        self.assertEqual(self.not_notes(code), before, 'the team is not dispatched again')
        r = env.http('GET', '/v1/track/%s' % code)
        self.assertNotIn(words, r.raw.decode('utf-8'), 'the note in the public view')

        # A status command still works while following.
        m = self.say(u.text('สถานะ'))
        self.assertEqual(tracking_codes(m), [code])
        self.assertEqual(self.reporter_notes(code), [words], '"status" is not a note')

        # An image: acknowledged, noted with LINE's message id.
        m = self.say(u.media('image', MESSAGE_ID='478012345678'))
        self.assertEqual(tracking_codes(m), [code], 'the image acknowledged: %r' % m)
        self.assertEqual(self.reporter_notes(code), [words, '[image] id 478012345678'])
        self.assertEqual(self.not_notes(code), before, 'the team is not dispatched again')

        # "New report": a new one begins; the open case hears no more.
        m = self.say(u.postback('newreport'))
        self.assertAsksCategory(m, 'th', '"New report"')
        self.assertEqual(len(self.reporter_notes(code)), 2)
        del case, tokens

    def test_resolved_case_then_text_starts_a_report(self):
        env = self.env
        tokens = self.put_teams(TEAMS)
        u = self.new_user('th')
        place = self.new_place()
        code = self.report(u, 'detention', place, team_name='ทีมสหวิชาชีพ เขตพระนคร')
        case = self.case_by_code(code)
        env.resolve(case['case_id'], tokens['bkk-near'])
        m = self.say(u.text('สวัสดีค่ะ'))
        self.assertAsksCategory(m, 'th', 'text after the case was resolved')
        timeline = env.case(case['case_id'])['timeline']
        self.assertEqual([e for e in timeline if e.get('by') == 'reporter'], [],
                         'no note on a resolved case')

    def test_media_without_a_case(self):
        u = self.new_user('th')
        for kind in ('image', 'video', 'audio', 'file'):
            m = self.say(u.media(kind))
            self.assertIn('ได้รับแล้วค่ะ', str(m), '%s acknowledged: %r' % (kind, m))
            self.assertAsksCategory(m, 'th', '%s with no case: what is happening?' % kind)


if __name__ == '__main__':
    harness.main()
