"""Validates EIDO documents against NENA's EIDO JSON schema (NENA-STA-021, the copy vendored in
tests/fixtures/eido/, or the folder ESS_EIDO_SCHEMA_DIR names): the type
components.schemas.EmergencyIncidentDataObjectType of Schema/openapi.yaml, with the $refs between
its YAML files resolved.

The files stay as NENA published them; two of their quirks are tolerated while loading:
numeric keywords written with a trailing comma (`minItems: 1,`, which YAML reads as the string
"1,") are read as numbers, and a reference with a doubled slash (`NIEMComponents//j.yaml`) is
normalised. The YAML files are gathered into one schema whose references are all local
(`#/$defs/<file>/...`), so that any python3-jsonschema (Debian 12's 4.10 as well as later ones)
validates it the same way, with no resolver of its own.

    errors(doc) -> [sentence, ...]   ([] when doc is a valid EIDO)
"""

import os
import posixpath
import re

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, '..', 'fixtures', 'eido')
ROOT_FILE = 'openapi.yaml'
ROOT_TYPE = '/components/schemas/EmergencyIncidentDataObjectType'
NUMERIC_KEYWORDS = {'minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum',
                    'minProperties', 'maxProperties', 'multipleOf', 'exclusiveMinimum',
                    'exclusiveMaximum'}
TRAILING_COMMA = re.compile(r'^\s*(-?\d+(\.\d+)?)\s*,\s*$')

_validator = None


def schema_dir():
    return os.environ.get('ESS_EIDO_SCHEMA_DIR') or DEFAULT_DIR


def _number(s):
    m = TRAILING_COMMA.match(s)
    if not m:
        raise ValueError('a numeric keyword that is not a number: %r' % s)
    return float(m.group(1)) if m.group(2) else int(m.group(1))


def _def_name(path):
    """The $defs member holding the file at path (relative to Schema/)."""
    return path.replace('/', '.')


class _Loader:
    def __init__(self, base):
        self.base = base
        self.docs = {}  # path relative to Schema/ -> rewritten document
        self.to_load = []

    def want(self, path):
        if path not in self.docs:
            self.docs[path] = None
            self.to_load.append(path)

    def target(self, ref, owner):
        """The local pointer of a $ref written in the file owner."""
        file, _, frag = ref.partition('#')
        path = owner
        if file:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(owner), file))
        self.want(path)
        return '#/$defs/%s%s' % (_def_name(path), frag)

    def rewrite(self, node, owner, key=None):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == '$ref' and isinstance(v, str):
                    out[k] = self.target(v, owner)
                elif k in NUMERIC_KEYWORDS and isinstance(v, str):
                    out[k] = _number(v)
                else:
                    out[k] = self.rewrite(v, owner, k)
            return out
        if isinstance(node, list):
            return [self.rewrite(v, owner) for v in node]
        return node

    def load_all(self):
        loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
        while self.to_load:
            path = self.to_load.pop()
            with open(os.path.join(self.base, 'Schema', path), encoding='utf-8') as f:
                doc = yaml.load(f, Loader=loader)
            self.docs[path] = self.rewrite(doc, path)


def schema():
    """The whole schema: {"$ref": the EIDO type, "$defs": {file: document}}."""
    loader = _Loader(schema_dir())
    root = {'$ref': loader.target(ROOT_FILE + '#' + ROOT_TYPE, ROOT_FILE)}
    loader.load_all()
    root['$defs'] = {_def_name(p): d for p, d in loader.docs.items()}
    return root


def validator():
    """The validator (built once per process: the files are 3 MB of YAML)."""
    global _validator
    if _validator is None:
        # OpenAPI 3.0 schemas are of Draft 4's family ($ref alone in its object).
        whole, kw = schema(), {}
        try:
            import referencing  # noqa: F401 (jsonschema >= 4.18 resolves with it)
        except ImportError:
            kw['resolver'] = _LocalResolver.from_schema(whole)
        _validator = jsonschema.Draft4Validator(whole, **kw)
    return _validator


if hasattr(jsonschema, 'RefResolver'):
    class _LocalResolver(jsonschema.RefResolver):
        """Older jsonschema (Debian 12's 4.10) looks a reference up first among every object
        with a "$id" member, which NENA's files have as property names (`properties: {$id:
        ...}`), and fails on them. Every reference here is a local pointer: look it up as one."""

        def _find_in_subschemas(self, url):
            return None


def errors(doc):
    """Every reason doc is not a valid EIDO, one sentence each ([] when valid)."""
    out = []
    for e in sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = '/'.join(str(p) for p in e.absolute_path) or '(document)'
        out.append('%s: %s' % (where, e.message))
    return out
