#!/usr/bin/env python3
"""The demo's stand-in for the outside world, for trying ESS Router by hand (scripts/run starts it on
127.0.0.1 only): a team gateway that receives dispatches at /<team_id>, checks their X-ESS-Signature
against the team tokens in var/team-tokens.json, and a LINE Messaging API that receives replies and pushes.
Everything it receives is written, one line each, to standard output (scripts/run: var/gateway.log).
It always answers 200; it is a demo, not a test double (tests/integration has those)."""
import base64
import hashlib
import hmac
import http.server
import json
import sys
import time

TOKENS_PATH = sys.argv[2] if len(sys.argv) > 2 else 'var/team-tokens.json'


def team_token(team_id):
    try:
        with open(TOKENS_PATH, encoding='utf-8') as f:
            return json.load(f).get(team_id)
    except (OSError, ValueError):
        return None


def texts(messages):
    out = []
    for m in messages or []:
        if m.get('type') == 'text':
            out.append(m.get('text', ''))
        elif m.get('type') == 'template':
            out.append('[%s]' % m.get('altText', 'template'))
    return ' | '.join(out).replace('\n', ' / ')


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        stamp = time.strftime('%H:%M:%S')
        if self.path.startswith('/v2/bot/message/'):
            kind = self.path.rsplit('/', 1)[-1]
            print('%s LINE %s%s: %s' % (stamp, kind,
                  ' to a group' if str(body.get('to', '')).startswith('C') else '',
                  texts(body.get('messages'))), flush=True)
        else:
            team = self.path.strip('/')
            token = team_token(team)
            sig = self.headers.get('X-ESS-Signature', '')
            if token:
                want = base64.b64encode(hmac.new(token.encode(), raw, hashlib.sha256).digest())
                verdict = 'signature ok' if hmac.compare_digest(want, sig.encode()) else 'BAD SIGNATURE'
            else:
                verdict = 'no token known for this team'
            print('%s dispatch to %s: case %s %s %s %s, %.2f km, acknowledge before %s (%s)' % (
                stamp, team, body.get('case_id'), body.get('tracking_code'), body.get('category'),
                body.get('priority'), float(body.get('distance_km') or 0), body.get('ack_deadline'),
                verdict), flush=True)
        out = b'{}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)


if __name__ == '__main__':
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
