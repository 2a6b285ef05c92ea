"""e-Tracking (DESIGN.md: GET /v1/track/{tracking_code}): public, no authentication, no personal
data; lenient input; a bad check character is refused without a lookup (400), an unknown code is
404."""

import json

import harness
from harness import PERSONAL_KEYS, RouterTest

POLICE_SW = ['police', 'social_worker']
PUBLIC_KEYS = {'tracking_code', 'category', 'category_label', 'status', 'updated_at', 'team',
               'timeline'}
LABELS_TH = {'threat': 'ถูกข่มขู่', 'detention': 'ถูกกักขัง', 'abuse_risk': 'เสี่ยงถูกล่วงละเมิด',
             'mental_crisis': 'ผู้คลุ้มคลั่ง', 'gathering': 'มั่วสุม'}


def all_keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from all_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from all_keys(v)


class TrackingTest(RouterTest):

    def assertPublicView(self, r, code):
        self.assertStatus(r, 200)
        self.assertJSON(r)
        view = r.body
        self.assertEqual(view['tracking_code'], code)
        for key in PUBLIC_KEYS:
            self.assertIn(key, view)
        self.assertTime(view['updated_at'])
        if view['team'] is not None:
            self.assertEqual(set(view['team']) - {'name', 'id'}, set(),
                             'the public team is its name: %r' % view['team'])
            self.assertIsInstance(view['team']['name'], str)
        for e in view['timeline']:
            self.assertEqual(set(e), {'status', 'at'}, 'public timeline entries: %r' % e)
            self.assertTime(e['at'])
        leaked = set(all_keys(view)) & PERSONAL_KEYS
        self.assertEqual(leaked, set(), 'personal-data keys in the public view: %r' % view)
        return view

    def assertNoPersonalData(self, r, values):
        text = r.raw.decode('utf-8')
        escaped = json.dumps(json.loads(text), ensure_ascii=True)
        for v in values:
            forms = {v} if not isinstance(v, float) else harness.coordinate_texts(v)
            for form in forms:
                if len(form) < 4:
                    continue
                self.assertNotIn(form, text, 'personal data %r in the public view: %s' % (v, text))
                self.assertNotIn(json.dumps(form)[1:-1], escaped, 'personal data %r (escaped)' % v)

    def test_public_view_has_no_personal_data(self):
        env = self.env
        tok = env.put_team_at('bkk-03', 2.3, 135, POLICE_SW, name='ทีมสหวิชาชีพ เขตพระนคร')
        a = env.post_incident('detention', 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ ชั้นสาม',
                              operator_id='op-55321', call_id='1300-20261121-000777')
        req = a['_request']
        self.assertStatus(env.ack(a['case_id'], tok), 200)
        note = 'พบผู้เสียหาย คุณ%s โทร %s' % (req['reporter']['name'], req['reporter']['phone'])
        self.assertStatus(env.set_status(a['case_id'], 'en_route', note=note, token=tok), 200)

        r = env.track(a['tracking_code'])
        view = self.assertPublicView(r, a['tracking_code'])
        self.assertEqual(view['category'], 'detention')
        self.assertEqual(view['category_label'], {'th': 'ถูกกักขัง', 'en': 'Detained'})
        self.assertEqual(view['status'], 'en_route')
        self.assertEqual(view['team']['name'], 'ทีมสหวิชาชีพ เขตพระนคร')
        self.assertEqual([e['status'] for e in view['timeline']],
                         ['received', 'assigned', 'acknowledged', 'en_route'])
        self.assertGreaterEqual(view['updated_at'], view['timeline'][-1]['at'])
        self.assertNoPersonalData(r, [req['description'], req['location']['address'],
                                      req['reporter']['name'], req['reporter']['phone'],
                                      req['location']['lat'], req['location']['lon'],
                                      'op-55321', note, '1300-20261121-000777'])
        self.assertNotIn('distance_km', r.raw.decode())

    def test_no_authentication_needed(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        r = env.http('GET', '/v1/track/' + a['tracking_code'])
        self.assertStatus(r, 200)
        r2 = env.http('GET', '/v1/track/' + a['tracking_code'], token='whatever')
        self.assertStatus(r2, 200, 'a stray Authorization header does not matter')

    def test_queued_case(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        view = self.assertPublicView(env.track(a['tracking_code']), a['tracking_code'])
        self.assertEqual(view['status'], 'queued')
        self.assertIsNone(view['team'])
        self.assertEqual(view['category'], 'threat')
        self.assertEqual(view['category_label']['th'], 'ถูกข่มขู่')

    def test_category_labels(self):
        env = self.env
        texts = {'threat': 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย',
                 'detention': 'มีคนถูกกักตัวไว้ในโกดังสินค้า',
                 'abuse_risk': 'มีผู้ชายแอบถ่ายและตามรังควานพนักงานสาว',
                 'mental_crisis': 'ชายคลุ้มคลั่งอาละวาดในตลาด',
                 'gathering': 'มีวงพนันและเสพยาในบ้านร้างท้ายซอย'}
        for category, text in texts.items():
            with self.subTest(category=category):
                a = env.post_incident(category, text)
                view = self.assertPublicView(env.track(a['tracking_code']), a['tracking_code'])
                self.assertEqual(view['category'], category)
                self.assertEqual(view['category_label']['th'], LABELS_TH[category])
                self.assertIsInstance(view['category_label']['en'], str)
                self.assertTrue(view['category_label']['en'])

    def test_lenient_input(self):
        env = self.env
        made = [env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย') for _ in range(4)]
        code = made[0]['tracking_code']
        variants = [code.lower(), code.replace('-', ''), code.lower().replace('-', ''),
                    code.replace('-', ' '), ' ' + code.lower() + ' ', code[:3] + code[3:].lower()]
        for v in variants:
            with self.subTest(variant=v):
                r = env.track(v)
                self.assertStatus(r, 200)
                self.assertEqual(r.body['tracking_code'], code, 'answers with the canonical code')
        # I and L read as 1, O as 0 (only testable on codes that hold a 0 or a 1)
        for m in made:
            c = m['tracking_code']
            body = c[3:]
            if '0' not in body and '1' not in body:
                continue
            for v in ('HM-' + body.replace('0', 'O').replace('1', 'I'),
                      ('hm' + body.replace('0', 'o').replace('1', 'l')).replace('-', '')):
                with self.subTest(variant=v):
                    r = env.track(v)
                    self.assertStatus(r, 200)
                    self.assertEqual(r.body['tracking_code'], c)

    def test_bad_check_character(self):
        env = self.env
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        code = a['tracking_code']
        wrong = [c for c in harness.CROCKFORD if c != code[-1]]
        for c in wrong[:4] + wrong[-2:]:
            bad = code[:-1] + c
            with self.subTest(code=bad):
                self.assertErrorBody(env.track(bad), 400, 'invalid_tracking_code')
        # a transposition of two neighbouring different characters is caught too
        body = code[3:].replace('-', '')
        for i in range(len(body) - 1):
            if body[i] != body[i + 1]:
                swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
                if harness.tracking_code_valid('HM-%s-%s-%s' % (swapped[0:3], swapped[3:6],
                                                                 swapped[6:9])):
                    continue
                with self.subTest(transposed=swapped):
                    self.assertErrorBody(env.track('HM' + swapped), 400, 'invalid_tracking_code')
                break
        self.assertErrorBody(env.track('HM-7K3-Q9X-TD4'), 400, 'invalid_tracking_code')

    def test_malformed_codes(self):
        env = self.env
        for bad in ('HM-7K3-Q9X', 'HM-7K3-Q9X-TD8-7', 'XX-7K3-Q9X-TD8', 'HM-7K3-Q9X-TDU',
                    'HM-7K3-Q9X-T*8', 'HM', '1', 'HM-7K3-Q9X-TD8' * 20, 'HM-๗K3-Q9X-TD8',
                    'HM-7K3-Q9X-TD8%00', 'HM-7K3-Q9X-TD8/../x'):
            with self.subTest(code=bad):
                path = '/v1/track/' + bad.replace(' ', '%20').replace('๗', '%E0%B9%97')
                r = env.http('GET', path)
                if '/' in bad[3:] or '%00' in bad:  # may already fail routing
                    self.assertErrorBody(r, (400, 404))
                else:
                    self.assertErrorBody(r, 400, 'invalid_tracking_code')
        self.assertErrorBody(env.http('GET', '/v1/track/'), (400, 404))

    def test_unknown_code(self):
        env = self.env
        env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        for _ in range(3):
            code = harness.make_tracking_code()
            with self.subTest(code=code):
                self.assertErrorBody(env.track(code), 404, 'not_found')
        self.assertErrorBody(env.track('HM-7K3-Q9X-TD8'), 404, 'not_found')

    def test_status_follows_case(self):
        env = self.env
        tok = env.put_team_at('t1', 1.5, 300, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        code = a['tracking_code']
        self.assertEqual(env.track(code).body['status'], 'assigned')
        self.assertStatus(env.ack(a['case_id'], tok), 200)
        seen = ['received', 'assigned', 'acknowledged']
        previous = env.track(code).body['updated_at']
        for status, who in (('en_route', tok), ('on_scene', tok),
                            ('resolved', env.operator_token), ('closed', env.operator_token)):
            self.assertStatus(env.set_status(a['case_id'], status, token=who), 200)
            seen.append(status)
            view = self.assertPublicView(env.track(code), code)
            self.assertEqual(view['status'], status)
            self.assertEqual([e['status'] for e in view['timeline']], seen)
            self.assertGreaterEqual(view['updated_at'], previous)
            previous = view['updated_at']


if __name__ == '__main__':
    harness.main()
