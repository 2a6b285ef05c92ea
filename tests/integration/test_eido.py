"""The EIDO export (DESIGN.md "The shared record"): GET /v1/cases/{id}/eido answers a NENA EIDO
(NENA-STA-021) that validates against NENA's JSON schema (eido_schema.py, the copy in
tests/fixtures/eido/), for an operator (everything) and for an agency of the case's category
(personal parts only when the agency is identifying and the case has consent, never once
erased); audited as export. GET /v1/feed?format=eido carries each entry's case as an EIDO."""

import copy
import json
import re
import secrets
import urllib.parse

import eido_schema
import harness
from harness import RouterTest
from test_line_chat import ChatHelpers

CATEGORIES = ('threat', 'detention', 'abuse_risk', 'mental_crisis', 'gathering', 'other')
SKILLS = ('social_worker', 'police', 'mental_health')


class EidoHelpers:
    """What the EIDO tests share (no tests of their own)."""

    def put_agency(self, agency_id, categories, identifying):
        r = self.env.http('PUT', '/v1/agencies/' + agency_id,
                          {'name': 'หน่วยงาน ' + agency_id, 'categories': list(categories),
                           'identifying': identifying}, token=self.env.admin_token)
        self.assertStatus(r, 201, 'put agency ' + agency_id)
        self.env.secrets.add(r.body['token'])
        return r.body['token']

    def eido(self, case_id, token):
        """The EIDO of the case as token's holder gets it; asserts it is a valid one."""
        r = self.env.http('GET', '/v1/cases/%s/eido' % urllib.parse.quote(case_id, safe=''),
                          token=token)
        self.assertStatus(r, 200, 'eido of ' + case_id)
        self.assertTrue(r.headers.get('content-type', '').startswith('application/json'), r)
        self.assertValidEido(r.body, case_id)
        return r.body

    def assertValidEido(self, doc, case_id):
        problems = eido_schema.errors(doc)
        self.assertEqual(problems, [], 'the EIDO of %s is not valid:\n%s\n%s' % (
            case_id, '\n'.join(problems[:20]), json.dumps(doc, ensure_ascii=False, indent=1)))
        self.assertEqual(doc['incidentComponent']['internalIncidentId'], case_id)

    def consent(self, case_id, share):
        r = self.env.http('POST', '/v1/cases/%s/consent' % case_id,
                          {'share_with_agencies': share, 'basis': 'consent'},
                          token=self.env.operator_token)
        self.assertStatus(r, 200, 'consent')

    def note(self, case_id, text):
        self.env.note_pii(text)
        r = self.env.http('POST', '/v1/cases/%s/notes' % case_id, {'text': text},
                          token=self.env.operator_token)
        self.assertStatus(r, 201, 'note')

    def position_of(self, doc):
        """(lat, lon) as text from the EIDO's PIDF-LO, or None without a location."""
        locs = doc.get('locationComponent') or []
        if not locs:
            return None
        m = re.search(r'<gml:pos>(\S+) (\S+)</gml:pos>', locs[0]['locationByValue'])
        self.assertTrue(m, locs[0]['locationByValue'])
        return m.group(1), m.group(2)

    def personal_values(self, case, notes=()):
        """The canary personal values of a case posted with env.post_incident."""
        req = case['_request']
        out = [req['description'], req['reporter']['name'], req['reporter']['phone'],
               req['location']['address']] + list(notes)
        for k in ('lat', 'lon'):
            out += sorted(harness.coordinate_texts(req['location'][k]))
        return out

    def assertNoPersonal(self, doc, case, notes=()):
        text = json.dumps(doc, ensure_ascii=False)
        for v in self.personal_values(case, notes):
            self.assertNotIn(v, text, 'a personal value in the EIDO of %s' % case['case_id'])
        for part in ('personComponent', 'callbackComponent'):
            self.assertNotIn(part, doc)
        pos = self.position_of(doc)
        if pos:
            for v in pos:
                self.assertRegex(v, r'^-?\d+\.\d\d$', 'rounded to 0.01 degree')

    def assertPerson(self, doc, case):
        req = case['_request']
        person = doc['personComponent'][0]
        self.assertEqual(person['personIncidentRoleRegistryText'], ['Caller'])
        self.assertEqual(person['ncPersonComponent']['name'][0]['personFullName'][0]['value'],
                         req['reporter']['name'])
        callback = doc['callbackComponent'][0]
        self.assertEqual(person['callBackReference']['$ref'], callback['$id'])
        self.assertEqual(callback['callBackInformationUri'],
                         ['tel:%s;phone-context=+66' % req['reporter']['phone']])
        lat, lon = self.position_of(doc)
        self.assertAlmostEqual(float(lat), req['location']['lat'], places=6)
        self.assertAlmostEqual(float(lon), req['location']['lon'], places=6)

    def audit_rows(self, actor_id):
        return self.env.audit_entries(actor_id=actor_id)


class EidoLineTest(EidoHelpers, ChatHelpers):

    def test_line_case(self):
        """A case reported in LINE (no name, no phone; the description the reporter wrote):
        a valid EIDO, channel line, no person, for an operator as for an identifying agency
        with consent."""
        env = self.env
        police = self.put_agency('police', ['detention'], True)
        user = self.new_user()
        case = self.ask_after_report(user)
        self.consent(case['case_id'], True)
        for token in (env.operator_token, police):
            doc = self.eido(case['case_id'], token)
            self.assertEqual(doc['callComponent'][0]['localCallType'], 'line')
            self.assertEqual(doc['incidentComponent']['incidentTypeInternalText'], 'detention')
            self.assertNotIn('personComponent', doc, 'a LINE reporter gives no name or phone')
            self.assertNotIn('callbackComponent', doc)
            self.assertNotIn(user.user_id, json.dumps(doc), 'never the LINE user id')


class EidoTest(EidoHelpers, RouterTest):

    def test_every_category_validates(self):
        env = self.env
        team_token = env.put_team_at('team-a', 1.0, 90, SKILLS, capacity=20)
        cases = {c: env.post_incident(category=c, description='เหตุ %s %s' % (
            c, secrets.token_hex(4))) for c in CATEGORIES}
        note = 'ผู้แจ้งบอกว่า <b>ประตู</b> & หน้าต่างล็อก %s' % secrets.token_hex(3)
        self.note(cases['threat']['case_id'], note)
        env.resolve(cases['detention']['case_id'], team_token)
        no_place = env.incident_body(category='threat', description='โทรมาไม่ทราบที่อยู่')
        del no_place['location']
        r = env.post_incident_raw(no_place)
        self.assertStatus(r, 201, 'an incident without a place')
        for category, case in cases.items():
            doc = self.eido(case['case_id'], env.operator_token)
            inc = doc['incidentComponent']
            self.assertEqual(inc['incidentTypeInternalText'], category)
            self.assertEqual(doc['eidoVersion'], '1.0')
            self.assertEqual(inc['incidentStatusInternalText'], [env.case(case['case_id'])['status']])
            self.assertEqual(inc['incidentPriorityInternalText'], case['priority'])
            self.assertPerson(doc, case)
            texts = [n['notesActionComments'] for n in doc['notesComponent']]
            self.assertIn(case['_request']['description'], texts, 'the report, for an operator')
        doc = self.eido(cases['threat']['case_id'], env.operator_token)
        texts = [n['notesActionComments'] for n in doc['notesComponent']]
        escaped = note.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
        self.assertIn(escaped, texts, 'the note, escaped for HTML5')
        self.assertEqual(doc['emergencyResourceComponent'][0]['primaryUnitStatusRegistryText'],
                         'Dispatched')
        self.assertEqual(doc['emergencyResourceComponent'][0]['emergencyResourceName'],
                         env.teams['team-a']['name'])
        self.assertEqual(doc['dispatchComponent'][0]['emergencyResourceReference'][0]['$ref'],
                         doc['emergencyResourceComponent'][0]['$id'])
        doc = self.eido(cases['detention']['case_id'], env.operator_token)
        self.assertEqual(doc['emergencyResourceComponent'][0]['primaryUnitStatusRegistryText'],
                         'Available')
        self.assertIn('Status: on_scene', [n['notesActionComments'] for n in doc['notesComponent']])
        doc = self.eido(cases['other']['case_id'], env.operator_token)
        self.assertNotIn('emergencyResourceComponent', doc, '"other" is not dispatched')
        doc = self.eido(r.body['case_id'], env.operator_token)
        self.assertNotIn('locationComponent', doc)
        exports = [d for d in self.audit_rows(harness.OPERATOR_IDS[0]) if d['action'] == 'export']
        self.assertEqual(len(exports), len(CATEGORIES) + 4, 'each export audited')
        self.assertEqual({d['actor_kind'] for d in exports}, {'operator'})

    def test_agencies_consent_and_erasure(self):
        env = self.env
        police = self.put_agency('police', ['threat'], True)
        dmh = self.put_agency('dmh', ['threat', 'mental_crisis'], False)
        youth = self.put_agency('youth', ['gathering'], True)
        case = env.post_incident(category='threat', description='ถูกขู่ที่ท่าน้ำ %s'
                                 % secrets.token_hex(4))
        cid = case['case_id']
        note = 'ผู้แจ้งขอให้โทรกลับหลังสองทุ่ม %s' % secrets.token_hex(3)
        self.note(cid, note)

        # no consent recorded: nobody but operators sees the person
        for token in (police, dmh):
            self.assertNoPersonal(self.eido(cid, token), case, [note])
        self.consent(cid, True)
        doc = self.eido(cid, police)
        self.assertPerson(doc, case)
        texts = [n['notesActionComments'] for n in doc['notesComponent']]
        self.assertIn(note, texts)
        self.assertIn(case['_request']['description'], texts)
        self.assertEqual(doc['locationComponent'][0]['locationDescriptionText'],
                         case['_request']['location']['address'])
        self.assertNoPersonal(self.eido(cid, dmh), case, [note])
        self.assertErrorBody(env.http('GET', '/v1/cases/%s/eido' % cid, token=youth), 403,
                             'forbidden')
        self.consent(cid, False)
        self.assertNoPersonal(self.eido(cid, police), case, [note])

        # erased: no one gets personal data, the document still validates
        self.consent(cid, True)
        self.assertStatus(env.set_status(cid, 'closed'), 200, 'close')
        sup = self.supervisor_token()
        r = env.http('DELETE', '/v1/cases/%s/personal-data' % cid, {'reason': 'ตามคำขอ'},
                     token=sup)
        self.assertStatus(r, 200, 'erase')
        for token in (police, dmh, env.operator_token, sup):
            self.assertNoPersonal(self.eido(cid, token), case, [note])

        rows = self.audit_rows('police')
        self.assertEqual({(d['action'], d['case_id'], d['outcome']) for d in rows},
                         {('export', cid, 'ok')})
        self.assertEqual(len(rows), 4, 'one export entry per request')
        self.assertEqual([(d['action'], d['outcome'], d['actor_kind']) for d in
                          self.audit_rows('youth')], [('export', 'forbidden', 'agency')])

    def test_refusals(self):
        env = self.env
        police = self.put_agency('police', ['threat'], True)
        team_token = env.put_team_at('team-a', 1.0, 90, SKILLS, capacity=5)
        case = env.post_incident(category='threat', description='ถูกข่มขู่ที่หน้าบ้าน')
        path = '/v1/cases/%s/eido' % case['case_id']
        self.assertErrorBody(env.http('GET', path), 401)
        self.assertErrorBody(env.http('GET', path, token='AG.' + 'x' * 43), 401)
        self.assertErrorBody(env.http('GET', path, token=env.admin_token), 403)
        self.assertErrorBody(env.http('GET', path, token=team_token), 403)
        self.assertErrorBody(env.http('GET', '/v1/cases/nosuchcase/eido', token=police), 404)
        self.assertErrorBody(env.http('GET', '/v1/cases/%2e%2e/eido', token=police), 404)
        self.assertErrorBody(env.http('POST', path, {}, token=police), (404, 405))
        r = env.http('PUT', '/v1/agencies/police', {'disabled': True}, token=env.admin_token)
        self.assertStatus(r, 200)
        self.assertErrorBody(env.http('GET', path, token=police), 401)

    def test_validator_rejects_broken_documents(self):
        """The validator can fail: NENA's own sample passes, broken variants of a real EIDO do
        not (a required member missing, a wrong type deep in a NIEM type, the quirk-written
        minItems)."""
        with open(eido_schema.DEFAULT_DIR + '/Samples/sample-call-transfer-eido.json') as f:
            self.assertEqual(eido_schema.errors(json.load(f)), [])
        env = self.env
        env.put_team_at('team-a', 1.0, 90, SKILLS, capacity=5)
        case = env.post_incident(category='threat', description='ถูกขู่ทางโทรศัพท์')
        good = self.eido(case['case_id'], env.operator_token)
        broken = []
        d = copy.deepcopy(good)
        del d['agencyComponent']
        broken.append(d)
        d = copy.deepcopy(good)
        d['incidentComponent']['incidentStatusInternalText'] = 'assigned'
        broken.append(d)
        d = copy.deepcopy(good)
        d['personComponent'][0]['ncPersonComponent']['name'][0]['personFullName'][0]['value'] = 7
        broken.append(d)
        d = copy.deepcopy(good)
        d['agentComponent'][0]['agentRoleRegistryText'] = []
        broken.append(d)
        d = copy.deepcopy(good)
        d['eidoVersion'] = '2.0'
        broken.append(d)
        for d in broken:
            self.assertNotEqual(eido_schema.errors(d), [], json.dumps(d, ensure_ascii=False))

    def supervisor_token(self):
        password = 'pw-' + secrets.token_urlsafe(12)
        self.env.secrets.add(password)
        r = self.env.http('PUT', '/v1/operators/sup-1',
                          {'name': 'หัวหน้าเวร', 'role': 'supervisor', 'password': password},
                          token=self.env.admin_token)
        self.assertStatus(r, 201, 'create the supervisor')
        self.env.secrets.add(r.body['token'])
        return r.body['token']


class EidoFeedTest(EidoHelpers, RouterTest):

    def feed(self, token, query):
        r = self.env.http('GET', '/v1/feed' + query, token=token)
        self.assertStatus(r, 200, 'feed' + query)
        return r.body['entries']

    def test_feed_entries_carry_eido(self):
        """GET /v1/feed?format=eido: every entry carries its case's EIDO as the agency may see
        it (valid; the person only for an identifying agency with consent); without format,
        none; another format is 400."""
        env = self.env
        police = self.put_agency('police', ['threat', 'detention'], True)
        dmh = self.put_agency('dmh', ['threat', 'detention'], False)
        team_token = env.put_team_at('team-a', 1.0, 90, SKILLS, capacity=5)
        shared = env.post_incident(category='threat', description='ถูกขู่ที่ลานจอดรถ %s'
                                   % secrets.token_hex(4))
        kept = env.post_incident(category='detention', description='ถูกขังในห้อง %s'
                                 % secrets.token_hex(4))
        note = 'ผู้แจ้งอยู่ชั้นสาม %s' % secrets.token_hex(3)
        self.note(shared['case_id'], note)
        self.consent(shared['case_id'], True)
        self.assertStatus(env.ack(kept['case_id'], team_token), 200, 'ack')
        self.assertErrorBody(env.http('GET', '/v1/feed?format=xml', token=police), 400,
                             'invalid_query')

        entries = self.feed(police, '?format=eido&count=1000')
        self.assertEqual({e['case_id'] for e in entries}, {shared['case_id'], kept['case_id']})
        for e in entries:
            self.assertNotIn('eido_case', e)
            self.assertValidEido(e['eido'], e['case_id'])
            if e['case_id'] == shared['case_id']:
                self.assertPerson(e['eido'], shared)
                self.assertIn(note, [n['notesActionComments']
                                     for n in e['eido']['notesComponent']])
            else:
                self.assertNoPersonal(e['eido'], kept)
                self.assertEqual(e['eido']['incidentComponent']['incidentStatusInternalText'],
                                 ['acknowledged'], 'the case now, not as the entry stood')
        entries = self.feed(dmh, '?format=eido&count=1000')
        self.assertTrue(entries)
        for e in entries:
            self.assertValidEido(e['eido'], e['case_id'])
            self.assertNoPersonal(e['eido'], shared if e['case_id'] == shared['case_id'] else kept,
                                  [note])
        self.assertEqual(env.audit_entries(actor_id='dmh', action='export'), [])
        self.assertEqual({d['case_id'] for d in env.audit_entries(actor_id='police',
                                                                  action='export')},
                         {shared['case_id']}, 'export: the case whose identifying data went')
        self.assertStatus(env.http('POST', '/v1/feed/ack', {'ids': [e['id'] for e in entries]},
                                   token=dmh), 200)
        env.post_incident(category='threat', description='ถูกขู่อีกครั้ง')
        for e in self.feed(dmh, '?count=1000'):
            self.assertNotIn('eido', e, 'no format: the entries as before')


if __name__ == '__main__':
    harness.main()
