"""The OpenAPI document of the HTTP API (router/api/openapi.json, served at GET /openapi.json)
kept in step with the router: its paths and methods are the route table's (router/http/server.c),
both ways, with the same roles (x-roles) and body kinds; every documented route answers (with
fixtures: the admin, an operator, a supervisor, a team, an agency, a case), never as an unknown
route, with a status the document lists for it and a body its schema accepts; every example
validates against its schema (JSON Schema 2020-12, python3-jsonschema). Each checker is also shown
to fail on a document that is wrong."""

import copy
import json
import os
import re
import socket
import urllib.parse

import fake_line
import harness
from harness import RouterTest, SharedRouterTest
from test_line_handoff import HandoffHelpers

try:
    import jsonschema
except ImportError:  # a failure, not a skip: scripts/test installs python3-jsonschema
    jsonschema = None

DOC_PATH = os.path.join(harness.REPO_ROOT, 'router', 'api', 'openapi.json')
SERVER_C = os.path.join(harness.REPO_ROOT, 'router', 'http', 'server.c')
# The OpenAPI Initiative's JSON Schema of OpenAPI 3.1 documents (fixtures/openapi/README.md)
OAS_SCHEMA = os.path.join(harness.HERE, 'fixtures', 'openapi', 'oas-3.1-schema.json')

METHODS = ('get', 'put', 'post', 'delete', 'patch', 'head', 'options')
# server.c's role macros (a supervisor may all an operator may: OPERATOR includes it)
ROLE_MACROS = {'PUBLIC': set(), 'OPERATOR': {'operator', 'supervisor'},
               'SUPERVISOR': {'supervisor'}, 'TEAM': {'team'}, 'ADMIN': {'admin'},
               'AGENCY': {'agency'}}
UNKNOWN_ROUTE_MESSAGE = 'No such endpoint.'  # server.c's 404 for a path no route matches
LINE_SECRET = 'openapi-test-line-secret'
SUPERVISOR_ID = 'sup-openapi'
AGENCY_ID = 'ag-openapi'
TEAM_ID = 'bkk-03'  # the team the document's examples name


def load_doc():
    with open(DOC_PATH, encoding='utf-8') as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------
# The route table and the document's routes

def route_table(text=None):
    """server.c's routes: {(method, pattern): {"roles": set of role names (empty: public),
    "body": "BODY_NONE" | "BODY_JSON" | "BODY_SIGNED"}}, pattern as written ("v1/cases/*")."""
    if text is None:
        with open(SERVER_C, encoding='utf-8') as f:
            text = f.read()
    block = re.search(r'static const struct route routes\[\] = \{(.*?)\n\};', text, re.S)
    if block is None:
        raise AssertionError('server.c: the route table was not found')
    routes = {}
    for m in re.finditer(r'\{EVHTTP_REQ_(\w+),\s*"([^"]*)",\s*METRICS_ROUTE_\w+,\s*([A-Z_ |]+?),'
                         r'\s*(BODY_\w+),', block.group(1)):
        roles = set()
        for macro in m.group(3).split('|'):
            roles |= ROLE_MACROS[macro.strip()]
        routes[(m.group(1).lower(), m.group(2))] = {'roles': roles, 'body': m.group(4)}
    if not routes:
        raise AssertionError('server.c: no route parsed from the route table')
    return routes


def doc_pattern(path):
    """The route-table pattern of a documented path: "/v1/cases/{case_id}" -> "v1/cases/*" (a
    segment holding a parameter, as "{code}.json", is one "*"); a last parameter named path
    spans any depth: "/assets/{path}" -> "assets/**"."""
    segs = path.strip('/').split('/')
    out = []
    for i, s in enumerate(segs):
        if s == '{path}' and i == len(segs) - 1:
            out.append('**')
        elif '{' in s:
            out.append('*')
        else:
            out.append(s)
    return '/'.join(out)


def doc_operations(doc):
    """{(method, pattern): [(path, operation)...]} of the document. The pattern is the route
    table's that serves the path: x-route of the operation or of its path item when a route
    serves several documented paths (a file name matched by "*"), else doc_pattern(path)."""
    ops = {}
    for path, item in doc['paths'].items():
        for method, o in item.items():
            if method in METHODS:
                pattern = o.get('x-route') or item.get('x-route') or doc_pattern(path)
                ops.setdefault((method, pattern), []).append((path, o))
    return ops


def route_differences(table, doc):
    """Problems between the route table and the document, as sentences (none: in step)."""
    problems = []
    ops = doc_operations(doc)
    for key in sorted(set(table) - set(ops)):
        problems.append('the router serves %s /%s, the document lacks it' % (key[0].upper(),
                                                                              key[1]))
    for key in sorted(set(ops) - set(table)):
        for path, _ in ops[key]:
            problems.append('the document has %s %s, the router does not serve it'
                            % (key[0].upper(), path))
    for key in sorted(set(ops) & set(table)):
        for path, o in ops[key]:
            problems += operation_differences(key, table[key], path, o)
    return problems


def operation_differences(key, route, path, o):
    """How operation o of path differs from its route of the table (roles, body kind)."""
    problems = []
    where = '%s %s' % (key[0].upper(), path)
    want = route['roles'] or {'public'}
    got = set(o.get('x-roles') or ())
    if got != want:
        problems.append('%s: x-roles %s, the route table says %s'
                        % (where, sorted(got), sorted(want)))
    if (want == {'public'}) != (o.get('security') == [] or {} in o.get('security', [])):
        problems.append('%s: security does not say whether it is public' % where)
    body = route['body']
    has_body = 'requestBody' in o
    if (body != 'BODY_NONE') != has_body:
        problems.append('%s: the route table says %s, the document %s a request body'
                        % (where, body, 'has' if has_body else 'has no'))
    if body == 'BODY_JSON' and has_body and \
            'application/json' not in o['requestBody'].get('content', {}):
        problems.append('%s: a JSON body not documented as application/json' % where)
    if key[1].startswith('v1/') and not public_or_errors_documented(o):
        problems.append('%s: an API route without its error answers' % where)
    return problems


def public_or_errors_documented(o):
    return any(s.startswith(('4', '5')) for s in o.get('responses', {}))


# ---------------------------------------------------------------------------------------------
# Schemas

def validator(doc, schema):
    """A 2020-12 validator of schema whose "#/components/..." references resolve in doc."""
    root = dict(schema)
    root.setdefault('components', doc['components'])
    return jsonschema.Draft202012Validator(root)


def schema_errors(doc, schema, value):
    """The validation errors of value against schema, as sentences (none: valid)."""
    return ['%s at %s' % (e.message[:300], '/'.join(str(p) for p in e.absolute_path) or '(root)')
            for e in validator(doc, schema).iter_errors(value)]


def examples(doc):
    """Every (where, schema, example) of the document: media types, parameters, headers."""
    out = []

    def media(where, content):
        for ctype, m in (content or {}).items():
            if 'example' in m and 'schema' in m:
                out.append(('%s %s' % (where, ctype), m['schema'], m['example']))
            for name, ex in (m.get('examples') or {}).items():
                out.append(('%s %s %s' % (where, ctype, name), m.get('schema', {}), ex['value']))

    for path, item in doc['paths'].items():
        for method, o in item.items():
            if method not in METHODS:
                continue
            where = '%s %s' % (method.upper(), path)
            for p in o.get('parameters', []):
                if 'example' in p:
                    out.append(('%s parameter %s' % (where, p['name']), p['schema'], p['example']))
            if 'requestBody' in o:
                media(where + ' request', o['requestBody'].get('content'))
            for status, r in o.get('responses', {}).items():
                media('%s answer %s' % (where, status), r.get('content'))
                for name, h in (r.get('headers') or {}).items():
                    if 'example' in h:
                        out.append(('%s answer %s header %s' % (where, status, name),
                                    h['schema'], h['example']))
    return out


def example_problems(doc):
    problems = []
    for where, schema, ex in examples(doc):
        for e in schema_errors(doc, schema, ex):
            problems.append('%s: %s' % (where, e))
    return problems


def answer_problems(doc, o, r):
    """Why the answer r does not fit operation o of the document (none: it fits): its status
    is listed, it is not the router's unknown-route answer, its Content-Type is one the status
    documents, and a JSON body validates against that content's schema."""
    body = r.body
    if r.status == 404 and isinstance(body, dict) and \
            (body.get('error') or {}).get('message') == UNKNOWN_ROUTE_MESSAGE:
        return ['the router answered as for an unknown route: %r' % (r,)]
    if r.status == 405:
        return ['the router answered 405 (the method is not routed): %r' % (r,)]
    responses = o.get('responses', {})
    doc_r = responses.get(str(r.status)) or responses.get('default')
    if doc_r is None:
        return ['status %d is not listed (%s): %r' % (r.status, ', '.join(responses), r)]
    content = doc_r.get('content')
    if not content or not r.raw:
        return []
    ctype = r.headers.get('content-type', '')
    if ctype not in content:
        return ['Content-Type %r is not one documented for %d (%s)'
                % (ctype, r.status, ', '.join(content))]
    schema = content[ctype].get('schema')
    if schema is None or 'json' not in ctype:
        return []
    if not isinstance(body, (dict, list)):
        return ['a JSON answer that does not parse: %r' % (r,)]
    return ['%d: %s' % (r.status, e) for e in schema_errors(doc, schema, body)]


# ---------------------------------------------------------------------------------------------

class DocumentTest(RouterTest):
    """The document itself, the route table, and GET /openapi.json."""

    def setUp(self):
        if jsonschema is None:
            self.fail('python3-jsonschema is not installed (scripts/test installs it)')
        super().setUp()
        self.doc = load_doc()

    def test_served_as_kept(self):
        with open(DOC_PATH, 'rb') as f:
            kept = f.read()
        r = self.env.http('GET', '/openapi.json')
        self.assertStatus(r, 200)
        self.assertEqual(r.raw, kept, 'GET /openapi.json serves router/api/openapi.json')
        self.assertEqual(r.headers.get('content-type'), 'application/json; charset=utf-8')
        self.assertEqual(r.headers.get('cache-control'), 'no-cache')
        etag = r.headers.get('etag')
        self.assertTrue(etag, r.headers)
        r2 = self.env.http('GET', '/openapi.json', headers={'If-None-Match': etag})
        self.assertStatus(r2, 304)
        self.assertEqual(r2.raw, b'')
        self.assertEqual(self.doc['openapi'][:4], '3.1.')
        problems = answer_problems(self.doc, self.doc['paths']['/openapi.json']['get'], r)
        self.assertEqual(problems, [])

    def test_valid_openapi(self):
        """The document is an OpenAPI 3.1 document (the OpenAPI Initiative's schema), and one
        that breaks a rule of it is not."""
        with open(OAS_SCHEMA, encoding='utf-8') as f:
            oas = jsonschema.Draft202012Validator(json.load(f))
        self.assertEqual([e.message for e in oas.iter_errors(self.doc)], [])
        bad = copy.deepcopy(self.doc)
        bad['paths']['/healthz']['get']['responses']['200'].pop('description')
        bad['paths']['/healthz']['get']['x-roles'] = ['public']
        bad['paths']['/healthz']['get']['roles'] = ['public']
        self.assertEqual(len(list(oas.iter_errors(bad))), 2)

    def test_routes_in_step(self):
        table = route_table()
        self.assertGreaterEqual(len(table), 30, 'the route table parses')
        self.assertEqual(route_differences(table, self.doc), [])

    def test_route_check_can_fail(self):
        """A route the document lacks, one the router lacks, wrong roles, a body not said: each
        is reported."""
        table = route_table()
        self.assertEqual(route_differences(table, self.doc), [])
        doc = copy.deepcopy(self.doc)
        del doc['paths']['/v1/cases/{case_id}/notes']
        self.assertEqual(route_differences(table, doc),
                         ['the router serves POST /v1/cases/*/notes, the document lacks it'])
        doc = copy.deepcopy(self.doc)
        doc['paths']['/v1/cases/{case_id}/nothing'] = {'get': doc['paths']['/v1/cases']['get']}
        self.assertEqual(route_differences(table, doc),
                         ['the document has GET /v1/cases/{case_id}/nothing, the router does '
                          'not serve it'])
        doc = copy.deepcopy(self.doc)
        doc['paths']['/v1/teams']['get']['x-roles'] = ['operator', 'supervisor']
        self.assertEqual(len(route_differences(table, doc)), 1)
        doc = copy.deepcopy(self.doc)
        del doc['paths']['/v1/classify']['post']['requestBody']
        self.assertEqual(len(route_differences(table, doc)), 1)
        doc = copy.deepcopy(self.doc)
        doc['paths']['/v1/audit']['get']['x-route'] = 'v1/audit/*'
        self.assertEqual(route_differences(table, doc),
                         ['the router serves GET /v1/audit, the document lacks it',
                          'the document has GET /v1/audit, the router does not serve it'])
        self.assertEqual(doc_pattern('/open311/v2/requests/{code}.json'),
                         'open311/v2/requests/*')
        fake = dict(table)
        fake[('get', 'v1/brand-new')] = {'roles': {'operator'}, 'body': 'BODY_NONE'}
        self.assertEqual(route_differences(fake, self.doc),
                         ['the router serves GET /v1/brand-new, the document lacks it'])
        # the parser reads the table as server.c writes it
        text = ('static const struct route routes[] = {\n'
                '    {EVHTTP_REQ_PUT, "v1/things/*", METRICS_ROUTE_X, OPERATOR | TEAM, '
                'BODY_JSON,\n     things_put, API},\n};\n')
        self.assertEqual(route_table(text), {('put', 'v1/things/*'): {
            'roles': {'operator', 'supervisor', 'team'}, 'body': 'BODY_JSON'}})

    def test_schemas_and_examples(self):
        for name, schema in self.doc['components']['schemas'].items():
            with self.subTest(schema=name):
                jsonschema.Draft202012Validator.check_schema(schema)
        found = examples(self.doc)
        self.assertGreaterEqual(len(found), 40, 'the document has examples')
        requests = [w for w, _, _ in found if ' request ' in w]
        self.assertGreaterEqual(len(requests), 15, 'request examples')
        self.assertEqual(example_problems(self.doc), [])
        # every JSON body route has a request example, every 2xx JSON answer an example
        for path, item in self.doc['paths'].items():
            for method, o in item.items():
                rb = (o.get('requestBody') or {}).get('content', {})
                for ctype, m in rb.items():
                    self.assertIn('example', m, '%s %s request' % (method, path))
                for status, r in o['responses'].items():
                    for ctype, m in (r.get('content') or {}).items():
                        if status.startswith('2') and 'json' in ctype and \
                                '$ref' in m.get('schema', {}) and \
                                m['schema'] != {'$ref': '#/components/schemas/OpenAPI'}:
                            self.assertIn('example', m, '%s %s %s' % (method, path, status))

    def test_example_check_can_fail(self):
        doc = copy.deepcopy(self.doc)
        view = doc['paths']['/v1/cases/{case_id}']['get']['responses']['200']
        ex = view['content']['application/json; charset=utf-8']['example']
        del ex['status']
        ex['surprise'] = 1
        problems = example_problems(doc)
        self.assertEqual(len(problems), 2, problems)
        self.assertTrue(all(p.startswith('GET /v1/cases/{case_id} answer 200') for p in problems))
        doc = copy.deepcopy(self.doc)
        req = doc['paths']['/v1/cases/{case_id}/status']['post']['requestBody']
        req['content']['application/json']['example'] = {'status': 'flying'}
        self.assertEqual(len(example_problems(doc)), 1)

    def test_answer_check_can_fail(self):
        o = self.doc['paths']['/v1/cases/{case_id}']['get']
        hdr = {'content-type': 'application/json; charset=utf-8'}

        def resp(status, body, headers=hdr):
            return harness.Resp(status, headers, body, json.dumps(body).encode())

        ok = resp(404, {'error': {'code': 'not_found', 'message': 'No such case.'}})
        self.assertEqual(answer_problems(self.doc, o, ok), [])
        self.assertEqual(len(answer_problems(self.doc, o, resp(
            404, {'error': {'code': 'not_found', 'message': UNKNOWN_ROUTE_MESSAGE}}))), 1)
        self.assertEqual(len(answer_problems(self.doc, o, resp(
            404, {'error': {'code': 'no_such_code', 'message': 'x'}}))), 1, 'code not listed')
        self.assertEqual(len(answer_problems(self.doc, o, resp(418, {'x': 1}))), 1)
        self.assertEqual(len(answer_problems(self.doc, o, resp(
            404, {'error': {'code': 'not_found', 'message': 'x'}},
            {'content-type': 'text/html'}))), 1)
        self.assertEqual(len(answer_problems(self.doc, o, resp(200, {'case_id': 'x'}))) > 0,
                         True)
        # the unknown-route answer really is told apart: it is what the router answers
        r = self.env.http('GET', '/v1/no-such-route', token=self.env.operator_token)
        self.assertErrorBody(r, 404, 'not_found')
        self.assertEqual(r.body['error']['message'], UNKNOWN_ROUTE_MESSAGE)
        self.assertEqual(len(answer_problems(self.doc, o, r)), 1)


class LiveTest(SharedRouterTest):
    """Every documented route called, its answers checked against the document."""

    env_options = {'extra_env': {'LINE_CHANNEL_SECRET': LINE_SECRET,
                                 'LINE_CHANNEL_ACCESS_TOKEN': 'openapi-test-access-token',
                                 'LINE_API_BASE': 'http://127.0.0.1:9'}}

    @classmethod
    def prepare(cls):
        env = cls.env
        cls.doc = load_doc()
        env.put_team(TEAM_ID, harness.BKK[0] + 0.01, harness.BKK[1],
                     ['social_worker', 'police', 'mental_health'], capacity=3)
        cls.tokens = {'admin': env.admin_token, 'operator': env.operator_token,
                      'team': env.team_tokens[TEAM_ID]}
        r = env.http('PUT', '/v1/operators/' + SUPERVISOR_ID,
                     {'name': 'Supervisor', 'role': 'supervisor',
                      'password': 'openapi supervisor pass'}, token=env.admin_token)
        assert r.status == 201, r
        cls.tokens['supervisor'] = r.body['token']
        r = env.http('PUT', '/v1/agencies/' + AGENCY_ID,
                     {'name': 'Agency', 'categories': ['detention'], 'identifying': False},
                     token=env.admin_token)
        assert r.status == 201, r
        cls.tokens['agency'] = r.body['token']
        env.secrets |= set(cls.tokens.values())
        cls.case = env.post_incident(category='detention', description='ถูกขังไว้ในห้อง openapi')
        assert cls.case['status'] == 'assigned', cls.case

    def operations(self):
        for path, item in self.doc['paths'].items():
            for method, o in item.items():
                if method in METHODS:
                    yield path, method, o

    def fill(self, path):
        values = {'case_id': self.case['case_id'], 'team_id': TEAM_ID,
                  'tracking_code': self.case['tracking_code'], 'code': self.case['tracking_code'],
                  'operator_id': 'op-17', 'agency_id': 'dmh', 'service_code': 'threat',
                  'resource': 'nothing.json'}
        if path == '/assets/{path}':
            return '/assets/track.css'
        if path == '/console/{path}':
            return '/console/cases/' + self.case['case_id']
        if path.endswith('/{path}'):  # a prefix route: any depth
            return path[:-len('{path}')] + 'nothing/here'

        def one(m):
            return urllib.parse.quote(values[m.group(1)], safe='')
        return re.sub(r'\{(\w+)\}', one, path)

    def call(self, path, method, o, token=None, use_roles=True):
        """Calls the operation with its documented examples (path parameters from the
        fixtures); token: the first of x-roles' unless given."""
        url = self.fill(path)
        query = {p['name']: p['example'] for p in o.get('parameters', [])
                 if p['in'] == 'query' and 'example' in p}
        if query:
            url += '?' + urllib.parse.urlencode(query)
        if token is None and use_roles:
            role = next((x for x in o['x-roles'] if x in self.tokens), None)
            token = self.tokens.get(role)
        body, headers = None, {}
        content = (o.get('requestBody') or {}).get('content', {})
        if 'application/json' in content:
            body = json.dumps(content['application/json']['example'],
                              ensure_ascii=False).encode()
        if path == '/webhooks/line':
            headers['X-Line-Signature'] = fake_line.sign(LINE_SECRET, body)
        if path == '/v1/events':
            return self.stream_head(url, token)
        if method == 'post' and body is None:
            body = b''
        return self.env.http(method.upper(), url, body, headers=headers, token=token)

    def stream_head(self, url, token):
        """The status line and headers of a stream (GET /v1/events), then hangs up."""
        s = socket.create_connection(('127.0.0.1', self.env.router.port), timeout=20)
        try:
            req = 'GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n' % url
            if token:
                req += 'Authorization: Bearer %s\r\n' % token
            s.sendall((req + '\r\n').encode())
            data = b''
            while b'\r\n\r\n' not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head, _, rest = data.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(':')
            headers[k.strip().lower()] = v.strip()
        body = rest
        if status != 200 and 'json' in headers.get('content-type', ''):
            n = int(headers.get('content-length', len(rest)))
            body = json.loads(rest[:n])
            rest = rest[:n]
        return harness.Resp(status, headers, body, rest if status != 200 else b'')

    def test_every_route_with_its_role(self):
        seen = {}
        for path, method, o in self.operations():
            with self.subTest(route='%s %s' % (method.upper(), path)):
                r = self.call(path, method, o)
                seen['%s %s' % (method.upper(), path)] = r.status
                self.assertEqual(answer_problems(self.doc, o, r), [])
        self.assertEqual(len(seen), len(list(self.operations())))
        print('# answers: ' + json.dumps(seen))
        ok = [k for k, s in seen.items() if s < 300]
        self.assertGreaterEqual(len(ok), len(seen) * 2 // 3,
                                'most routes answer their success with the examples: %s' % seen)

    def test_without_token_and_with_another_role(self):
        others = {'operator': 'agency', 'supervisor': 'operator', 'team': 'agency',
                  'admin': 'operator', 'agency': 'team'}
        for path, method, o in self.operations():
            roles = o['x-roles']
            if roles == ['public']:
                continue
            with self.subTest(route='%s %s' % (method.upper(), path), token='none'):
                r = self.call(path, method, o, use_roles=False)
                self.assertErrorBody(r, 401, 'unauthorized')
                self.assertEqual(answer_problems(self.doc, o, r), [])
            outsider = next(others[x] for x in roles if others[x] not in roles)
            with self.subTest(route='%s %s' % (method.upper(), path), token=outsider):
                r = self.call(path, method, o, token=self.tokens[outsider])
                self.assertErrorBody(r, 403, 'forbidden')
                self.assertEqual(answer_problems(self.doc, o, r), [])

    def test_case_answers_fit(self):
        """A case view, a list, a summary, an erased supervisor's view, a public view, errors:
        live answers against their schemas."""
        env, doc = self.env, self.doc
        paths = doc['paths']
        fresh = env.post_incident(category='threat', description='ถูกข่มขู่ openapi')
        case_id = fresh['case_id']
        r = env.get_case(case_id)
        self.assertStatus(r, 200)
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}']['get'], r), [])
        r = env.http('GET', '/v1/cases?limit=5', token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertTrue(r.body['cases'])
        self.assertEqual(answer_problems(doc, paths['/v1/cases']['get'], r), [])
        r = env.http('GET', '/v1/cases?status=nope', token=env.operator_token)
        self.assertErrorBody(r, 400, 'invalid_query')
        self.assertEqual(answer_problems(doc, paths['/v1/cases']['get'], r), [])
        r = env.http('GET', '/v1/cases/01JD8Z6Q3V5R7K2M4N6P8Q0S2T', token=env.operator_token)
        self.assertErrorBody(r, 404, 'not_found')
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}']['get'], r), [])
        r = env.http('POST', '/v1/cases/%s/status' % case_id, b'{"status": "closed"',
                     token=env.operator_token)
        self.assertErrorBody(r, 400, 'invalid_json')
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}/status']['post'], r),
                         [])
        r = env.set_status(case_id, 'closed')
        self.assertStatus(r, 200)
        r = env.http('DELETE', '/v1/cases/%s/personal-data' % case_id,
                     {'reason': 'openapi test'}, token=self.tokens['supervisor'])
        self.assertStatus(r, 200)
        self.assertEqual(r.body['erase_reason'], 'openapi test')
        self.assertEqual(
            answer_problems(doc, paths['/v1/cases/{case_id}/personal-data']['delete'], r), [])
        r = env.http('GET', '/v1/track/' + fresh['tracking_code'])
        self.assertStatus(r, 200)
        self.assertEqual(answer_problems(doc, paths['/v1/track/{tracking_code}']['get'], r), [])
        r = env.http('GET', '/v1/track/HM-7K3-Q9X-TD4')
        self.assertErrorBody(r, 400, 'invalid_tracking_code')
        self.assertEqual(answer_problems(doc, paths['/v1/track/{tracking_code}']['get'], r), [])
        r = env.http('GET', '/v1/feed', token=self.tokens['agency'])
        self.assertStatus(r, 200)
        self.assertTrue(r.body['entries'], 'the agency sees the detention case')
        self.assertEqual(answer_problems(doc, paths['/v1/feed']['get'], r), [])
        env.post_incident(category='detention', description='ถูกขังไว้ openapi eido')
        r = env.http('GET', '/v1/feed?format=eido', token=self.tokens['agency'])
        self.assertStatus(r, 200)
        self.assertTrue(r.body['entries'] and all('eido' in e for e in r.body['entries']), r)
        self.assertEqual(answer_problems(doc, paths['/v1/feed']['get'], r), [])
        r = env.http('GET', '/v1/cases/%s/eido' % self.case['case_id'],
                     token=self.tokens['agency'])
        self.assertStatus(r, 200)
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}/eido']['get'], r), [])
        r = env.http('GET', '/v1/cases/%s/eido' % case_id, token=self.tokens['agency'])
        self.assertErrorBody(r, 403, 'forbidden', 'a threat case, not of its categories')
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}/eido']['get'], r), [])

    def test_lists_fit(self):
        """The audit log (with entries), the teams as the admin reads them (with notify), the
        operators and the agencies."""
        env, paths = self.env, self.doc['paths']
        env.get_case(self.case['case_id'])
        r = env.http('GET', '/v1/audit?case_id=' + self.case['case_id'],
                     token=self.tokens['supervisor'])
        self.assertStatus(r, 200)
        self.assertTrue(r.body['entries'], r)
        self.assertEqual(answer_problems(self.doc, paths['/v1/audit']['get'], r), [])
        r = env.http('GET', '/v1/teams', token=env.admin_token)
        self.assertStatus(r, 200)
        self.assertIn('notify', r.body['teams'][0])
        self.assertEqual(answer_problems(self.doc, paths['/v1/teams']['get'], r), [])
        for path in ('/v1/operators', '/v1/agencies'):
            r = env.http('GET', path, token=env.admin_token)
            self.assertStatus(r, 200)
            self.assertTrue(list(r.body.values())[0], r)
            self.assertEqual(answer_problems(self.doc, paths[path]['get'], r), [])

    def test_shared_record_answers_fit(self):
        """The shared record's routes, once the router serves them (the route check asks the
        document to have them then): a merge, the statistics with cases counted, Open311's
        lists and its errors in Open311's shape."""
        env, doc, paths = self.env, self.doc, self.doc['paths']
        table = route_table()
        checked = 0
        if ('post', 'v1/cases/*/merge') in table:
            first = env.post_incident(category='gathering', description='มั่วสุม openapi')
            second = env.post_incident(category='gathering', description='มั่วสุม openapi 2')
            r = env.http('POST', '/v1/cases/%s/merge' % second['case_id'],
                         {'into': first['case_id']}, token=env.operator_token)
            self.assertStatus(r, 200)
            o = paths['/v1/cases/{case_id}/merge']['post']
            self.assertEqual(answer_problems(doc, o, r), [])
            r = env.http('POST', '/v1/cases/%s/merge' % first['case_id'],
                         {'into': second['case_id']}, token=env.operator_token)
            self.assertErrorBody(r, 409, msg='into a case merged already')
            self.assertEqual(answer_problems(doc, o, r), [])
            checked += 1
        if ('get', 'v1/stats') in table:
            r = env.http('GET', '/v1/stats', token=self.tokens['supervisor'])
            self.assertStatus(r, 200)
            self.assertTrue(r.body['by_category'], r)
            self.assertEqual(answer_problems(doc, paths['/v1/stats']['get'], r), [])
            r = env.http('GET', '/v1/stats?from=2026-02-30', token=self.tokens['supervisor'])
            self.assertErrorBody(r, 400, 'invalid_query')
            self.assertEqual(answer_problems(doc, paths['/v1/stats']['get'], r), [])
            checked += 1
        if ('get', 'open311/v2/*') in table:
            r = env.http('GET', '/open311/v2/requests.json')
            self.assertStatus(r, 200)
            self.assertTrue(r.body, 'the fixtures\' cases are listed')
            o = paths['/open311/v2/requests.json']['get']
            self.assertEqual(answer_problems(doc, o, r), [])
            r = env.http('GET', '/open311/v2/requests.json?status=bogus')
            self.assertStatus(r, 400)
            self.assertEqual(answer_problems(doc, o, r), [])
            o = paths['/open311/v2/requests/{tracking_code}.json']['get']
            for code, status in ((self.case['tracking_code'], 200), ('HM-7K3-Q9X-TD4', 400),
                                 ('HM-7K3-Q9X-TD8', 404)):
                r = env.http('GET', '/open311/v2/requests/%s.json' % code)
                self.assertStatus(r, status)
                self.assertEqual(answer_problems(doc, o, r), [])
            r = env.http('GET', '/open311/v2/services.xml')
            self.assertStatus(r, 400)
            self.assertEqual(answer_problems(doc, paths['/open311/v2/{resource}']['get'], r), [])
            checked += 1
        print('# shared-record route groups checked: %d' % checked)

    def test_cookie_session(self):
        """A log-in's answer, and a cookie change without X-CSRF-Token: 403 csrf_failed."""
        env, paths = self.env, self.doc['paths']
        r = env.http('POST', '/v1/session', {'operator_id': SUPERVISOR_ID,
                                             'password': 'openapi supervisor pass'})
        self.assertStatus(r, 200)
        self.assertEqual(answer_problems(self.doc, paths['/v1/session']['post'], r), [])
        cookie = r.headers['set-cookie'].split(';')[0]
        r = env.http('POST', '/v1/cases/%s/notes' % self.case['case_id'], {'text': 'x'},
                     headers={'Cookie': cookie})
        self.assertErrorBody(r, 403, 'csrf_failed')
        self.assertEqual(answer_problems(self.doc, paths['/v1/cases/{case_id}/notes']['post'],
                                         r), [])


class ChatAnswersTest(HandoffHelpers):
    """A LINE reporter's chat with a person: the case view of a LINE case and every chat answer
    against the document."""

    def test_chat_answers_fit(self):
        if jsonschema is None:
            self.fail('python3-jsonschema is not installed (scripts/test installs it)')
        doc = load_doc()
        paths = doc['paths']
        user = self.new_user()
        case_id = self.ask_after_report(user)['case_id']
        r = self.env.get_case(case_id)
        self.assertIn('line_user_id', r.body['reporter'])
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}']['get'], r), [])
        r = self.take(case_id)
        self.assertStatus(r, 200)
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}/chat/take']['post'], r),
                         [])
        r = self.write(case_id, 'เจ้าหน้าที่อยู่ตรงนี้แล้ว openapi ' + secrets_hex())
        self.assertStatus(r, 201)
        self.assertEqual(
            answer_problems(doc, paths['/v1/cases/{case_id}/chat/messages']['post'], r), [])
        r = self.env.http('GET', path_chat(case_id, 'messages'), token=self.env.operator_token)
        self.assertStatus(r, 200)
        self.assertTrue(r.body['messages'])
        self.assertEqual(
            answer_problems(doc, paths['/v1/cases/{case_id}/chat/messages']['get'], r), [])
        r = self.close(case_id)
        self.assertStatus(r, 200)
        self.assertEqual(
            answer_problems(doc, paths['/v1/cases/{case_id}/chat/close']['post'], r), [])
        r = self.take(case_id)
        self.assertErrorBody(r, 409, 'no_chat')
        self.assertEqual(answer_problems(doc, paths['/v1/cases/{case_id}/chat/take']['post'], r),
                         [])


def secrets_hex():
    return os.urandom(4).hex()


def path_chat(case_id, what):
    return '/v1/cases/%s/chat/%s' % (urllib.parse.quote(case_id, safe=''), what)


if __name__ == '__main__':
    harness.main()
