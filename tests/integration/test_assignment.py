"""Assignment (DESIGN.md "Storage", rule table): the nearest available team with every required
skill is claimed, the radius widens 5 -> 15 -> 50 km, capacity is respected, a child involved
prefers a child_protection team within one radius step, `other` is never dispatched."""

import harness
from harness import BKK, RouterTest, destination, haversine_km, wait_until

POLICE_SW = ['police', 'social_worker']


class AssignmentTest(RouterTest):

    def expected_km(self, answer, team_id):
        loc = answer['_request']['location']
        t = self.env.teams[team_id]
        return haversine_km(loc['lat'], loc['lon'], t['lat'], t['lon'])

    def test_nearest_team_chosen_then_next_nearest(self):
        env = self.env
        env.put_team_at('bkk-far', 8.0, 200, POLICE_SW)
        env.put_team_at('bkk-mid', 3.5, 70, POLICE_SW)
        env.put_team_at('bkk-near', 2.0, 310, POLICE_SW)
        env.put_team_at('cnx-01', 2.0, 10, POLICE_SW, origin=(18.7883, 98.9853))  # Chiang Mai

        a = env.post_incident('detention', 'พนักงานถูกขังไว้ในโกดังสินค้า')
        self.assertEqual(a['_status'], 201)
        self.assertEqual(a['category'], 'detention')
        self.assertEqual(a['priority'], 'P1')
        self.assertAssignedTo(a, 'bkk-near', self.expected_km(a, 'bkk-near'))
        self.assertEqual(a['team']['name'], env.teams['bkk-near']['name'])
        self.assertTrue(harness.tracking_code_valid(a['tracking_code']), a['tracking_code'])
        self.assertIsInstance(a['case_id'], str)
        self.assertTrue(a['case_id'])

        # capacity 1 each: the next incidents go to the next nearest, then wait in the queue
        b = env.post_incident('threat', 'มีคนถือมีดมาขู่หน้าบ้าน')
        self.assertAssignedTo(b, 'bkk-mid', self.expected_km(b, 'bkk-mid'))
        c = env.post_incident('abuse_risk', 'มีผู้ชายตามรังควานที่ป้ายรถเมล์ทุกวัน')
        self.assertAssignedTo(c, 'bkk-far', self.expected_km(c, 'bkk-far'))
        d = env.post_incident('gathering', 'มีวัยรุ่นมั่วสุมเสพยาในบ้านร้าง')
        self.assertQueued(d, 'every Bangkok team is full; Chiang Mai is 580 km away')
        ids = {x['case_id'] for x in (a, b, c, d)}
        codes = {x['tracking_code'] for x in (a, b, c, d)}
        self.assertEqual(len(ids), 4)
        self.assertEqual(len(codes), 4)

    def test_skills_respected(self):
        env = self.env
        env.put_team_at('sw-only', 1.0, 45, ['social_worker'])
        env.put_team_at('police-only', 1.5, 135, ['police'])
        env.put_team_at('mh-police', 10.0, 225, ['mental_health', 'police'])
        env.put_team_at('full-kit', 4.0, 315, ['police', 'social_worker', 'nurse'])

        a = env.post_incident('detention', 'เพื่อนบ้านถูกกักตัวไว้ในห้องเช่า')
        self.assertAssignedTo(a, 'full-kit', self.expected_km(a, 'full-kit'),
                              'nearer teams lack police or social_worker')
        b = env.post_incident('mental_crisis', 'ชายคลุ้มคลั่งอาละวาดทำลายข้าวของในตลาด')
        self.assertAssignedTo(b, 'mh-police', self.expected_km(b, 'mh-police'),
                              'mental_crisis needs mental_health and police')
        # nobody else has mental_health + police
        c = env.post_incident('mental_crisis', 'ผู้ป่วยจิตเวชอาละวาดถือไม้ไล่ตีคน')
        self.assertQueued(c)

    def test_radius_widens_to_30_km(self):
        env = self.env
        env.put_team_at('far-30', 30.0, 100, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'far-30', self.expected_km(a, 'far-30'))
        self.assertDistance(a['team']['distance_km'], 30.0, tol=0.2)

    def test_radius_widens_to_10_km(self):
        env = self.env
        env.put_team_at('mid-10', 10.0, 250, POLICE_SW)
        env.put_team_at('far-40', 40.0, 80, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'mid-10', self.expected_km(a, 'mid-10'))

    def test_beyond_widest_radius_is_queued(self):
        env = self.env
        env.put_team_at('far-80', 80.0, 30, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(a, 'the only team is 80 km away, the widest radius is 50 km')
        # the team was not claimed: an incident next to it gets it
        near = destination(env.teams['far-80']['lat'], env.teams['far-80']['lon'], 120, 1.0)
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย', origin=near)
        self.assertAssignedTo(b, 'far-80', self.expected_km(b, 'far-80'))
        self.assertEqual(env.case(a['case_id'])['status'], 'queued')

    def test_unavailable_team_is_skipped(self):
        env = self.env
        env.put_team_at('off-duty', 1.0, 60, POLICE_SW, available=False)
        env.put_team_at('on-duty', 6.0, 240, POLICE_SW)
        a = env.post_incident('detention', 'เด็กหญิงถูกขังในห้องใต้ดิน')
        self.assertAssignedTo(a, 'on-duty', self.expected_km(a, 'on-duty'))

    def test_heartbeat_moves_team(self):
        env = self.env
        env.put_team_at('mobile', 40.0, 10, POLICE_SW)
        lat, lon = destination(BKK[0], BKK[1], 160, 1.2)
        r = env.position('mobile', lat, lon)
        self.assertStatus(r, 200)
        env.teams['mobile'].update(lat=lat, lon=lon)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'mobile', self.expected_km(a, 'mobile'))
        self.assertLess(a['team']['distance_km'], 2.0)

    def test_heartbeat_unavailable_leaves_search(self):
        env = self.env
        env.put_team_at('t1', 1.0, 60, POLICE_SW)
        env.put_team_at('t2', 7.0, 200, POLICE_SW)
        r = env.position('t1', env.teams['t1']['lat'], env.teams['t1']['lon'], available=False)
        self.assertStatus(r, 200)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 't2', self.expected_km(a, 't2'))

    def test_capacity_three(self):
        env = self.env
        env.put_team_at('big', 2.0, 20, POLICE_SW, capacity=3)
        answers = [env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
                   for _ in range(4)]
        for a in answers[:3]:
            self.assertAssignedTo(a, 'big')
        self.assertQueued(answers[3], 'capacity 3 holds at most 3 active cases')

    def test_category_classified_from_description(self):
        env = self.env
        env.put_team_at('t1', 2.0, 60, POLICE_SW, capacity=5)
        for text in ('ลูกสาวถูกแฟนขังไว้ในห้อง', 'ถูกขังอยู่ในห้อง ช่วยด้วย'):
            a = env.post_incident(None, text)
            self.assertEqual(a['category'], 'detention', text)
            self.assertEqual(a['priority'], 'P1', text)
            self.assertAssignedTo(a, 't1', msg=text)

    def test_unclassifiable_description_is_other_and_queued(self):
        env = self.env
        env.put_team_at('t1', 1.0, 60, POLICE_SW + ['mental_health', 'child_protection'],
                        capacity=5)
        a = env.post_incident(None, 'อยากสอบถามเรื่องการต่อทะเบียนบ้านและค่าธรรมเนียม')
        self.assertEqual(a['category'], 'other')
        self.assertQueued(a, '`other` is never dispatched')

    def test_other_is_never_assigned(self):
        env = self.env
        skills = POLICE_SW + ['mental_health', 'child_protection']
        env.put_team_at('t1', 0.5, 60, skills, capacity=1, available=False)
        other = env.post_incident('other', 'ขอคำปรึกษาเรื่องหนี้สินครัวเรือน')
        self.assertQueued(other)
        self.assertEqual(other['category'], 'other')
        urgent = env.post_incident('detention', 'มีคนถูกขังไว้ในห้องน้ำปั๊มน้ำมัน')
        self.assertQueued(urgent, 'the only team is unavailable')

        # the team becomes available: the queue is drained, the detention case gets it
        r = env.position('t1', env.teams['t1']['lat'], env.teams['t1']['lon'], available=True)
        self.assertStatus(r, 200)
        wait_until(lambda: env.case(urgent['case_id'])['status'] == 'assigned',
                   message='the queued detention case assigned after the heartbeat')
        # a second team with every skill arrives: still nothing for `other`
        env.put_team_at('t2', 0.7, 200, skills, capacity=2)
        probe = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(probe, 't2')
        view = env.case(other['case_id'])
        self.assertEqual(view['status'], 'queued')
        self.assertIsNone(view.get('team'))
        queued = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertIn(other['case_id'], queued, "`other` waits in the operators' queue")

    def test_child_rule_prefers_child_protection_within_one_step(self):
        env = self.env
        env.put_team_at('plain', 1.0, 90, POLICE_SW)
        env.put_team_at('child', 4.0, 270, POLICE_SW + ['child_protection'])
        a = env.post_incident('detention', 'ลูกสาวถูกแฟนขังไว้ในห้อง')
        self.assertAssignedTo(a, 'child', self.expected_km(a, 'child'),
                              'a child_protection team 4 km away wins over a plain one 1 km away')

    def test_child_rule_english_word(self):
        env = self.env
        env.put_team_at('plain', 0.8, 90, POLICE_SW)
        env.put_team_at('child', 3.0, 270, POLICE_SW + ['child_protection'])
        a = env.post_incident('threat', 'A man keeps threatening the child next door')
        self.assertAssignedTo(a, 'child', self.expected_km(a, 'child'))
        self.assertEqual(a['priority'], 'P1', 'a child involved raises threat from P2')

    def test_child_rule_not_beyond_the_step(self):
        env = self.env
        env.put_team_at('plain', 1.0, 90, POLICE_SW)
        env.put_team_at('child', 8.0, 270, POLICE_SW + ['child_protection'])
        a = env.post_incident('detention', 'ลูกสาวถูกแฟนขังไว้ในห้อง')
        self.assertAssignedTo(a, 'plain', self.expected_km(a, 'plain'),
                              'the child_protection team is in the next radius step (8 km > 5 km)')

    def test_child_rule_is_a_preference_not_a_requirement(self):
        env = self.env
        env.put_team_at('plain', 2.0, 90, POLICE_SW)
        a = env.post_incident('threat', 'มีคนขู่จะทำร้ายลูกของฉันที่หน้าโรงเรียน')
        self.assertAssignedTo(a, 'plain', self.expected_km(a, 'plain'))

    def test_child_word_raises_priority(self):
        env = self.env
        env.put_team_at('t', 2.0, 90, POLICE_SW, capacity=10)
        adult = env.post_incident('threat', 'มีคนขู่จะทำร้ายฉันที่หน้าบ้าน')
        self.assertEqual(adult['priority'], 'P2', 'threat is P2 by default')
        for text in ('มีคนขู่จะทำร้ายลูกของฉันที่หน้าบ้าน', 'มีคนขู่ทำร้ายนักเรียนหน้าโรงเรียน',
                     'มีผู้ใหญ่ขู่ทำร้ายเด็กในซอย'):
            a = env.post_incident('threat', text)
            self.assertEqual(a['priority'], 'P1', text)

    def test_default_priorities(self):
        env = self.env
        cases = {'threat': ('P2', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'),
                 'detention': ('P1', 'มีคนถูกกักตัวไว้ในโกดัง'),
                 'abuse_risk': ('P1', 'มีผู้ชายแอบถ่ายและตามรังควานหญิงสาว'),
                 'mental_crisis': ('P1', 'ชายคลุ้มคลั่งอาละวาดในตลาด'),
                 'gathering': ('P3', 'มีวงพนันและเสพยาในบ้านร้างท้ายซอย')}
        for category, (priority, text) in cases.items():
            with self.subTest(category=category):
                a = env.post_incident(category, text)
                self.assertEqual(a['category'], category)
                self.assertEqual(a['priority'], priority)
                self.assertQueued(a, 'no team at all')


if __name__ == '__main__':
    harness.main()
