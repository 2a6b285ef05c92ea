#!/usr/bin/env python3
"""The LINE webhook phase of scripts/bench: signed bodies, the outbox's drain, the paced run's
figures.

  line_bench.py bodies --count N --out FILE [--users U] [--seed S]   (secret in LINE_CHANNEL_SECRET)
      writes N webhooks, one text event each, as "REPLY_TOKEN<TAB>X-Line-Signature<TAB>BODY" lines
      (what tests/bench/wrk.lua's line mode and line_paced read). Every event is new (its own
      webhookEventId and replyToken); event i comes from user i mod U, so each user's
      conversation state is read and written again U events later. Texts mix Thai and English,
      greetings and messages naming an emergency: every one is answered with a reply, none
      creates a case (that needs a location).
  line_bench.py drain --fake URL --expect N [--timeout S]
      waits until the fake LINE API (tests/bench/fake_line.c) has received N replies and no more
      arrive for half a second (or nothing moves for 5 s, or S seconds pass); prints
      {"at_start", "replies", "pushes", "other", "seconds", "drained"} (replies counted since
      fake_line started; "seconds": until the last reply came).
  line_bench.py paced-stats --sent FILE [--arrivals FILE]
      joins line_paced's log with fake_line's by reply token and prints the paced run's figures
      (JSON): latency of the webhook's answer, and from the webhook's send to its reply reaching
      the fake LINE API; both from the send, or from when the webhook was due when it had to wait
      for a free connection (then the server's slowness, open loop as wrk2)."""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import secrets
import sys
import time
import urllib.request

BOT_ID = 'U8e742f61d673b39c7fff3cecb7536ef0'

# What citizens write first: greetings (the category question comes back), free text naming an
# emergency (the category is pre-selected, to confirm with one tap), in Thai and English. No
# digits (a tracking code attempt), no "status"/"cancel".
TEXTS = [
    'สวัสดีค่ะ', 'สวัสดีครับ', 'ขอความช่วยเหลือหน่อยครับ', 'มีเรื่องจะแจ้งค่ะ', 'แจ้งเหตุครับ',
    'ช่วยด้วย ถูกขังอยู่ในห้อง', 'มีคนโทรมาข่มขู่ว่าจะทำร้าย', 'ผู้ชายคลุ้มคลั่ง ถือมีด อาละวาดอยู่หน้าบ้าน',
    'วัยรุ่นมั่วสุมเสพยาในบ้านร้าง', 'หัวหน้างานลวนลามและขู่ไม่ให้บอกใคร',
    'Hello', 'I need help', 'My sister is locked in a room by her boyfriend',
    'A man is out of control, shouting and breaking things', 'Someone threatens to hurt me',
]


def cmd_bodies(args):
    secret = os.environ.get('LINE_CHANNEL_SECRET', '').encode()
    if not secret:
        sys.exit('line_bench.py bodies: LINE_CHANNEL_SECRET is not set')
    rng = random.Random(args.seed)
    texts = [json.dumps(t, ensure_ascii=False) for t in TEXTS]
    nonce = secrets.token_hex(5)         # reply tokens and event ids of this file only
    users = secrets.token_hex(4)         # user ids of this file only
    users_n = max(1, min(args.users, args.count))
    t0 = int(time.time() * 1000)
    head = '{"destination":"' + BOT_ID + '","events":[{"type":"message","message":{"type":"text","id":"'
    digest = hmac.digest
    b64 = base64.b64encode
    with open(args.out, 'w', encoding='utf-8') as f:
        out = []
        for i in range(args.count):
            token = f'{nonce}{i:022x}'
            body = (f'{head}{10 ** 17 + i}","quoteToken":"q{token}","text":{rng.choice(texts)}}},'
                    f'"webhookEventId":"01{nonce.upper()}B{i:013X}",'
                    f'"deliveryContext":{{"isRedelivery":false}},"timestamp":{t0 + i // 8},'
                    f'"source":{{"type":"user","userId":"U{users}{i % users_n:024x}"}},'
                    f'"replyToken":"{token}","mode":"active"}}]}}')
            sig = b64(digest(secret, body.encode(), 'sha256')).decode()
            out.append(f'{token}\t{sig}\t{body}\n')
            if len(out) >= 4096:
                f.write(''.join(out))
                out.clear()
        f.write(''.join(out))


def fake_counts(url):
    with urllib.request.urlopen(url + '/count', timeout=5) as r:
        return json.loads(r.read())


def cmd_drain(args):
    started = time.monotonic()
    last, last_change = None, started
    at_start = None
    while True:
        c = fake_counts(args.fake)
        at_start = c['reply'] if at_start is None else at_start
        now = time.monotonic()
        if c['reply'] != last:
            last, last_change = c['reply'], now
        if c['reply'] >= args.expect and now - last_change >= 0.5:
            drained = True
            break
        if now - last_change >= 5 or now - started >= args.timeout:
            drained = c['reply'] >= args.expect
            break
        time.sleep(0.05)
    print(json.dumps({'at_start': at_start, 'replies': c['reply'], 'pushes': c['push'], 'other': c['other'],
                      'seconds': round(last_change - started, 2), 'drained': drained}))


def pct(sorted_values, p):
    """Nearest-rank percentile of a sorted list (None when empty)."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, -(-len(sorted_values) * p // 100) - 1))
    return sorted_values[int(k)]


def cmd_paced_stats(args):
    arrivals = {}
    if args.arrivals:
        with open(args.arrivals, encoding='ascii') as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    arrivals.setdefault(parts[0], int(parts[1]))
    answered, replies = [], []
    sent = n200 = other = unanswered = late = queued = no_reply = 0
    first_due = last_due = None
    with open(args.sent, encoding='ascii') as f:
        for line in f:
            token, due, sent_ns, done, status, waited = line.split()
            due, sent_ns, done, status = int(due), int(sent_ns), int(done), int(status)
            sent += 1
            first_due = due if first_due is None else first_due
            last_due = due
            # From the send; from when it was due if it had to wait for a connection (the
            # server's slowness). A send late for other reasons (the generator itself did not
            # get the CPU in time) is counted apart.
            if waited == '1':
                queued += 1
                start = due
            else:
                start = sent_ns
                late += sent_ns - due > 1_000_000
            if status == 0:
                unanswered += 1
                continue
            if status != 200:
                other += 1
                continue
            n200 += 1
            answered.append((done - start) // 1000)
            t = arrivals.get(token)
            if t is None:
                no_reply += 1
            else:
                replies.append((t - start) // 1000)
    answered.sort()
    replies.sort()
    span = (last_due - first_due) / 1e9 if sent > 1 else 0
    res = {'requests': sent, 'rate': round((sent - 1) / span, 1) if span else 0, 'ok': n200,
           'non_200': other, 'unanswered': unanswered, 'queued': queued, 'late_1ms': late,
           'p50_us': pct(answered, 50), 'p99_us': pct(answered, 99),
           'max_us': answered[-1] if answered else None}
    if args.arrivals:
        res.update({'replies': len(replies), 'no_reply': no_reply,
                    'reply_p50_us': pct(replies, 50), 'reply_p99_us': pct(replies, 99),
                    'reply_max_us': replies[-1] if replies else None})
    print(json.dumps(res))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('bodies', help='write signed webhook bodies')
    b.add_argument('--count', type=int, required=True)
    b.add_argument('--out', required=True)
    b.add_argument('--users', type=int, default=10000)
    b.add_argument('--seed', type=int, default=1303)
    b.set_defaults(func=cmd_bodies)
    d = sub.add_parser('drain', help="wait for the outbox's replies to reach the fake LINE API")
    d.add_argument('--fake', required=True, help='fake LINE API base URL')
    d.add_argument('--expect', type=int, required=True)
    d.add_argument('--timeout', type=float, default=60)
    d.set_defaults(func=cmd_drain)
    s = sub.add_parser('paced-stats', help="the paced run's figures")
    s.add_argument('--sent', required=True, help="line_paced's output")
    s.add_argument('--arrivals', help="fake_line's log (omit for a ceiling's run)")
    s.set_defaults(func=cmd_paced_stats)
    args = p.parse_args()
    args.func(args)


if __name__ == '__main__':
    main()
