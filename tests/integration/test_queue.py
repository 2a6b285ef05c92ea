"""The operators' queue (DESIGN.md: "queued when none is available within the widest radius (the
case is then retried as teams become available)"): a queued case is assigned when a team is
created, says it is available, or frees capacity; highest priority first, then oldest."""

import time

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']


class QueueTest(RouterTest):

    def wait_assigned(self, case_id, team_id, timeout=15.0):
        env = self.env

        def assigned():
            view = env.case(case_id)
            if view.get('status') == 'assigned' and (view.get('team') or {}).get('id') == team_id:
                return view
            return None
        return wait_until(assigned, timeout,
                          message='case %s assigned to %s' % (case_id, team_id))

    def test_new_team_drains_queue(self):
        env = self.env
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertQueued(a, 'no team exists yet')
        env.put_team_at('late', 2.0, 45, POLICE_SW)
        view = self.wait_assigned(a['case_id'], 'late')
        self.assertDistance(view['team']['distance_km'], harness.haversine_km(
            a['_request']['location']['lat'], a['_request']['location']['lon'],
            env.teams['late']['lat'], env.teams['late']['lon']))
        statuses = [e['status'] for e in harness.status_changes(view)]
        self.assertIn('queued', statuses)
        self.assertLess(statuses.index('queued'), len(statuses) - 1 - statuses[::-1].index('assigned'),
                        'queued comes before assigned: %r' % statuses)
        self.assertNotIn(a['case_id'], [c['case_id'] for c in env.list_cases(status='queued')])

    def test_heartbeat_available_drains_queue(self):
        env = self.env
        env.put_team_at('napping', 3.0, 100, POLICE_SW, available=False)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(a, 'the only team is unavailable')
        t = env.teams['napping']
        r = env.position('napping', t['lat'], t['lon'], available=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.body.get('team_id'), 'napping', repr(r))
        self.wait_assigned(a['case_id'], 'napping')

    def test_update_to_available_drains_queue(self):
        env = self.env
        env.put_team_at('napping', 3.0, 100, POLICE_SW, available=False)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(a)
        t = env.teams['napping']
        env.put_team('napping', t['lat'], t['lon'], POLICE_SW, available=True, expect=(200,))
        self.wait_assigned(a['case_id'], 'napping')

    def test_heartbeat_moving_into_range_drains_queue(self):
        env = self.env
        env.put_team_at('roamer', 90.0, 0, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(a, 'the only team is 90 km away')
        lat, lon = harness.destination(harness.BKK[0], harness.BKK[1], 20, 6.0)
        self.assertStatus(env.position('roamer', lat, lon), 200)
        self.wait_assigned(a['case_id'], 'roamer')

    def test_resolving_frees_capacity(self):
        env = self.env
        token = env.put_team_at('solo', 2.0, 300, POLICE_SW, capacity=1)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'solo')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(b, 'solo is full')
        env.resolve(a['case_id'], token)
        self.wait_assigned(b['case_id'], 'solo')

    def test_closing_frees_capacity(self):
        env = self.env
        token = env.put_team_at('solo', 2.0, 300, POLICE_SW, capacity=1)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'solo')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(b)
        env.resolve(a['case_id'], token)
        self.wait_assigned(b['case_id'], 'solo')
        self.assertStatus(env.set_status(a['case_id'], 'closed'), 200)
        # closing a resolved case does not free a second slot
        c = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(c, 'solo holds b; capacity 1')

    def test_queue_listing_and_drain_order(self):
        """Priority first (P1 before P2 before P3), then oldest first."""
        env = self.env
        token = env.put_team_at('solo', 2.0, 300, POLICE_SW, capacity=1, available=False)
        posted = [
            ('q1', 'gathering', 'P3', 'มีวงพนันและเสพยาในบ้านร้างท้ายซอย'),
            ('q2', 'detention', 'P1', 'มีคนถูกกักตัวไว้ในโกดังสินค้า'),
            ('q3', 'threat', 'P2', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'),
            ('q4', 'detention', 'P1', 'หญิงสาวถูกขังไว้ในห้องเช่า'),
            ('q5', 'abuse_risk', 'P1', 'มีผู้ชายแอบถ่ายและตามรังควานพนักงานสาว'),
        ]
        ids = {}
        for name, category, priority, text in posted:
            a = env.post_incident(category, text)
            time.sleep(0.003)  # distinct creation milliseconds: "oldest" is well defined
            self.assertQueued(a, name)
            self.assertEqual(a['priority'], priority, name)
            ids[name] = a['case_id']
        expected = ['q2', 'q4', 'q5', 'q3', 'q1']
        listed = [c['case_id'] for c in env.list_cases(status='queued')]
        self.assertEqual(listed, [ids[n] for n in expected],
                         'status=queued lists highest priority then oldest first')
        for c in env.list_cases(status='queued'):
            for key in ('case_id', 'tracking_code', 'category', 'priority', 'status',
                        'created_at', 'team'):
                self.assertIn(key, c)
            self.assertEqual(c['status'], 'queued')
            self.assertIsNone(c['team'])

        t = env.teams['solo']
        self.assertStatus(env.position('solo', t['lat'], t['lon'], available=True), 200)
        for i, name in enumerate(expected):
            self.wait_assigned(ids[name], 'solo')
            for other in expected[i + 1:]:
                self.assertEqual(env.case(ids[other])['status'], 'queued',
                                 '%s must wait while %s holds the only slot' % (other, name))
            env.resolve(ids[name], token)


if __name__ == '__main__':
    harness.main()
