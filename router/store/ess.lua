#!lua name=ess
--[[
ESS Router's Redis function library: every state change of a case or a team is one atomic step
here, so that two router processes can never claim the same team slot. Loaded at each connect
with FUNCTION LOAD REPLACE. Every function is called with 0 keys and the key prefix as its first
argument (one deployment's keys all start with it); those an API request reaches to read or
change a case, search, or log in take the caller's audit context next (audited(), below). Answers
are JSON strings (ess_case_create, on the hot path, answers a flat array); a refusal is {"err":
"<code>"} and changes nothing (but the audit entry of a refused access).

Keys (P = prefix):
  P team:<id>            hash  name name_en skills(csv) lat lon capacity active available
                               token_hash token_nonce notify sets updated_at
  P team:<id>:cases      set   case ids the team holds now
  P teams                set   every team id
  P teams:by_id          zset  every team id, score 0 (ordered by id: the team list's pages)
  P skillsets            set   every required skill set a case has asked for (sorted csv, "-"
                               for none), registered on first use
  P geo:set:<set>        geo   teams having every skill of <set> that can take a case now
                               (available, free capacity): a search's first hit qualifies
  P geo:all:<set>        geo   every team having every skill of <set>, whatever its state (the
                               candidates an operator may assign by hand)
  P schema               str   the version of the indexes above that ess_upgrade last built
  P case:<id>            hash  the case record (times in ms since the epoch); with a chat:
                               chat (waiting|open|closed) chat_since chat_operator chat_taken_at
                               chat_closed_at chat_escalated (1|"") chat_lang (th|en); once
                               consent is recorded: share_with_agencies (1|0) consent_basis
                               consent_by consent_at consent_note (the operator's words:
                               personal); a LINE case: consent_asked (ms, the reporter was asked
                               once), line_quiet (1: no progress pushes, the reporter's choice)
  P case:<id>:timeline   list  JSON entries {status, at, by, note?}
  P case:<id>:excluded   set   teams that may not be claimed again for this case
  P track:<code>         hash  the public e-Tracking view (nothing personal by construction): case_id
                               category status updated_at team_name team_name_en timeline
                               ("<status>@<ms>,..."; a JSON array of {status, at} before
                               schema 7, which public_timeline_short rewrites); the router
                               writes GET /v1/track's JSON from them with the category's labels
                               from its rule table (track.c); tracking_code only in a merged
                               case's copy (the survivor's code)
  P call:<call_id>       str   "<case id> <digest of the content>" (content_digest; idempotent
                               calls; LINE reports use "line:<report id>")
  P phone:<hmac>         zset  case id -> created ms, for each case whose reporter's phone has
                               these digits; <hmac> is the router's keyed hash of the digits
                               (the key never reaches Redis): no phone in clear in a key
  P cases:open           zset  case id -> created ms, while not resolved or closed (ENDED)
  P cases:status:<s>     zset  case id -> created ms, the cases now resolved (s = resolved) or
                               closed (s = closed); an open case is in P cases:open alone, so a
                               change between open statuses moves no index (schema 6)
  P queue                zset  case id -> priority * 1e13 + created ms (operators' queue); a
                               case waiting for triage (needs_triage) ranks 0: above every P1
  P deadlines            zset  case id -> acknowledgment deadline ms
  P stats                hash  "<category>|<status>" -> number of cases
  P stats:day:<date>     hash  the statistics of the cases received that Thai-time day, and
  P stats:built          str   the mark of their first build (see "Statistics" below)
  P log                  stream the central case log: no personal data, ever; each entry holds
                               case_id, status, event (annotations), by, at and the case's
                               SUMMARY_FIELDS as they stood
  P outbox:due           zset  outgoing message id -> when it is due (ms)
  P outbox:item:<id>     hash  kind payload(JSON) attempts retry_key created_at, and while it
                               is leased `leased` (1); `unsure` (1) once a try may have reached
                               its receiver unconfirmed: a lease ran out with no outcome reported,
                               or LINE answered 5xx or not at all (ids: "d:<case>:<attempt>" for
                               dispatches, else a counter)
  P outbox:dead          list  JSON of messages given up on (kind, attempts, last error)
  P line:state:<hash>    str   a LINE user's conversation state (key: SHA-256 of the user id)
  P line:version:<hash>  str   the number of commits of that state (compare-and-set), same expiry
  P line:event:<id>      str   "1" once a LINE webhook event was handled (dedupe window)
  P line:abandon         zset  LINE user key hash -> when its report, stopped after the category
                               and before a location, becomes a case (ESS_LINE_ABANDON_S)
  P line:who:<hash>      str   that user's LINE user id while the report waits (the case's
                               reporter and the push's recipient), same expiry as the state
  P line:talk:<hash>     str   the case a LINE user asked to talk to a person on (the chat is
                               active while that case's chat is waiting or open); expires as an
                               idle state, renewed at each message
  P case:<id>:chat       list  the case's conversation, oldest first: JSON {n, role
                               (reporter|operator), by, text, at, sent_at (LINE's, reporter
                               only)}; n is its place (1, 2, ...)
  P chats                zset  case id -> chat_since, while its chat is waiting or open
  P chat:deadlines       zset  case id -> when a waiting chat is escalated (ESS_CHAT_WAIT_S)
  P team:line:<group>    str   the team whose notify.line_to is that LINE group
  P rate:<bucket>:<h>:<n> str  requests of one client (h: hash of its address) in minute n
  P operator:<id>        hash  an operator account: name role(operator|supervisor)
                               password_hash (scrypt, salted: never the password) token_hash
                               (SHA-256 of its API token) disabled(1|0) created_at updated_at
  P operators            set   every operator id
  P operator:token:<h>   str   the operator whose API token hashes (SHA-256) to h
  P operator:<id>:sessions set the hashes of that operator's sessions (ended ones pruned at login)
  P session:<h>          hash  a console session: operator_id csrf created_at; h is the SHA-256 of
                               the cookie's value (never the value); expires after
                               ESS_SESSION_IDLE_S without a request
  P login:fail:id:<id>   zset  failed logins to that operator id (ms), the last 15 minutes
  P login:fail:addr:<h>  zset  failed logins from one client address (h: keyed hash, never the
                               address), the last 15 minutes
  P login:lock:id:<id>   str   while set (15 minutes), logins to that id are refused
  P login:lock:addr:<h>  str   while set, logins from that address are refused
  P login:seq            str   a counter that makes failure entries unique
  P audit                stream who read or changed which case, from where, and every log-in:
                               at actor_kind actor_id action case_id ip outcome, nothing else
                               (no query, no personal data); appended by audited(), removed
                               only by age (ESS_AUDIT_RETENTION_DAYS)
  P audit:case:<id>      zset  the entries of a case: stream ids zero-padded (audit_member),
                               score 0, read BYLEX; trimmed to the retention, expiring with it
  P audit:actor:<id>     zset  the entries of an actor id, the same way
  P secret               str   (older versions) the team-token key; no longer read or written:
                               the router warns at connect while it is there
  Retention and erasure (PERSONAL_FIELDS, erase_case, below):
  P case:<id>            hash  also: line_user_key (a LINE case: the SHA-256 of its reporter's
                               user id, the <hash> of P line:*:<hash>), closed_at, and once its
                               personal data is erased erased_at erased_by erase_reason
  P case:<id>:outbox     set   ids of the outgoing messages queued about the case (ids of those
                               already sent may remain until the set is erased with the case)
  P erase:due            zset  case id -> when it was closed (ms): its personal data is erased
                               ESS_RETENTION_DAYS later (ess_retention_sweep)
  P track:due            zset  case id -> when it was closed (ms): its public view P track:<code>
                               is deleted ESS_TRACK_RETENTION_DAYS later (the code answers 404)
  Agencies and their feed (DESIGN "The shared record"; ess_agency_*, ess_feed_*):
  P agency:<id>          hash  name categories(csv of category codes) identifying(1|0)
                               token_hash (SHA-256 of its token) disabled(1|0) created_at
                               updated_at
  P agencies             set   every agency id
  P agency:token:<h>     str   the agency whose token hashes (SHA-256) to h
  P log, group feed:<id>       the agency's consumer group on the case log (one consumer,
                               "feed", read by feed.c): its pending entries are what it read
                               and has not acknowledged
  Open311 GeoReport v2, the public read (ess_open311_*):
  P cases:created        zset  case id -> created ms, every case whose public view is kept:
                               added at creation, removed when the view goes (retention)
  One incident, one case (Duplicate.find, case_merge):
  P recent:<category>    zset  case id -> created ms: the open, located cases of the category
                               created in the last Duplicate.WINDOW_MS (trimmed at each create)
  P geo:recent:<category> geo  the same cases at their place
  P case:<id>            hash  also: possible_duplicate_of possible_duplicate_m (set at create);
                               once merged: merged_into merged_at merged_by
  P track:<code>         hash  also: aliases (csv): the codes of the cases merged into this one,
                               whose own P track:<code> hold a copy of this view (public_mirror)
]]

local MAX_LOG_LEN = 1000000
local DRAIN_SCAN = 200
local SWEEP_MAX = 50 -- queued cases one sweep may try
local PRIORITY_SCALE = 1e13
local ENDED = {resolved = true, closed = true} -- the statuses with an index each (cases:status:)
-- Open311's index of cases by creation (defined with the rest of Open311, at the end).
local Open311 = {} -- Open311 GeoReport v2 (at the end of the file; one local: Lua allows 200)

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function split_csv(s)
    local out = {}
    if s == nil or s == '' then return out end
    for item in string.gmatch(s, '[^,]+') do out[#out + 1] = item end
    return out
end

local function split_bar(s)
    local out = {}
    if s == nil or s == '' then return out end
    for item in string.gmatch(s, '[^|]+') do out[#out + 1] = item end
    return out
end

-- The canonical name of a skill set: its skills sorted, comma-separated; "-" for none.
local function set_name(skills_csv)
    local list = split_csv(skills_csv)
    if #list == 0 then return '-' end
    table.sort(list)
    return table.concat(list, ',')
end

local function set_of(list)
    local s = {}
    for _, v in ipairs(list) do s[v] = true end
    return s
end

local function hgetall(key)
    local flat = redis.call('HGETALL', key)
    local h = {}
    for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
    return h
end

local function refuse(code, extra)
    local r = {err = code}
    if extra then for k, v in pairs(extra) do r[k] = v end end
    return cjson.encode(r)
end

-- A case reported with a typed address only (LINE on a desktop) has no coordinates.
local function has_location(c)
    return c.lat ~= nil and c.lat ~= '' and c.lon ~= nil and c.lon ~= ''
end

-- The widest search radius of a case (its category's last radius), in km; 0 when it has none.
local function widest_radius(c)
    local radii = split_csv(c.radii)
    return tonumber(radii[#radii] or '0') or 0
end

-- Great-circle distance in km (the same sphere as Redis' GEO commands).
local function haversine_km(lat1, lon1, lat2, lon2)
    local r = 6372.797560856
    local rad = math.pi / 180
    local dlat = (lat2 - lat1) * rad
    local dlon = (lon2 - lon1) * rad
    local a = math.sin(dlat / 2) ^ 2 +
        math.cos(lat1 * rad) * math.cos(lat2 * rad) * math.sin(dlon / 2) ^ 2
    return 2 * r * math.asin(math.min(1, math.sqrt(a)))
end

local function round_km(d)
    return math.floor(d * 100 + 0.5) / 100
end

---------------------------------------------------------------------------------------------
-- Case log, statistics and timeline

-- A case's summary (lists, the answer of ess_case_create, and each case-log entry): its id and
-- these fields, none of them personal. The one list of them: the router builds its summaries
-- (GET /v1/cases, the events of GET /v1/events) from the names it is given.
local SUMMARY_FIELDS = {'tracking_code', 'category', 'priority', 'status', 'team_id', 'team_name',
    'team_name_en', 'distance_km', 'created_at', 'updated_at', 'queue_reason', 'channel',
    'category_suggested', 'chat', 'chat_since', 'chat_operator', 'chat_escalated',
    'possible_duplicate_of', 'merged_into'}

-- Appends an entry to the case log: case_id, the given fields ({name, value} pairs), then each
-- summary field not given that the case's record holds now (written before this is called), so
-- that an entry alone says how the case stood (the operators' live updates and the agencies'
-- feed are made of it). An empty field, given or of the summary, is left out: its readers take
-- an absent field for an empty one, and every entry is read by every reader. A field given empty
-- still keeps the summary's value out (a "received" entry names no team). record (optional):
-- the case's whole record as it is stored now, when the caller holds it (a case just created),
-- read instead of the stored hash.
local function log_event(P, case_id, fields, record)
    local args = {P .. 'log', 'MAXLEN', '~', MAX_LOG_LEN, '*', 'case_id', case_id}
    local given = {}
    for _, kv in ipairs(fields) do
        if kv[2] ~= nil and kv[2] ~= '' then
            args[#args + 1] = kv[1]
            args[#args + 1] = kv[2]
        end
        given[kv[1]] = true
    end
    local stored = not record and
        redis.call('HMGET', P .. 'case:' .. case_id, unpack(SUMMARY_FIELDS))
    for i, f in ipairs(SUMMARY_FIELDS) do
        local v
        if record then v = record[f] else v = stored[i] end
        if not given[f] and v and v ~= '' then
            args[#args + 1] = f
            args[#args + 1] = v
        end
    end
    redis.call('XADD', unpack(args))
end

---------------------------------------------------------------------------------------------
-- Outbox: messages to send (LINE replies and pushes, progress notices), kept until delivered

-- A UUID derived from the message's id and creation time, unique per message: used as LINE's
-- X-Line-Retry-Key and X-ESS-Delivery, so it stays the same across retries of one message.
local function retry_key(P, id, now)
    local h = redis.sha1hex(P .. id .. ':' .. now)
    return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-4' .. string.sub(h, 14, 16) ..
        '-8' .. string.sub(h, 18, 20) .. '-' .. string.sub(h, 21, 32)
end

-- Queues a message; id may be given when it is unique by construction (a dispatch). holder
-- ("<case_id>|<team_id>", dispatches only) makes the message lapse once that team no longer
-- waits for the case (it acknowledged, or lost it). case_id (nil: none): the case the message is
-- about, whose erasure deletes it while it waits (P case:<id>:outbox).
local function outbox_add(P, kind, payload, due, id, holder, case_id)
    id = id or tostring(redis.call('INCR', P .. 'outbox:seq'))
    redis.call('HSET', P .. 'outbox:item:' .. id, 'kind', kind, 'payload', payload,
        'attempts', 0, 'retry_key', retry_key(P, id, due), 'created_at', due, 'holder',
        holder or '')
    redis.call('ZADD', P .. 'outbox:due', due, id)
    if case_id and case_id ~= '' then
        redis.call('SADD', P .. 'case:' .. case_id .. ':outbox', id)
    end
    return id
end

-- A JSON string literal of s.
local function json_str(s)
    return '"' .. string.gsub(s, '[%c"\\]', function(ch)
        if ch == '"' then return '\\"' end
        if ch == '\\' then return '\\\\' end
        return string.format('\\u%04x', string.byte(ch))
    end) .. '"'
end

-- RFC 3339 UTC with milliseconds, as the router writes times ("2026-11-21T03:04:05.123Z"). The
-- last answer is kept: one step writes the same time several times (a new case's timeline, its
-- day for the statistics), and string.format is among the dearest things a script does.
local ISO_LAST = {ms = nil, text = nil}
local function iso_time(ms)
    ms = math.floor(tonumber(ms))
    if ISO_LAST.ms == ms then return ISO_LAST.text end
    ISO_LAST.ms, ISO_LAST.text = ms, nil
    local secs = math.floor(ms / 1000)
    local days, rest = math.floor(secs / 86400), secs % 86400
    local z = days + 719468 -- civil date from days since 1970-01-01 (H. Hinnant's algorithm)
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) -
        math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local d = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    local y = yoe + era * 400 + (m <= 2 and 1 or 0)
    ISO_LAST.text = string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
        math.floor(rest / 3600), math.floor(rest % 3600 / 60), rest % 60, ms % 1000)
    return ISO_LAST.text
end

-- The ms since the epoch of an RFC 3339 UTC time as iso_time writes it, or nil.
local function iso_parse(s)
    local y, m, d, H, M, S, frac = string.match(s,
        '^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)Z$')
    if not y then return nil end
    y, m, d = tonumber(y), tonumber(m), tonumber(d)
    if m <= 2 then y = y - 1 end -- days from the civil date (H. Hinnant's algorithm)
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
    local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy -
        719468
    local ms = tonumber(string.sub(frac .. '000', 1, 3))
    return (((days * 24 + tonumber(H)) * 60 + tonumber(M)) * 60 + tonumber(S)) * 1000 + ms
end

-- A public timeline (P track:<code>'s field timeline; nil or "" when there is none) in the
-- short form: "<status>@<ms>" entries joined by commas (the router writes its JSON). One in
-- the JSON of an older version ([{"status", "at"}, ...], at in RFC 3339) is rewritten.
local function public_timeline_short(timeline)
    if not timeline or string.sub(timeline, 1, 1) ~= '[' then return timeline or '' end
    local short = {}
    for _, e in ipairs(cjson.decode(timeline)) do
        local ms = type(e) == 'table' and type(e.at) == 'string' and iso_parse(e.at)
        if ms and type(e.status) == 'string' then
            short[#short + 1] = e.status .. '@' .. string.format('%.0f', ms)
        end
    end
    return table.concat(short, ',')
end

-- The public timeline with one more status (at: ms).
local function public_timeline_add(timeline, status, at)
    local entry = status .. '@' .. string.format('%.0f', tonumber(at))
    timeline = public_timeline_short(timeline)
    return timeline == '' and entry or timeline .. ',' .. entry
end

-- The parts of a public view (P track:<code>) that the codes of the cases merged into its case
-- show too: each such code's hash holds a copy (its case_id stays its own case's), and the
-- survivor's code as tracking_code.
local PUBLIC_PARTS = {'category', 'status', 'updated_at', 'team_name', 'team_name_en', 'timeline'}

-- Copies the public view at tkey to the codes of aliases (csv, the field "aliases" of that view:
-- the tracking codes of the cases merged into its case; nil or "": none).
local function public_mirror(P, tkey, aliases)
    if not aliases or aliases == '' then return end
    local f = redis.call('HMGET', tkey, unpack(PUBLIC_PARTS))
    local args = {'tracking_code', string.sub(tkey, #P + #'track:' + 1)}
    for i, name in ipairs(PUBLIC_PARTS) do
        args[#args + 1] = name
        args[#args + 1] = f[i] or ''
    end
    for _, code in ipairs(split_csv(aliases)) do
        redis.call('HSET', P .. 'track:' .. code, unpack(args))
    end
end

-- Brings the public view of a case up to date with a new status.
local function public_update(P, c, status, at)
    local tkey = P .. 'track:' .. c.tracking_code
    local f = redis.call('HMGET', tkey, 'timeline', 'aliases')
    redis.call('HSET', tkey, 'status', status, 'updated_at', at, 'team_name', c.team_name or '',
        'team_name_en', c.team_name_en or '', 'timeline', public_timeline_add(f[1], status, at))
    public_mirror(P, tkey, f[2])
end

-- The reporter of a LINE case hears of its progress (the assignment made while the case is
-- being created is told in the reply instead). A case that goes back to the queue (no team
-- acknowledged, escalated, or taken off a team) is told once that an operator is finding help.
local PROGRESS = {queued = true, assigned = true, acknowledged = true, en_route = true,
    on_scene = true, resolved = true}

-- Whether the LINE reporter of the case chose quiet updates (consent_quiet_set).
local function case_quiet(P, case_id)
    return redis.call('HGET', P .. 'case:' .. case_id, 'line_quiet') == '1'
end

local function notify_reporter(P, case_id, c, status, at)
    if c.channel ~= 'line' or not PROGRESS[status] or c.creating then return end
    if case_quiet(P, case_id) then return end
    if status == 'queued' and
        redis.call('HSETNX', P .. 'case:' .. case_id, 'line_told_queued', '1') == 0 then
        return
    end
    local to = c.reporter_line_user or redis.call('HGET', P .. 'case:' .. case_id,
        'reporter_line_user')
    if not to or to == '' then return end
    local lang = c.line_lang or redis.call('HGET', P .. 'case:' .. case_id, 'line_lang') or 'th'
    outbox_add(P, 'progress', cjson.encode({case_id = case_id, to = to, lang = lang,
        status = status, tracking_code = c.tracking_code, team_name = c.team_name or '',
        team_name_en = c.team_name_en or ''}), at, nil, nil, case_id)
end

-- A case closed at `at` (ms): its personal data is erased ESS_RETENTION_DAYS later, its public
-- view goes ESS_TRACK_RETENTION_DAYS later (ess_retention_sweep).
local function retention_schedule(P, case_id, at)
    redis.call('HSET', P .. 'case:' .. case_id, 'closed_at', at)
    redis.call('ZADD', P .. 'erase:due', at, case_id)
    redis.call('ZADD', P .. 'track:due', at, case_id)
end

---------------------------------------------------------------------------------------------
-- One incident, one case (DESIGN "The shared record"): a new report of the same category as an
-- open case, within Duplicate.RADIUS_KM of it and created at most Duplicate.WINDOW_MS after it,
-- is created as usual and marked possible_duplicate_of the nearest such case (of at most
-- Duplicate.SCAN found there: where more are that close, one of the nearest). The candidates are
-- kept in an index of their own, and the search stops at Duplicate.SCAN of them (GEOSEARCH ANY),
-- so that a create's cost does not grow with the number of cases, even many at one place:
--   P recent:<category>      zset  case id -> created ms
--   P geo:recent:<category>  geo   the same members at their place
-- the open, located cases of the category (a case enters at its create, or when an operator or
-- its reporter places it; leaves when resolved, closed or merged); members older than the window
-- are trimmed at each create (at most Duplicate.TRIM at a time).

local Duplicate = {} -- one incident, one case (one local: Lua allows 200)
Duplicate.RADIUS_KM = 0.3
Duplicate.WINDOW_MS = 30 * 60 * 1000
Duplicate.TRIM = 100
Duplicate.SCAN = 8 -- the members within the radius a create compares, at most
local GEO_MAX_LAT = 85.05112878 -- Redis' GEO commands refuse latitudes beyond

function Duplicate.recent_keys(P, category)
    return P .. 'recent:' .. category, P .. 'geo:recent:' .. category
end

-- Whether the case can be compared at all: located within the latitudes a GEO index can hold.
function Duplicate.comparable(c)
    return has_location(c) and math.abs(tonumber(c.lat) or 90) <= GEO_MAX_LAT
end

-- Files an open case in its category's index while it is young enough to be compared (now: ms).
function Duplicate.add(P, case_id, c, now)
    if not Duplicate.comparable(c) or tonumber(c.created_at) < now - Duplicate.WINDOW_MS then
        return
    end
    local z, g = Duplicate.recent_keys(P, c.category)
    redis.call('ZADD', z, c.created_at, case_id)
    redis.call('GEOADD', g, c.lon, c.lat, case_id)
end

-- Takes a case out of the index of category (it was resolved, closed, merged, or re-triaged).
function Duplicate.forget(P, case_id, category)
    if (category or '') == '' then return end
    local z, g = Duplicate.recent_keys(P, category)
    if redis.call('ZREM', z, case_id) == 1 then redis.call('ZREM', g, case_id) end
end

-- A case whose category changed (c.category, from old_category) moves to its new category's
-- index when it was in the old one.
function Duplicate.move(P, case_id, c, old_category, now)
    if redis.call('ZSCORE', (Duplicate.recent_keys(P, old_category)), case_id) then
        Duplicate.forget(P, case_id, old_category)
        Duplicate.add(P, case_id, c, now)
    end
end

-- The open case that the new case c (not yet stored) most likely repeats: of its category,
-- created within the window before now, nearest within Duplicate.RADIUS_KM by the router's
-- haversine (on the stored coordinates, not the index's rounded ones) of the first
-- Duplicate.SCAN the index has within the radius. Trims the index first.
-- Returns its id and distance in km, or nil.
function Duplicate.find(P, c, now)
    if not Duplicate.comparable(c) then return nil end
    local z, g = Duplicate.recent_keys(P, c.category)
    local since = now - Duplicate.WINDOW_MS
    local old = redis.call('ZRANGE', z, '-inf', '(' .. string.format('%.0f', since), 'BYSCORE',
        'LIMIT', 0, Duplicate.TRIM)
    if #old > 0 then
        redis.call('ZREM', z, unpack(old))
        redis.call('ZREM', g, unpack(old))
    end
    -- a few metres more than the radius: the index's coordinates are rounded (52-bit geohash)
    local hits = redis.call('GEOSEARCH', g, 'FROMLONLAT', c.lon, c.lat, 'BYRADIUS',
        Duplicate.RADIUS_KM * 1000 + 5, 'm', 'COUNT', Duplicate.SCAN, 'ANY')
    local lat, lon = tonumber(c.lat), tonumber(c.lon)
    local best, best_d = nil, nil
    for _, id in ipairs(hits) do
        local f = redis.call('HMGET', P .. 'case:' .. id, 'status', 'created_at', 'lat', 'lon',
            'category')
        local open = f[1] and f[1] ~= 'resolved' and f[1] ~= 'closed'
        if open and f[5] == c.category and tonumber(f[2] or '0') >= since and
                tonumber(f[3] or '') and tonumber(f[4] or '') then
            local d = haversine_km(lat, lon, tonumber(f[3]), tonumber(f[4]))
            if d <= Duplicate.RADIUS_KM and (best_d == nil or d < best_d) then
                best, best_d = id, d
            end
        end
    end
    return best, best_d
end

-- Marks the new case c (before its record is written, so the fields go in with it) as a possible
-- duplicate of the case Duplicate.find answers: possible_duplicate_of, possible_duplicate_m
-- (the distance in metres). Returns the other case's id, or nil.
function Duplicate.mark(P, c, now)
    local other, d = Duplicate.find(P, c, now)
    if not other then return nil end
    c.possible_duplicate_of = other
    c.possible_duplicate_m = tostring(math.floor(d * 1000 + 0.5))
    return other
end

-- A timeline entry and a case-log entry of the case (not a status change) that name another
-- case: event possible_duplicate (of), merged (into), merged_from.
local function record_link(P, case_id, c, event, other_id, at, by)
    redis.call('RPUSH', P .. 'case:' .. case_id .. ':timeline', cjson.encode({status = c.status,
        event = event, other_case_id = other_id, at = at, by = by}))
    log_event(P, case_id, {{'status', c.status}, {'event', event}, {'other_case_id', other_id},
        {'category', c.category}, {'priority', c.priority}, {'team_id', c.team_id or ''},
        {'by', by}, {'at', tostring(at)}})
end

-- Statistics (GET /v1/stats): counters kept by the very steps that change a case, never a scan
-- of the cases per request. Every count of a case goes to the Thai-time (UTC+7) day it was
-- received on (its stats_day), so that a range of days reads as the cases received in it and
-- what became of them:
--   P stats:day:<YYYY-MM-DD>  hash  n|<category>: cases received (a triage that changes the
--                                   category moves the case's count to the new one);
--                                   ch|<channel>: cases received by channel; st|<status>: entries
--                                   into each status after received (a case assigned twice
--                                   counts twice; received itself is the sum of n|);
--                                   d|<kind>|<bucket>: the time from received to the case's
--                                   FIRST assigned (kind a, 0 when assigned at once), acknowledged
--                                   (k) and on_scene (o), each counted once per case, in
--                                   log-spaced buckets (Stats.bucket)
--   P stats:built             str   "1" once the counters hold the cases that were there before
--                                   this version (ess_upgrade builds them once)
--   P case:<id>               hash  also stats_day (the day its counts go to; a case created
--                                   since schema 7 keeps none: its day is created_at's) and
--                                   stats_a, stats_k, stats_o ("1": that time is counted)
-- Erasure does not touch them (they hold no personal data). A few HINCRBYs per change at most.

local Stats = {} -- the statistics' functions and constants (one local: Lua allows 200)
Stats.TZ_MS = 7 * 3600 * 1000
Stats.BASE = 1.05 -- bucket b >= 1 holds [1.05^(b-1), 1.05^b) seconds; 0: under a second
Stats.TOP = 274   -- the last bucket: from 1.05^273 s (about 7.1 days) on
Stats.KINDS = {assigned = 'a', acknowledged = 'k', on_scene = 'o'}

-- The Thai-time date ("YYYY-MM-DD") of ms (the last day's answer kept, as iso_time does).
Stats.DAY_LAST = {day = nil, text = nil}
function Stats.day_of(ms)
    local day = math.floor((tonumber(ms) + Stats.TZ_MS) / 86400000)
    if Stats.DAY_LAST.day ~= day then
        Stats.DAY_LAST.day = day
        Stats.DAY_LAST.text = string.sub(iso_time(day * 86400000), 1, 10)
    end
    return Stats.DAY_LAST.text
end

-- The bucket of a duration of ms milliseconds.
function Stats.bucket(ms)
    local s = ms / 1000
    if s < 1 then return 0 end
    return math.min(Stats.TOP, 1 + math.floor(math.log(s) / math.log(Stats.BASE)))
end

-- What a bucket reads as, in seconds: its geometric middle (within 2.5 % of any duration in
-- it), 0 for under a second (within 1 s), the lower edge of the last (open) bucket.
function Stats.bucket_value(b)
    if b == 0 then return 0 end
    local v = Stats.BASE ^ (b == Stats.TOP and b - 1 or b - 0.5)
    return math.floor(v * 10 + 0.5) / 10
end

function Stats.key(P, c)
    return P .. 'stats:day:' .. ((c.stats_day or '') ~= '' and c.stats_day or
        Stats.day_of(c.created_at))
end

-- A new case (case_create, before its record is written: sets c.stats_a when it is assigned at
-- once). Its counts go to the day of its created_at (now), so it keeps no stats_day (Stats.key).
function Stats.created(P, c, now)
    local key = P .. 'stats:day:' .. Stats.day_of(now)
    redis.call('HINCRBY', key, 'n|' .. c.category, 1)
    redis.call('HINCRBY', key, 'ch|' .. c.channel, 1)
    redis.call('HINCRBY', key, 'st|' .. c.status, 1)
    if c.status == 'assigned' then
        c.stats_a = '1'
        redis.call('HINCRBY', key, 'd|a|0', 1)
    end
end

-- The case entered status at `at` (record_status, when it changes): one more entry, and its
-- time from received when it is the first assigned, acknowledged or on_scene of the case.
function Stats.entered(P, case_id, c, status, at)
    local key = Stats.key(P, c)
    redis.call('HINCRBY', key, 'st|' .. status, 1)
    local kind = Stats.KINDS[status]
    if kind and redis.call('HSETNX', P .. 'case:' .. case_id, 'stats_' .. kind, '1') == 1 then
        redis.call('HINCRBY', key, 'd|' .. kind .. '|' ..
            Stats.bucket(tonumber(at) - tonumber(c.created_at)), 1)
    end
end

-- A triage changed the case's category: its count moves from old to new.
function Stats.recategorized(P, c, old, new)
    local key = Stats.key(P, c)
    redis.call('HINCRBY', key, 'n|' .. old, -1)
    redis.call('HINCRBY', key, 'n|' .. new, 1)
end

-- Counts one existing case as the live steps would have (its timeline's status entries) on
-- its stats_day (a case of this version's) or the Thai date of its created_at, and marks it.
function Stats.count_case(P, case_id)
    local key = P .. 'case:' .. case_id
    local f = redis.call('HMGET', key, 'created_at', 'category', 'channel', 'stats_day')
    local created = tonumber(f[1])
    if not created then return false end
    local day = f[4] and f[4] ~= '' and f[4] or Stats.day_of(created)
    local skey = P .. 'stats:day:' .. day
    redis.call('HINCRBY', skey, 'n|' .. (f[2] or 'other'), 1)
    redis.call('HINCRBY', skey, 'ch|' .. (f[3] or 'hotline'), 1)
    local marks, prev = {'stats_day', day}, 'received'
    local counted = {}
    for _, raw in ipairs(redis.call('LRANGE', key .. ':timeline', 0, -1)) do
        local e = cjson.decode(raw)
        if e.event == nil and type(e.status) == 'string' and e.status ~= prev then
            prev = e.status
            if e.status ~= 'received' then redis.call('HINCRBY', skey, 'st|' .. e.status, 1) end
            local kind = Stats.KINDS[e.status]
            if kind and not counted[kind] and tonumber(e.at) then
                counted[kind] = true
                redis.call('HINCRBY', skey, 'd|' .. kind .. '|' ..
                    Stats.bucket(tonumber(e.at) - created), 1)
                marks[#marks + 1] = 'stats_' .. kind
                marks[#marks + 1] = '1'
            end
        end
    end
    redis.call('HDEL', key, 'stats_a', 'stats_k', 'stats_o')
    redis.call('HSET', key, unpack(marks))
    return true
end

-- Appends a timeline entry, writes the case log, and moves the case between status indexes.
local function record_status(P, case_id, c, status, at, by, note)
    local key = P .. 'case:' .. case_id
    local old = c.status
    local entry = {status = status, at = at, by = by}
    -- which team: the operators' timeline says who got the case (not the public view's)
    if status == 'assigned' and (c.team_name or '') ~= '' then entry.team = c.team_name end
    if note and note ~= '' then entry.note = note end
    redis.call('RPUSH', key .. ':timeline', cjson.encode(entry))
    if old ~= status then
        if old and old ~= '' then
            if ENDED[old] then redis.call('ZREM', P .. 'cases:status:' .. old, case_id) end
            redis.call('HINCRBY', P .. 'stats', c.category .. '|' .. old, -1)
        end
        redis.call('HINCRBY', P .. 'stats', c.category .. '|' .. status, 1)
        if ENDED[status] then
            redis.call('ZADD', P .. 'cases:status:' .. status, c.created_at, case_id)
            redis.call('ZREM', P .. 'cases:open', case_id)
            Duplicate.forget(P, case_id, c.category)
        end
        if status == 'closed' then retention_schedule(P, case_id, at) end
        Stats.entered(P, case_id, c, status, at)
        c.status = status
    end
    c.updated_at = at
    redis.call('HSET', key, 'status', status, 'updated_at', at)
    if c.tracking_code and c.tracking_code ~= '' then public_update(P, c, status, at) end
    log_event(P, case_id, {{'status', status}, {'category', c.category},
        {'priority', c.priority}, {'team_id', c.team_id or ''}, {'by', by},
        {'at', tostring(at)}})
    notify_reporter(P, case_id, c, status, at)
end

-- Appends an entry that is not a status change (a dispatch attempt and its outcome) to the
-- timeline and the case log. The public view leaves such entries out.
local function record_event(P, case_id, c, event, note, at, by)
    redis.call('RPUSH', P .. 'case:' .. case_id .. ':timeline', cjson.encode({status = c.status,
        event = event, note = note, at = at, by = by}))
    log_event(P, case_id, {{'status', c.status}, {'event', event}, {'category', c.category},
        {'priority', c.priority}, {'team_id', c.team_id or ''}, {'by', by},
        {'at', tostring(at)}})
end

---------------------------------------------------------------------------------------------
-- Teams and the geo index

local function team_skills(t)
    return split_csv(t.skills)
end

local function team_can_take(t)
    return t.available == '1' and tonumber(t.active or '0') < tonumber(t.capacity or '0')
end

local function covers(have, name)
    if name == '-' then return true end
    for _, s in ipairs(split_csv(name)) do
        if not have[s] then return false end
    end
    return true
end

-- The registered skill sets that a team with these skills qualifies for, as "set|set".
local function qualifying_sets(P, skills_csv)
    local have = set_of(split_csv(skills_csv))
    local out = {}
    for _, name in ipairs(redis.call('SMEMBERS', P .. 'skillsets')) do
        if covers(have, name) then out[#out + 1] = name end
    end
    return table.concat(out, '|')
end

-- Puts the team in (or takes it out of) the geo index of every set it qualifies for, as it is
-- now, and at its place in the index of all teams of each such set; drop_sets ("set|set") are
-- indexes it must leave whatever its state (skills it no longer has).
local function team_index(P, team_id, t, drop_sets)
    for _, name in ipairs(split_bar(drop_sets)) do
        redis.call('ZREM', P .. 'geo:set:' .. name, team_id)
        redis.call('ZREM', P .. 'geo:all:' .. name, team_id)
    end
    local can = team_can_take(t)
    for _, name in ipairs(split_bar(t.sets)) do
        redis.call('GEOADD', P .. 'geo:all:' .. name, t.lon, t.lat, team_id)
        if can then
            redis.call('GEOADD', P .. 'geo:set:' .. name, t.lon, t.lat, team_id)
        else
            redis.call('ZREM', P .. 'geo:set:' .. name, team_id)
        end
    end
end

-- Registers a skill set the first time a case asks for it, indexing every team that has it.
local function ensure_set(P, name)
    if redis.call('SADD', P .. 'skillsets', name) == 0 then return end
    for _, id in ipairs(redis.call('SMEMBERS', P .. 'teams')) do
        local key = P .. 'team:' .. id
        local f = redis.call('HMGET', key, 'skills', 'sets', 'available', 'active', 'capacity',
            'lat', 'lon')
        if covers(set_of(split_csv(f[1])), name) then
            redis.call('HSET', key, 'sets', (f[2] and f[2] ~= '') and (f[2] .. '|' .. name) or name)
            redis.call('GEOADD', P .. 'geo:all:' .. name, f[7], f[6], id)
            if f[3] == '1' and tonumber(f[4]) < tonumber(f[5]) then
                redis.call('GEOADD', P .. 'geo:set:' .. name, f[7], f[6], id)
            end
        end
    end
end

local function team_get(P, team_id)
    local t = hgetall(P .. 'team:' .. team_id)
    if t.name == nil then return nil end
    return t
end

-- Verifies a team's bearer token (its SHA-256, computed by the router). Returns the team or a
-- refusal: unauthorized when the token is not that team's, forbidden when it is valid but
-- names another team than the one acted on (want_team, optional).
local function team_auth(P, auth_team, auth_hash, want_team)
    local stored = redis.call('HGET', P .. 'team:' .. auth_team, 'token_hash')
    if not stored or stored ~= auth_hash then return nil, 'unauthorized' end
    if want_team and want_team ~= auth_team then return nil, 'forbidden' end
    return team_get(P, auth_team)
end

---------------------------------------------------------------------------------------------
-- Assignment

-- The nearest team in the index within r km that is not excluded. The index holds only teams
-- that qualify, so the first hits are normally the answer; COUNT bounds the reply. Returns
-- {id, name, distance, capacity, notify, name_en}, or nil.
local function first_free(P, key, lon, lat, r, excluded)
    local count = 8
    while true do
        local args = {key, 'FROMLONLAT', lon, lat, 'BYRADIUS', r, 'km', 'ASC', 'WITHDIST'}
        if count then
            args[#args + 1] = 'COUNT'
            args[#args + 1] = count
        end
        local hits = redis.call('GEOSEARCH', unpack(args))
        for _, h in ipairs(hits) do
            local id = h[1]
            if not excluded[id] then
                local f = redis.call('HMGET', P .. 'team:' .. id, 'name', 'capacity', 'active',
                    'available', 'notify', 'name_en')
                local cap = tonumber(f[2] or '0')
                if f[4] == '1' and tonumber(f[3] or '0') < cap then
                    return {id = id, name = f[1], distance = tonumber(h[2]), capacity = cap,
                        notify = f[5] or '', name_en = f[6] or ''}
                end
            end
        end
        if not count or #hits < count then return nil end
        count = nil -- every hit was excluded: look at all of them
    end
end

-- The nearest suitable team for case c, searching outwards through its radii. Without a
-- preferred skill each step is searched through doubling sub-radii from 1 km: the first team
-- found is the nearest overall, and a small circle costs GEOSEARCH only the points inside it.
-- With one, a team that has it wins within each radius step. Returns as first_free.
local function find_team(P, c, excluded)
    if not has_location(c) then return nil end -- placed by an operator, assigned by hand
    local set = set_name(c.skills)
    ensure_set(P, set)
    local key = P .. 'geo:set:' .. set
    if redis.call('ZCARD', key) == 0 then return nil end
    local prefer_key = nil
    local prefer = c.prefer_skill or ''
    if prefer ~= '' and not set_of(split_csv(c.skills))[prefer] then
        local pset = set_name(c.skills .. ',' .. prefer)
        ensure_set(P, pset)
        prefer_key = P .. 'geo:set:' .. pset
    end
    local lon, lat = c.lon, c.lat
    local done = 0
    for _, rs in ipairs(split_csv(c.radii)) do
        local r = tonumber(rs)
        local hit = prefer_key and first_free(P, prefer_key, lon, lat, r, excluded)
        if hit then return hit end
        local sub = math.max(1, done * 2)
        while sub < r do
            hit = first_free(P, key, lon, lat, sub, excluded)
            if hit then return hit end
            sub = sub * 2
        end
        hit = first_free(P, key, lon, lat, r, excluded)
        if hit then return hit end
        done = r
    end
    return nil
end

-- Takes one slot of the team's capacity for the case; a full team leaves every index.
local function claim_slot(P, case_id, team_id, capacity)
    local key = P .. 'team:' .. team_id
    local active = redis.call('HINCRBY', key, 'active', 1)
    redis.call('SADD', key .. ':cases', case_id)
    if active >= capacity then
        for _, name in ipairs(split_bar(redis.call('HGET', key, 'sets'))) do
            redis.call('ZREM', P .. 'geo:set:' .. name, team_id)
        end
    end
end

local function dispatch_id(case_id, attempts)
    return 'd:' .. case_id .. ':' .. attempts
end

-- The dispatch to a team that has a way to be told (notify is set). The message carries what
-- the team needs, taken now: the sender does not read the case again.
local function queue_dispatch(P, case_id, c, team_id, notify, attempt, now)
    if notify == nil or notify == '' then return end
    outbox_add(P, 'dispatch', cjson.encode({case_id = case_id, team_id = team_id,
        attempt = attempt, notify = notify,
        token_nonce = redis.call('HGET', P .. 'team:' .. team_id, 'token_nonce') or '',
        tracking_code = c.tracking_code, category = c.category, priority = c.priority,
        description = c.description or '', lat = c.lat, lon = c.lon, address = c.address or '',
        reporter_name = c.reporter_name or '', reporter_phone = c.reporter_phone or '',
        channel = c.channel, distance_km = c.distance_km, ack_deadline = c.ack_deadline}),
        now, dispatch_id(case_id, attempt), case_id .. '|' .. team_id, case_id)
end

-- Assigns the case to the team hit ({id, name, name_en, distance, capacity, notify}): its
-- slot, the case record, the deadline, the dispatch.
local function claim_team(P, case_id, c, hit, now, by)
    local team_id, name, distance = hit.id, hit.name, hit.distance
    claim_slot(P, case_id, team_id, hit.capacity)
    local attempts = redis.call('HINCRBY', P .. 'case:' .. case_id, 'attempts', 1)
    local deadline = now + tonumber(c.ack_timeout_s) * 1000
    c.team_id, c.team_name, c.distance_km = team_id, name, tostring(round_km(distance))
    c.team_name_en = hit.name_en or ''
    if not has_location(c) then c.distance_km = '' end
    redis.call('HSET', P .. 'case:' .. case_id, 'team_id', team_id, 'team_name', name,
        'team_name_en', c.team_name_en, 'distance_km', c.distance_km, 'assigned_at', now,
        'ack_deadline', deadline, 'queue_reason', '')
    c.attempts, c.ack_deadline, c.queue_reason = attempts, deadline, ''
    redis.call('ZREM', P .. 'queue', case_id)
    redis.call('ZADD', P .. 'deadlines', deadline, case_id)
    record_status(P, case_id, c, 'assigned', now, by)
    queue_dispatch(P, case_id, c, team_id, hit.notify, attempts, now)
end

-- Releases the case's team (its slot comes free) without touching the case's status.
local function release_team(P, case_id, c)
    local team_id = c.team_id
    if team_id == nil or team_id == '' then return nil end
    local key = P .. 'team:' .. team_id
    if redis.call('SREM', key .. ':cases', case_id) == 1 then
        redis.call('HINCRBY', key, 'active', -1)
    end
    redis.call('ZREM', P .. 'deadlines', case_id)
    local t = team_get(P, team_id)
    if t then team_index(P, team_id, t) end
    return team_id
end

-- A case's place in the operators' queue (c.queue_reason as it will be stored): priority, then
-- age; a case whose classification was not confident (needs_triage) ranks above every priority,
-- as an operator must read it before anything else.
local function queue_score(c)
    local rank = c.queue_reason == 'needs_triage' and 0 or tonumber(c.priority_rank)
    return rank * PRIORITY_SCALE + tonumber(c.created_at)
end

-- The queued cases that routing may serve, in queue order (at most n): those waiting for
-- triage (rank 0) are never dispatched, so they are skipped without being read.
local function queue_routable(P, n)
    return redis.call('ZRANGE', P .. 'queue', string.format('%.0f', PRIORITY_SCALE), '+inf',
        'BYSCORE', 'LIMIT', 0, n)
end

local function queue_case(P, case_id, c, reason, now)
    c.queue_reason = reason
    redis.call('ZADD', P .. 'queue', queue_score(c), case_id)
    redis.call('HSET', P .. 'case:' .. case_id, 'queue_reason', reason, 'team_id', '',
        'team_name', '', 'team_name_en', '', 'distance_km', '')
    c.team_id, c.team_name, c.distance_km = '', '', ''
    c.team_name_en = ''
    if c.status ~= 'queued' then record_status(P, case_id, c, 'queued', now, 'router', reason) end
end

-- Tries to claim the nearest suitable team for a case; queues it when none can be had.
local function assign_case(P, case_id, c, now)
    local excluded = set_of(redis.call('SMEMBERS', P .. 'case:' .. case_id .. ':excluded'))
    local hit = find_team(P, c, excluded)
    if hit then
        claim_team(P, case_id, c, hit, now, 'router')
        return true
    end
    queue_case(P, case_id, c, has_location(c) and 'no_team_available' or 'no_location', now)
    return false
end

-- Capacity appeared at a team: assigns the queued cases it could serve, highest priority and
-- oldest first, each to its nearest suitable team, until the team is full. Returns case ids.
local function drain_for_team(P, team_id, now)
    local assigned = {}
    local t = team_get(P, team_id)
    if t == nil then return assigned end
    local have = set_of(team_skills(t))
    local tlat, tlon = tonumber(t.lat), tonumber(t.lon)
    local queued = queue_routable(P, DRAIN_SCAN)
    for _, case_id in ipairs(queued) do
        if not team_can_take(t) then break end
        local c = hgetall(P .. 'case:' .. case_id)
        if c.dispatch == '1' and c.status == 'queued' and c.escalated ~= '1' and
                redis.call('SISMEMBER', P .. 'case:' .. case_id .. ':excluded', team_id) == 0 then
            local ok = has_location(c) and covers(have, set_name(c.skills))
            if ok and haversine_km(tonumber(c.lat), tonumber(c.lon), tlat, tlon) <=
                    widest_radius(c) then
                if assign_case(P, case_id, c, now) then assigned[#assigned + 1] = case_id end
                t = team_get(P, team_id)
            end
        end
    end
    return assigned
end

---------------------------------------------------------------------------------------------
-- Views

local function case_view(P, case_id, c)
    c.timeline = {}
    for _, e in ipairs(redis.call('LRANGE', P .. 'case:' .. case_id .. ':timeline', 0, -1)) do
        c.timeline[#c.timeline + 1] = cjson.decode(e)
    end
    c.case_id = case_id
    return cjson.encode(c)
end

local function summary_of(case_id, c)
    local s = {case_id = case_id}
    for _, f in ipairs(SUMMARY_FIELDS) do s[f] = c[f] end
    return s
end

---------------------------------------------------------------------------------------------
-- Functions

-- The flat answer of ess_case_create (kept cheap: it runs for every incident): kind, case id,
-- then each of SUMMARY_FIELDS as name, value.
local function summary_array(kind, case_id, c)
    local out = {kind, case_id}
    for _, f in ipairs(SUMMARY_FIELDS) do
        out[#out + 1] = f
        out[#out + 1] = tostring(c[f] or '')
    end
    return out
end

-- ess_case_create's arguments, defined here once: the router sends them as name value pairs
-- (router/api/cases.c), and a name missing or unknown is refused with that name, so the two sides
-- cannot drift apart silently. All but CREATE_CONTROL are kept in the case's hash.
local CREATE_REQUIRED = {'case_id', 'tracking_code', 'category', 'priority', 'priority_rank',
    'skills', 'prefer_skill', 'radii', 'ack_timeout_s', 'max_attempts', 'dispatch', 'channel',
    'lat', 'lon', 'by'}
local CREATE_OPTIONAL = {'call_id', 'description', 'address', 'reporter_name', 'reporter_phone',
    'reporter_phone_hash', 'reporter_line_user', 'operator_id', 'line_lang', 'needs_triage',
    'line_user_key'}
local CREATE_ARGS = {} -- built with plain loops: ipairs is not reachable while the library loads
for i = 1, #CREATE_REQUIRED do CREATE_ARGS[CREATE_REQUIRED[i]] = true end
for i = 1, #CREATE_OPTIONAL do CREATE_ARGS[CREATE_OPTIONAL[i]] = true end
local CREATE_CONTROL = {'case_id', 'by', 'needs_triage'}
-- What a repeated call_id must repeat: the report's content, not who typed it or when.
local CONTENT_FIELDS = {'channel', 'category', 'description', 'lat', 'lon', 'address',
    'reporter_name', 'reporter_phone', 'reporter_line_user'}

-- The content's digest: the first 16 hex digits of a SHA-1 (64 bits tell a repeat from other
-- content; a longer digest kept by an older version is compared on its first 16).
local function content_digest(c)
    local parts = {}
    for _, f in ipairs(CONTENT_FIELDS) do
        local v = c[f] or ''
        parts[#parts + 1] = #v .. ':' .. v
    end
    return string.sub(redis.sha1hex(table.concat(parts, '|')), 1, 16)
end

-- ess_case_create P (name value)... with the names of CREATE_REQUIRED and CREATE_OPTIONAL.
-- Stores a new case, assigned to the nearest suitable team or queued, with its timeline, case
-- log entries, public view and dispatch, in one step and with one write per key. needs_triage
-- "1" (the category is the classifier's unsure guess; dispatch must be "0"): the guess is kept
-- as category_suggested too, and the case waits at the top of the queue (queue_reason
-- needs_triage) until an operator confirms or corrects it (ess_case_triage). A call_id is
-- kept with the digest of the content (P call:<call_id> = "<case_id> <digest>"): a repeat with the
-- same content answers that case as "exists", one with other content as "conflict" (nothing
-- written either way).
-- Answers {"created"|"exists"|"conflict", case_id, (SUMMARY_FIELDS name, value)...}, or
-- {"err", "track_collision"} to ask for another tracking code, or {"err", "bad_argument:<name>"}.
local function case_create(keys, a)
    local P = a[1]
    local c = {}
    for i = 2, #a, 2 do
        if not CREATE_ARGS[a[i]] or a[i + 1] == nil or c[a[i]] ~= nil then
            return {'err', 'bad_argument:' .. string.sub(a[i], 1, 32)}
        end
        c[a[i]] = a[i + 1]
    end
    for _, f in ipairs(CREATE_REQUIRED) do
        if c[f] == nil then return {'err', 'bad_argument:' .. f} end
    end
    local case_id, code, call_id = c.case_id, c.tracking_code, c.call_id or ''
    local by = c.by
    local unsure = c.needs_triage == '1' and c.dispatch ~= '1'
    for _, f in ipairs(CREATE_CONTROL) do c[f] = nil end
    local digest = content_digest(c)
    if call_id ~= '' then
        local existing = redis.call('GET', P .. 'call:' .. call_id)
        if existing then
            local id, was = string.match(existing, '^(%S+) (%x+)$')
            id = id or existing -- kept before digests were: taken as the same content
            local kind = (was == nil or string.sub(was, 1, 16) == digest) and 'exists' or
                'conflict'
            return summary_array(kind, id, hgetall(P .. 'case:' .. id))
        end
    end
    local tkey = P .. 'track:' .. code
    if redis.call('HSETNX', tkey, 'case_id', case_id) == 0 then
        return {'err', 'track_collision'}
    end
    if call_id ~= '' then redis.call('SET', P .. 'call:' .. call_id, case_id .. ' ' .. digest) end
    local now = now_ms()
    c.call_id, c.created_at, c.updated_at, c.attempts = call_id, now, now, 0
    c.team_id, c.team_name, c.distance_km, c.queue_reason = '', '', '', ''
    c.team_name_en = ''
    c.category_suggested = unsure and c.category or ''
    local second = {at = now, by = 'router'}
    local hit = nil
    -- The skill set is registered for every case (find_team does it for those it searches), so
    -- that an operator's candidates for the case are indexed.
    if c.dispatch ~= '1' or not has_location(c) then ensure_set(P, set_name(c.skills)) end
    if c.dispatch == '1' then
        hit = find_team(P, c, {})
        if hit then
            claim_slot(P, case_id, hit.id, hit.capacity)
            c.status, c.team_id, c.team_name = 'assigned', hit.id, hit.name
            c.team_name_en = hit.name_en
            c.distance_km = tostring(round_km(hit.distance))
            c.attempts, c.assigned_at = 1, now
            c.ack_deadline = now + tonumber(c.ack_timeout_s) * 1000
        else
            c.status = 'queued'
            c.queue_reason = has_location(c) and 'no_team_available' or 'no_location'
        end
    else
        c.status, c.queue_reason = 'queued', unsure and 'needs_triage' or 'triage'
    end
    second.status = c.status
    if c.status == 'assigned' then second.team = c.team_name end
    if c.queue_reason ~= '' then second.note = c.queue_reason end
    Stats.created(P, c, now)

    local duplicate_of = Duplicate.mark(P, c, now)

    local fields = {} -- an empty field is not kept: every reader takes it for ""
    for k, v in pairs(c) do
        if v ~= '' then
            fields[#fields + 1] = k
            fields[#fields + 1] = v
        end
    end
    local key = P .. 'case:' .. case_id
    redis.call('HSET', key, unpack(fields))
    redis.call('RPUSH', key .. ':timeline', cjson.encode({status = 'received', at = now, by = by}),
        cjson.encode(second))
    redis.call('ZADD', P .. 'cases:open', now, case_id) -- a new case is open: one index
    Open311.index(P, case_id, now)
    if (c.reporter_phone_hash or '') ~= '' then
        redis.call('ZADD', P .. 'phone:' .. c.reporter_phone_hash, now, case_id)
    end
    redis.call('HINCRBY', P .. 'stats', c.category .. '|' .. c.status, 1)
    log_event(P, case_id, {{'status', 'received'}, {'category', c.category},
        {'priority', c.priority}, {'team_id', ''}, {'by', by}, {'at', tostring(now)},
        {'team_name', ''}, {'team_name_en', ''}, {'distance_km', ''}, {'queue_reason', ''}}, c)
    log_event(P, case_id, {{'status', c.status}, {'category', c.category},
        {'priority', c.priority}, {'team_id', c.team_id}, {'by', 'router'},
        {'at', tostring(now)}}, c)
    if c.status == 'assigned' then
        redis.call('ZADD', P .. 'deadlines', c.ack_deadline, case_id)
        queue_dispatch(P, case_id, c, c.team_id, hit.notify, 1, now)
    else
        redis.call('ZADD', P .. 'queue', queue_score(c), case_id)
    end
    Duplicate.add(P, case_id, c, now)
    if duplicate_of then
        record_link(P, case_id, c, 'possible_duplicate', duplicate_of, now, 'router')
    end
    local timeline = public_timeline_add(public_timeline_add(nil, 'received', now), c.status, now)
    redis.call('HSET', tkey, 'category', c.category, 'status', c.status, 'updated_at', now,
        'team_name', c.team_name, 'team_name_en', c.team_name_en, 'timeline', timeline)
    return summary_array('created', case_id, c)
end

-- ess_team_put P team_id name skills lat lon capacity available notify token_hash rotate
--   token_nonce name_en ("": none)
-- Creates or updates a team; the token's hash and the nonce it was derived from are stored on
-- creation or when rotate is "1". A LINE group (notify.line_to) belongs to one team at most:
-- {"err": "line_to_taken"} when another team has it, and nothing changes.
-- {"created": bool, "token_set": bool, "assigned": [case ids drained from the queue]}.
local function team_put(keys, a)
    local P, team_id = a[1], a[2]
    local key = P .. 'team:' .. team_id
    local old = team_get(P, team_id)
    local created = old == nil
    local token_set = created or a[11] == '1'
    local now = now_ms()
    local fields = {'name', a[3], 'name_en', a[13] or '', 'skills', a[4], 'lat', a[5], 'lon', a[6],
        'capacity', a[7], 'available', a[8], 'notify', a[9], 'updated_at', now}
    if token_set then
        fields[#fields + 1] = 'token_hash'
        fields[#fields + 1] = a[10]
        fields[#fields + 1] = 'token_nonce'
        fields[#fields + 1] = a[12]
    end
    local function line_group(notify)
        if notify == nil or notify == '' then return nil end
        local ok, n = pcall(cjson.decode, notify)
        return ok and type(n) == 'table' and n.line_to or nil
    end
    local old_group = old and line_group(old.notify)
    local new_group = line_group(a[9])
    local line_key = P .. 'team:line:'
    if new_group then
        local holder = redis.call('GET', line_key .. new_group)
        if holder and holder ~= team_id then return refuse('line_to_taken') end
    end
    if old_group and old_group ~= new_group and redis.call('GET', line_key .. old_group) == team_id then
        redis.call('DEL', line_key .. old_group)
    end
    if new_group then redis.call('SET', line_key .. new_group, team_id) end
    if created then
        fields[#fields + 1] = 'active'
        fields[#fields + 1] = 0
        fields[#fields + 1] = 'created_at'
        fields[#fields + 1] = now
    end
    fields[#fields + 1] = 'sets'
    fields[#fields + 1] = qualifying_sets(P, a[4])
    redis.call('HSET', key, unpack(fields))
    redis.call('SADD', P .. 'teams', team_id)
    redis.call('ZADD', P .. 'teams:by_id', 0, team_id)
    local t = team_get(P, team_id)
    team_index(P, team_id, t, old and old.sets or nil)
    local assigned = {}
    if team_can_take(t) then assigned = drain_for_team(P, team_id, now) end
    return cjson.encode({created = created, token_set = token_set, assigned = assigned,
        active = tonumber(t.active), capacity = tonumber(t.capacity),
        available = t.available == '1'})
end

-- ess_team_position P team_id auth_team auth_hash lat lon available("1"|"0"|"")
local function team_position(keys, a)
    local P, team_id = a[1], a[2]
    local t, err = team_auth(P, a[3], a[4], team_id)
    if not t then return refuse(err) end
    local now = now_ms()
    local fields = {'lat', a[5], 'lon', a[6], 'updated_at', now}
    if a[7] ~= '' then
        fields[#fields + 1] = 'available'
        fields[#fields + 1] = a[7]
    end
    redis.call('HSET', P .. 'team:' .. team_id, unpack(fields))
    t = team_get(P, team_id)
    team_index(P, team_id, t)
    local assigned = {}
    if team_can_take(t) then assigned = drain_for_team(P, team_id, now) end
    t = team_get(P, team_id)
    return cjson.encode({assigned = assigned, active = tonumber(t.active),
        capacity = tonumber(t.capacity), available = t.available == '1'})
end

---------------------------------------------------------------------------------------------
-- The audit: who read or changed which case, from where, and every log-in

-- Each function that an API request reaches and that returns or changes a case's personal data
-- runs behind audited(), the one place that checks the actor's access to the case and appends
-- one entry to P audit for the request, as the function's first write (redis.pcall: when the
-- entry cannot be written, because an ACL denies the key, the stream's last id is the largest
-- there is, or memory is out, nothing else is written and the request is refused with
-- audit_unavailable; Lua would roll nothing back). No function changes or deletes an entry,
-- but by age: XADD's MINID at each add and ess_audit_trim remove those older than the
-- retention the router sends.

local AUDIT_ACTORS = {operator = true, supervisor = true, team = true, agency = true,
    admin = true}
local AUDIT_SCAN = 1000 -- entries one ess_audit_list call may look at

-- The actor context the router sends as one argument of each audited function, a JSON object
-- {"kind", "id", "ip", "keep_ms" (the audit's retention), "auth_team", "auth_hash" (teams: its
-- id again and its token's SHA-256, checked here)}: a table of those fields only, or nil when
-- it is malformed. kind, when given, replaces the JSON's (an actor the router cannot name).
local function audit_ctx(raw, kind)
    local ok, t = pcall(cjson.decode, raw or '')
    if not ok or type(t) ~= 'table' then return nil end
    local function str(v) return type(v) == 'string' and v or '' end
    local ctx = {kind = kind or str(t.kind), id = str(t.id), ip = str(t.ip),
        keep_ms = tonumber(t.keep_ms), auth_team = str(t.auth_team), auth_hash = str(t.auth_hash)}
    if not AUDIT_ACTORS[ctx.kind] or not ctx.keep_ms or ctx.keep_ms < 1 then return nil end
    if ctx.kind == 'team' and ctx.auth_team ~= ctx.id then return nil end
    return ctx
end

-- Index members: a stream id "<ms>-<seq>" with both parts zero-padded, so that the members of an
-- index (all of score 0) sort BYLEX as the ids do; a bound of milliseconds alone sorts before
-- every member of that millisecond.
local function zero_pad(digits, width)
    return string.rep('0', width - #digits) .. digits
end

local function audit_member(id)
    local ms, seq = string.match(id, '^(%d+)-(%d+)$')
    return zero_pad(ms, 15) .. '-' .. zero_pad(seq, 20)
end

local function audit_ms_bound(ms)
    return zero_pad(string.format('%.0f', math.max(0, ms)), 15)
end

local function audit_id(member)
    local ms, seq = string.match(member, '^0*(%d+)-0*(%d+)$')
    return ms .. '-' .. seq
end

-- Appends the entry (outcome: "ok" or the refusal) and files it in the index of its case (unless
-- the case does not exist) and of its actor's id (P audit:case:<id>, P audit:actor:<id>), each
-- trimmed to the retention and expiring with it. true, or false when any of it could not be
-- written.
local function audit_add(P, ctx, action, case_id, outcome)
    local now = now_ms()
    local id = redis.pcall('XADD', P .. 'audit', 'MINID', string.format('%.0f',
        math.max(0, now - ctx.keep_ms)), '*', 'at', string.format('%.0f', now), 'actor_kind',
        ctx.kind, 'actor_id', ctx.id, 'action', action, 'case_id', case_id, 'ip', ctx.ip,
        'outcome', outcome)
    if type(id) ~= 'string' then return false end
    local indexes = {}
    if case_id ~= '' and outcome ~= 'not_found' then
        indexes[#indexes + 1] = P .. 'audit:case:' .. case_id
    end
    if ctx.id ~= '' then indexes[#indexes + 1] = P .. 'audit:actor:' .. ctx.id end
    local member, expired = audit_member(id), '(' .. audit_ms_bound(now - ctx.keep_ms)
    for _, key in ipairs(indexes) do
        for _, cmd in ipairs({{'ZADD', key, 0, member}, {'ZREMRANGEBYLEX', key, '-', expired},
                {'PEXPIRE', key, string.format('%.0f', ctx.keep_ms)}}) do
            local r = redis.pcall(unpack(cmd))
            if type(r) == 'table' and r.err then return false end
        end
    end
    return true
end

-- Whether the actor of ctx may touch the case: operators and supervisors any case; a team only
-- the case it holds (the case's team) and never once it is closed; an agency a case of its
-- categories, and only where ctx.agency_categories says so (set by case_eido from the agency's
-- record, never read from the router's JSON: other functions refuse agencies); no one else.
-- ctx.group_team (set by case_ack_group, likewise) marks a team known by its LINE group rather
-- than by its token. The case's hash, or nil and the refusal: unauthorized (a team's token is
-- not its own), not_found, forbidden.
local function case_access(P, ctx, case_id)
    if ctx.kind == 'team' and not ctx.group_team then
        local t, err = team_auth(P, ctx.auth_team, ctx.auth_hash)
        if not t then return nil, err end
    end
    local c = hgetall(P .. 'case:' .. case_id)
    if c.status == nil then return nil, 'not_found' end
    if ctx.kind == 'operator' or ctx.kind == 'supervisor' then return c end
    if ctx.kind == 'team' and c.team_id == ctx.id and c.status ~= 'closed' then return c end
    if ctx.kind == 'agency' and ctx.agency_categories and ctx.agency_categories[c.category] then
        return c
    end
    return nil, 'forbidden'
end

-- audited(P, ctx, action, case_id, fn, deny): ctx is the router's JSON (or a table audit_ctx
-- made); case_id "" for an action on no case (a search, a log-in). Checks the actor's access to
-- the case (case_access), appends the entry with its outcome, then answers fn(c, ctx) (c the
-- case's hash, nil without a case) when allowed, else the refusal: a team refused a case it
-- does not hold gets deny in place of forbidden when deny is given (an acknowledgment's 409).
-- {"err": "audit_unavailable"} when the entry could not be written: then nothing was.
local function audited(P, ctx, action, case_id, fn, deny)
    if type(ctx) ~= 'table' then ctx = audit_ctx(ctx) end
    if not ctx then return refuse('bad_argument:ctx') end
    local c, err = nil, nil
    if case_id ~= '' then c, err = case_access(P, ctx, case_id) end
    if not audit_add(P, ctx, action, case_id, err or 'ok') then
        return refuse('audit_unavailable')
    end
    if err then return refuse(err == 'forbidden' and deny or err) end
    return fn(c, ctx)
end

-- The status functions' name for an actor: "team", or "operator" (supervisors included).
local function actor_role(ctx)
    return ctx.kind == 'team' and 'team' or 'operator'
end

-- One audit entry as GET /v1/audit answers it. Its time is its stream id's, which orders the
-- entries and which from and to filter on; the stored at (the function's clock, read before the
-- XADD) may be a millisecond earlier.
local function audit_entry_view(id, f)
    local e = {}
    for i = 1, #f, 2 do e[f[i]] = f[i + 1] end
    local function or_null(v) return (v and v ~= '') and v or cjson.null end
    return {id = id, at = iso_time(tonumber(string.match(id, '^(%d+)'))),
        actor = {kind = e.actor_kind or '', id = or_null(e.actor_id)}, action = e.action or '',
        case_id = or_null(e.case_id), ip = or_null(e.ip), outcome = e.outcome or ''}
end

-- ess_audit_list P case_id actor_kind actor_id action from_ms to_ms cursor limit (each "" when
-- not filtered): audit entries, newest first, at most limit, that match every filter given (from
-- and to inclusive, in ms; cursor: the id of the last entry of the previous page, the page
-- starting strictly after it). With case_id or actor_id the entries come from that index (ids
-- the stream no longer has are dropped from it), else from the stream itself. At most
-- AUDIT_SCAN entries are looked at: a page may hold fewer than limit and still have a next.
-- {"entries": [...], "next": id or null, "case_exists": bool}
local function audit_list(keys, a)
    local P, case_id, kind, actor, action = a[1], a[2], a[3], a[4], a[5]
    local from, to, cursor, limit = tonumber(a[6]), tonumber(a[7]), a[8], tonumber(a[9])
    local out, scanned, last, more = {}, 0, nil, false
    -- one entry looked at: kept when it matches; false once the page is full and one more matched
    local function take(id, f)
        scanned = scanned + 1
        last = id
        local e = audit_entry_view(id, f)
        if (kind ~= '' and e.actor.kind ~= kind) or (action ~= '' and e.action ~= action) or
                (actor ~= '' and e.actor.id ~= actor) then
            return true
        end
        if #out >= limit then
            more = true
            return false
        end
        out[#out + 1] = e
        return true
    end
    local index = nil
    if case_id ~= '' then
        index = P .. 'audit:case:' .. case_id
    elseif actor ~= '' then
        index = P .. 'audit:actor:' .. actor
    end
    if index then
        local hi = '+'
        if to then hi = '(' .. audit_ms_bound(to + 1) end
        if cursor ~= '' and (hi == '+' or audit_member(cursor) < string.sub(hi, 2)) then
            hi = '(' .. audit_member(cursor)
        end
        local lo = from and '[' .. audit_ms_bound(from) or '-'
        while not more and scanned < AUDIT_SCAN do
            local batch = redis.call('ZRANGE', index, hi, lo, 'BYLEX', 'REV', 'LIMIT', 0,
                math.min(100, AUDIT_SCAN - scanned))
            if #batch == 0 then break end
            for _, m in ipairs(batch) do
                hi = '(' .. m
                local id = audit_id(m)
                local r = redis.call('XRANGE', P .. 'audit', id, id)
                if #r == 0 then
                    redis.call('ZREM', index, m)
                elseif not take(id, r[1][2]) then
                    break
                end
            end
        end
    else
        local hi = to and string.format('%.0f', to) or '+'
        if cursor ~= '' then
            local cms = tonumber(string.match(cursor, '^(%d+)'))
            if not to or cms <= to then hi = '(' .. cursor end
        end
        local lo = from and string.format('%.0f', from) or '-'
        while not more and scanned < AUDIT_SCAN do
            local batch = redis.call('XREVRANGE', P .. 'audit', hi, lo, 'COUNT',
                math.min(100, AUDIT_SCAN - scanned))
            if #batch == 0 then break end
            for _, e in ipairs(batch) do
                hi = '(' .. e[1]
                if not take(e[1], e[2]) then break end
            end
        end
    end
    local next_id = cjson.null
    if more then
        next_id = out[#out].id
    elseif scanned >= AUDIT_SCAN and last then
        next_id = last -- the scan's bound: go on from the last entry looked at
    end
    local r = {next = next_id}
    if case_id ~= '' then r.case_exists = redis.call('EXISTS', P .. 'case:' .. case_id) == 1 end
    local entries = {}
    for i, e in ipairs(out) do entries[i] = cjson.encode(e) end
    return string.sub(cjson.encode(r), 1, -2) .. ',"entries":[' .. table.concat(entries, ',') ..
        ']}'
end

-- ess_audit_trim P keep_ms: removes the entries older than keep_ms (a sweep's, so that they
-- expire while nothing is written). {"trimmed": n}
local function audit_trim(keys, a)
    local P, keep = a[1], tonumber(a[2])
    local n = redis.call('XTRIM', P .. 'audit', 'MINID',
        string.format('%.0f', math.max(0, now_ms() - keep)))
    return cjson.encode({trimmed = n})
end

---------------------------------------------------------------------------------------------
-- Talking to a person (a LINE reporter and an operator)

local CHAT_ACTIVE = {waiting = true, open = true}

-- The case whose chat the LINE user (user_key) is in now, or '': line:talk names it and its
-- chat is waiting or open.
local function chat_active(P, user_key)
    local id = redis.call('GET', P .. 'line:talk:' .. user_key)
    if not id then return '' end
    if CHAT_ACTIVE[redis.call('HGET', P .. 'case:' .. id, 'chat') or ''] then return id end
    return ''
end

-- Appends a message to the case's conversation; the case log gets an entry saying one came
-- (chat_message, its place, author and time), never its text. Returns its place n and the
-- entry as stored (JSON).
local function chat_append(P, case_id, role, by, text, sent_at, now)
    local key = P .. 'case:' .. case_id .. ':chat'
    local n = redis.call('LLEN', key) + 1
    local e = {n = n, role = role, by = by, text = text, at = now}
    if sent_at and sent_at ~= '' then e.sent_at = tonumber(sent_at) end
    local stored = cjson.encode(e)
    redis.call('RPUSH', key, stored)
    log_event(P, case_id, {{'event', 'chat_message'}, {'chat_seq', tostring(n)},
        {'chat_author', role}, {'by', by}, {'at', tostring(now)}})
    return n, stored
end

-- Opens a chat on the case: waiting for an operator from now, escalated after wait_ms
-- (chat:deadlines), listed in chats; the LINE user's messages go to it (line:talk, ttl_s).
local function chat_begin(P, case_id, c, user_key, lang, wait_ms, ttl_s, now)
    redis.call('HSET', P .. 'case:' .. case_id, 'chat', 'waiting', 'chat_since', now,
        'chat_operator', '', 'chat_escalated', '', 'chat_lang', lang)
    c.chat, c.chat_since = 'waiting', now
    redis.call('ZADD', P .. 'chats', now, case_id)
    redis.call('ZADD', P .. 'chat:deadlines', now + wait_ms, case_id)
    redis.call('SET', P .. 'line:talk:' .. user_key, case_id, 'EX', ttl_s)
    record_event(P, case_id, c, 'chat', 'waiting', now, 'reporter')
end

-- What take and close answer: {case_id, tracking_code, chat, chat_operator, chat_since,
-- chat_escalated}; never a text.
local function chat_view(case_id, c)
    return cjson.encode({case_id = case_id, tracking_code = c.tracking_code or '',
        chat = c.chat or '', chat_operator = c.chat_operator or '',
        chat_since = c.chat_since or '', chat_escalated = c.chat_escalated == '1'})
end

-- Ends the case's chat (by: who): closed now, out of chats and chat:deadlines; the reporter gets
-- the closing line in the chat's language (outbox kind chat_closed, rendered when sent), and
-- their next message goes to the bot again (chat_active no longer names the case).
local function chat_end(P, case_id, c, by, now)
    redis.call('HSET', P .. 'case:' .. case_id, 'chat', 'closed', 'chat_closed_at', now)
    c.chat, c.chat_closed_at = 'closed', now
    redis.call('ZREM', P .. 'chats', case_id)
    redis.call('ZREM', P .. 'chat:deadlines', case_id)
    if (c.reporter_line_user or '') ~= '' then
        local lang = c.chat_lang or ''
        if lang == '' then lang = c.line_lang or 'th' end
        outbox_add(P, 'chat_closed', cjson.encode({case_id = case_id, to = c.reporter_line_user,
            lang = lang, tracking_code = c.tracking_code or ''}), now, nil, nil, case_id)
    end
    record_event(P, case_id, c, 'chat', 'closed', now, by)
end

-- ess_chat_messages P ctx case_id after limit (audited: chat): the case's conversation after
-- place after (0: from the start), at most limit entries, oldest first: {case_id, chat,
-- chat_operator, chat_since, chat_escalated, messages: [...], next: the place to ask after for
-- more, or null}, or a refusal.
local function chat_messages(keys, a)
    local P, case_id = a[1], a[3]
    local after, limit = tonumber(a[4]), tonumber(a[5])
    return audited(P, a[2], 'chat', case_id, function(c)
        local key = P .. 'case:' .. case_id .. ':chat'
        local page = redis.call('LRANGE', key, after, after + limit - 1)
        local total = redis.call('LLEN', key)
        local head = cjson.encode({case_id = case_id, chat = c.chat or '',
            chat_operator = c.chat_operator or '', chat_since = c.chat_since or '',
            chat_escalated = c.chat_escalated == '1',
            next = (after + #page < total) and (after + #page) or cjson.null})
        -- the entries as stored (JSON already), joined: no decoding of every text
        return string.sub(head, 1, -2) .. ',"messages":[' .. table.concat(page, ',') .. ']}'
    end)
end

-- ess_chat_take P ctx case_id (audited: chat): the operator of ctx takes the case's waiting chat
-- and becomes its only human voice (chat open, chat_operator, chat_taken_at); its wait is no longer
-- escalated (the case stays in chats). Taking one's own open chat again answers it unchanged.
-- Refusals: not_found; chat_taken {operator_id} (open with another operator); no_chat {chat} (not
-- waiting). The chat's view (chat_view).
local function chat_take(keys, a)
    local P, case_id = a[1], a[3]
    local key = P .. 'case:' .. case_id
    return audited(P, a[2], 'chat', case_id, function(c, ctx)
        local op = ctx.id
        if c.chat == 'open' then
            if c.chat_operator == op then return chat_view(case_id, c) end
            return refuse('chat_taken', {operator_id = c.chat_operator})
        end
        if c.chat ~= 'waiting' then return refuse('no_chat', {chat = c.chat or ''}) end
        local now = now_ms()
        redis.call('HSET', key, 'chat', 'open', 'chat_operator', op, 'chat_taken_at', now)
        c.chat, c.chat_operator, c.chat_taken_at = 'open', op, now
        redis.call('ZREM', P .. 'chat:deadlines', case_id)
        record_event(P, case_id, c, 'chat', 'taken', now, op)
        return chat_view(case_id, c)
    end)
end

-- ess_chat_say P ctx case_id messages_json text (audited: chat): the operator of ctx, answering the
-- case's open chat, writes text: stored in the conversation (chat_append) and, in the same step,
-- queued as a push of messages_json (the LINE messages the router rendered of text) to the
-- reporter, so that it is sent once whatever happens after (the outbox keeps its retry key).
-- Refusals: not_found; chat_not_open {chat}; chat_taken {operator_id}; no_line_user (erased). The
-- entry as stored {n, role, by, text, at}.
local function chat_say(keys, a)
    local P, case_id, messages, text = a[1], a[3], a[4], a[5]
    return audited(P, a[2], 'chat', case_id, function(c, ctx)
        local op = ctx.id
        if c.chat ~= 'open' then return refuse('chat_not_open', {chat = c.chat or ''}) end
        if c.chat_operator ~= op then
            return refuse('chat_taken', {operator_id = c.chat_operator})
        end
        local to = c.reporter_line_user or ''
        if to == '' then return refuse('no_line_user') end
        local now = now_ms()
        local _, stored = chat_append(P, case_id, 'operator', op, text, '', now)
        outbox_add(P, 'line_push', '{"to":' .. json_str(to) .. ',"messages":' .. messages .. '}',
            now, nil, nil, case_id)
        return stored
    end)
end

-- ess_chat_close P ctx case_id (audited: chat): hands the reporter back to the bot (chat_end). Any
-- operator may close a waiting chat; an open one only its operator or a supervisor. Refusals:
-- not_found; no_chat {chat} (none waiting or open); chat_taken {operator_id}. The chat's view (chat
-- "closed").
local function chat_close(keys, a)
    local P, case_id = a[1], a[3]
    return audited(P, a[2], 'chat', case_id, function(c, ctx)
        local op, supervisor = ctx.id, ctx.kind == 'supervisor'
        if not CHAT_ACTIVE[c.chat or ''] then return refuse('no_chat', {chat = c.chat or ''}) end
        if c.chat == 'open' and c.chat_operator ~= op and not supervisor then
            return refuse('chat_taken', {operator_id = c.chat_operator})
        end
        chat_end(P, case_id, c, op, now_ms())
        return chat_view(case_id, c)
    end)
end

-- ess_chat_wait_expire P limit: every chat nobody took within ESS_CHAT_WAIT_S (chat:deadlines,
-- at most limit) is escalated to supervisors: chat_escalated, a timeline entry, and the
-- supervisor notice (outbox kind escalation, reason chat_wait). Not escalate(): the case keeps
-- its status, team and queue place. Exactly once across router processes: the entry is removed
-- in the same step. {"escalated": [case ids]}
local function chat_wait_expire(keys, a)
    local P, limit = a[1], tonumber(a[2])
    local now = now_ms()
    local out = {}
    for _, case_id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'chat:deadlines', '-inf', now,
            'LIMIT', 0, limit)) do
        redis.call('ZREM', P .. 'chat:deadlines', case_id)
        local c = hgetall(P .. 'case:' .. case_id)
        if c.chat == 'waiting' and c.chat_escalated ~= '1' then
            redis.call('HSET', P .. 'case:' .. case_id, 'chat_escalated', '1')
            c.chat_escalated = '1'
            record_event(P, case_id, c, 'chat', 'escalated', now, 'router')
            outbox_add(P, 'escalation', cjson.encode({case_id = case_id, reason = 'chat_wait'}),
                now, nil, nil, case_id)
            out[#out + 1] = case_id
        end
    end
    if #out == 0 then return '{"escalated":[]}' end
    return cjson.encode({escalated = out})
end

---------------------------------------------------------------------------------------------
-- Consent to share with the agencies that help, and quiet updates (a LINE reporter's choice)

local CONSENT_BASES = {consent = true, vital_interest = true, legal_obligation = true}

-- Records whether the reporter's identifying data may go to the agencies that help (share: true
-- or false; the responding team needs none: vital interest), on which basis, who said so (by: the
-- operator's id, or "reporter" from LINE) and when; note (the operator's words, personal: never
-- on the timeline or in the case log) replaces the last one, "" removes it. The timeline gets
-- {event "consent", note "share"|"no_share", basis, by, at}, the case log an entry of event
-- consent, without text.
local function consent_record(P, case_id, c, share, basis, by, note, now)
    local key = P .. 'case:' .. case_id
    redis.call('HSET', key, 'share_with_agencies', share and '1' or '0', 'consent_basis', basis,
        'consent_by', by, 'consent_at', now)
    if note ~= '' then
        redis.call('HSET', key, 'consent_note', note)
    else
        redis.call('HDEL', key, 'consent_note')
    end
    redis.call('RPUSH', key .. ':timeline', cjson.encode({status = c.status, event = 'consent',
        note = share and 'share' or 'no_share', basis = basis, at = now, by = by}))
    log_event(P, case_id, {{'event', 'consent'}, {'by', by}, {'at', tostring(now)}})
end

-- The LINE reporter's choice of quiet updates (quiet true: no progress push from now on, and
-- those queued before are dropped when claimed; false: pushed again). A change is on the
-- timeline {event "quiet", note "on"|"off", by "reporter"} and in the case log.
local function consent_quiet_set(P, case_id, c, quiet, now)
    if (c.line_quiet == '1') == quiet then return end
    if quiet then
        redis.call('HSET', P .. 'case:' .. case_id, 'line_quiet', '1')
    else
        redis.call('HDEL', P .. 'case:' .. case_id, 'line_quiet')
    end
    c.line_quiet = quiet and '1' or nil
    record_event(P, case_id, c, 'quiet', quiet and 'on' or 'off', now, 'reporter')
end

-- The case of tracking code code that the LINE user line_user reported: its id and hash, or nil
-- (no such code, or another user's case).
local function line_case(P, code, line_user)
    local id = redis.call('HGET', P .. 'track:' .. (code or ''), 'case_id')
    if not id or (line_user or '') == '' then return nil end
    local c = hgetall(P .. 'case:' .. id)
    if c.status == nil or c.reporter_line_user ~= line_user then return nil end
    return id, c
end

-- ess_case_consent P ctx case_id share basis note (audited: consent; share "1" or "0", basis
-- one of CONSENT_BASES, note "" for none): consent_record by the actor. The case as
-- ess_case_get answers it, or a refusal (erased: the case's personal data was erased; its
-- consent, and a note, would outlive it).
local function case_consent(keys, a)
    local P, case_id, share, basis, note = a[1], a[3], a[4], a[5], a[6] or ''
    if (share ~= '1' and share ~= '0') or not CONSENT_BASES[basis] then
        return refuse('bad_argument:consent')
    end
    return audited(P, a[2], 'consent', case_id, function(c, ctx)
        if (c.erased_at or '') ~= '' then return refuse('erased') end
        consent_record(P, case_id, c, share == '1', basis, ctx.id, note, now_ms())
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

---------------------------------------------------------------------------------------------
-- Cases: what operators and teams read and do

-- ess_case_get P ctx case_id: the case as an operator, or the team holding it, reads it
-- (audited: read).
local function case_get(keys, a)
    local P, case_id = a[1], a[3]
    return audited(P, a[2], 'read', case_id, function(c) return case_view(P, case_id, c) end)
end

-- ess_case_read P case_id (read only; not audited): the case for the router's own use (the notice
-- of an escalated case to supervisors, the description a triage is decided from), never the
-- answer to a request. The case as ess_case_get answers it, or {"err": "not_found"}.
local function case_read(keys, a)
    local P, case_id = a[1], a[2]
    local c = hgetall(P .. 'case:' .. case_id)
    if c.status == nil then return refuse('not_found') end
    return case_view(P, case_id, c)
end

-- Which statuses may follow which, for operators and for the team that holds the case.
local ACTIVE = {assigned = true, acknowledged = true, en_route = true, on_scene = true}
local ALLOWED_FROM = {
    en_route = {assigned = true, acknowledged = true},
    on_scene = {assigned = true, acknowledged = true, en_route = true},
    resolved = {assigned = true, acknowledged = true, en_route = true, on_scene = true},
    closed = {resolved = true},
}

-- ess_case_status P ctx case_id status note (audited: update; by: the actor)
-- An operator may also close a case from any open status (e.g. a triage case); closing or
-- resolving releases the team and lets the queue drain into the freed slot.
-- Closing a case ends its chat while one waits or is open (chat_end: the reporter gets the
-- closing line); a resolved case keeps its chat.
local function case_status(keys, a)
    local P, case_id, status, note = a[1], a[3], a[4], a[5]
    return audited(P, a[2], 'update', case_id, function(c, ctx)
        local actor, by = actor_role(ctx), ctx.id
        local from = c.status
        local ok = ALLOWED_FROM[status] and ALLOWED_FROM[status][from]
        if status == 'closed' and actor == 'operator' and from ~= 'closed' then ok = true end
        if not ok then return refuse('invalid_transition', {from = from, to = status}) end
        local now = now_ms()
        local freed = nil
        if (status == 'resolved' or status == 'closed') then
            if ACTIVE[from] then freed = release_team(P, case_id, c) end
            redis.call('ZREM', P .. 'queue', case_id)
            redis.call('ZREM', P .. 'deadlines', case_id)
        end
        if from == 'assigned' then redis.call('ZREM', P .. 'deadlines', case_id) end
        if status == 'closed' and CHAT_ACTIVE[c.chat or ''] then
            chat_end(P, case_id, c, by, now)
        end
        record_status(P, case_id, c, status, now, by, note)
        if freed then drain_for_team(P, freed, now) end
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

-- ess_case_ack P ctx case_id: the team of ctx acknowledges (audited: update); a team that does
-- not (or no longer) hold the case gets not_assigned.
local function case_ack(keys, a)
    local P, case_id = a[1], a[3]
    return audited(P, a[2], 'update', case_id, function(c, ctx)
        if not ACTIVE[c.status] then return refuse('not_assigned') end
        if c.status == 'assigned' then
            local now = now_ms()
            redis.call('ZREM', P .. 'deadlines', case_id)
            redis.call('HSET', P .. 'case:' .. case_id, 'acknowledged_at', now)
            record_status(P, case_id, c, 'acknowledged', now, ctx.id)
        end
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end, 'not_assigned')
end

-- ess_case_assign P ctx case_id team_id confirm_far: an operator assigns by hand (audited:
-- update). A team farther from the case than its widest search radius is refused ({"err":
-- "far_team", distance_km, max_radius_km}) unless confirm_far is "1".
local function case_assign(keys, a)
    local P, case_id, team_id, confirm_far = a[1], a[3], a[4], a[5]
    return audited(P, a[2], 'update', case_id, function(c, ctx)
        local by = ctx.id
        local t = team_get(P, team_id)
        if t == nil then return refuse('team_not_found') end
        if c.status == 'resolved' or c.status == 'closed' then
            return refuse('invalid_transition', {from = c.status, to = 'assigned'})
        end
        if c.team_id == team_id and ACTIVE[c.status] then
            return case_view(P, case_id, c)
        end
        if tonumber(t.active) >= tonumber(t.capacity) then return refuse('team_full') end
        local d = 0
        if has_location(c) then
            d = haversine_km(tonumber(c.lat), tonumber(c.lon), tonumber(t.lat), tonumber(t.lon))
            local max_r = widest_radius(c)
            if max_r > 0 and d > max_r and confirm_far ~= '1' then
                return refuse('far_team', {distance_km = round_km(d), max_radius_km = max_r})
            end
        end
        local now = now_ms()
        if ACTIVE[c.status] then
            release_team(P, case_id, c)
            record_status(P, case_id, c, 'reassigned', now, by)
        end
        claim_team(P, case_id, c, {id = team_id, name = t.name, name_en = t.name_en,
            distance = d, capacity = tonumber(t.capacity), notify = t.notify}, now, by)
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

-- ess_case_list P status category cursor limit [chat] (read only)
-- Without a status: open cases, newest first. status=queued: the operators' queue order.
-- resolved or closed: that status' index, newest first; another status: the open cases that
-- have it, newest first (the open cases are few; a page looks at 5,000 of them at most).
-- chat (waiting|open): the cases whose chat is so, longest waiting first (P chats).
-- The cursor is the (score, id) of the last case the previous page looked at ("" for the first
-- page), and a page starts strictly after it: a case that leaves the list between two pages
-- moves no other case, so nothing is skipped or listed twice. A sorted set orders equal scores
-- by member, so (score, id) is a total order in both directions.
local function case_list(keys, a)
    local P, status, category = a[1], a[2], a[3]
    local limit = tonumber(a[5])
    local chat = a[6] or ''
    local key, rev = P .. 'cases:open', true
    if chat ~= '' then
        key, rev = P .. 'chats', false
    elseif status == 'queued' then
        key, rev = P .. 'queue', false
    elseif ENDED[status] then
        key = P .. 'cases:status:' .. status
    end -- another status: the open cases, each read and kept when it has that status
    local cur_score, cur_id = nil, nil
    if a[4] ~= '' then
        local sc, id = string.match(a[4], '^(%d+)-(%w+)$')
        if sc == nil then return refuse('bad_cursor') end
        cur_score, cur_id = tonumber(sc), id
    end
    -- after(score, id): true when (score, id) comes strictly after the cursor in list order.
    local function after(score, id)
        if cur_score == nil then return true end
        if rev then return score < cur_score or (score == cur_score and id < cur_id) end
        return score > cur_score or (score == cur_score and id > cur_id)
    end
    local out, scanned, more = {}, 0, false
    local batch = math.max(limit, 100)
    local skip = 0 -- members at the cursor's own score already passed over in this bound
    while scanned < 5000 do
        local bound = cur_score and string.format('%.0f', cur_score) or nil
        local r
        if rev then
            r = redis.call('ZRANGE', key, bound or '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT',
                skip, batch, 'WITHSCORES')
        else
            r = redis.call('ZRANGE', key, bound or '-inf', '+inf', 'BYSCORE', 'LIMIT',
                skip, batch, 'WITHSCORES')
        end
        if #r == 0 then break end
        local moved = false
        for i = 1, #r, 2 do
            local id, score = r[i], tonumber(r[i + 1])
            if after(score, id) then
                if #out >= limit then
                    more = true
                    break
                end
                cur_score, cur_id, moved = score, id, true
                scanned = scanned + 1
                local c = hgetall(P .. 'case:' .. id)
                if c.status and (category == '' or c.category == category) and
                        (status == '' or c.status == status) and
                        (chat == '' or c.chat == chat) then
                    out[#out + 1] = summary_of(id, c)
                end
            end
        end
        if more or #r < 2 * batch then break end
        -- A full batch: go on from the new cursor, or, when the whole batch sat at the cursor's
        -- score before it, past those members.
        if moved then skip = 0 else skip = skip + batch end
    end
    local next_cursor = cjson.null
    if more or (scanned >= 5000 and cur_score) then -- the scan's bound: go on from here
        next_cursor = string.format('%.0f', cur_score) .. '-' .. cur_id
    end
    return cjson.encode({cases = out, next = next_cursor})
end

-- ess_stats P (read only): cases by category and status, the queue's length, and how many
-- outgoing messages the outbox holds (due, waiting for a retry, or being sent).
local function stats(keys, a)
    local P = a[1]
    return cjson.encode({stats = hgetall(P .. 'stats'), queue = redis.call('ZCARD', P .. 'queue'),
        outbox = redis.call('ZCARD', P .. 'outbox:due')})
end

-- ess_queue_sweep P: retries queued cases (operators' queue order, bounded); a safety net
-- behind the event-driven drains. Returns the case ids assigned.
local function queue_sweep(keys, a)
    local P = a[1]
    local now = now_ms()
    local assigned = {}
    for _, case_id in ipairs(queue_routable(P, SWEEP_MAX)) do
        local c = hgetall(P .. 'case:' .. case_id)
        if c.dispatch == '1' and c.status == 'queued' and c.escalated ~= '1' then
            if assign_case(P, case_id, c, now) then assigned[#assigned + 1] = case_id end
        end
    end
    if #assigned == 0 then return '{"assigned":[]}' end
    return cjson.encode({assigned = assigned})
end

-- ess_outbox_claim P limit lease_ms: the messages due now, oldest first, each leased (its due
-- time pushed lease_ms ahead) so that one router process sends it while the others skip it.
-- A progress notice about a case whose reporter chose quiet updates after it was queued is
-- dropped here, never sent (case_quiet). A message claimed again while still marked leased had
-- its lease run out with no outcome reported (its sender died mid-send, or the report was lost):
-- whether that try reached the receiver is unknown, and the message says so from then on
-- (unsure: a LINE reply's token may be used up already).
-- {"items": [{id, kind, payload, attempts, retry_key, unsure}], "next_ms": ms until the next
-- message is due, or -1 when none is queued}
local function outbox_claim(keys, a)
    local P, limit, lease = a[1], tonumber(a[2]), tonumber(a[3])
    local now = now_ms()
    local items = {}
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'outbox:due', '-inf', now, 'LIMIT', 0,
            limit)) do
        local h = hgetall(P .. 'outbox:item:' .. id)
        if h.holder and h.holder ~= '' then
            local case_id, team_id = string.match(h.holder, '^(.*)|(.*)$')
            local f = redis.call('HMGET', P .. 'case:' .. case_id, 'team_id', 'status')
            if f[1] ~= team_id or f[2] ~= 'assigned' then h.kind = nil end -- lapsed
        end
        if h.kind == 'progress' then
            local ok, p = pcall(cjson.decode, h.payload or '')
            if ok and type(p) == 'table' and type(p.case_id) == 'string' and
                    case_quiet(P, p.case_id) then
                h.kind = nil -- the reporter chose quiet updates since
            end
        end
        if h.kind then
            local unsure = h.unsure == '1' or h.leased == '1'
            redis.call('ZADD', P .. 'outbox:due', now + lease, id)
            redis.call('HSET', P .. 'outbox:item:' .. id, 'leased', '1', 'unsure',
                unsure and '1' or '0')
            items[#items + 1] = {id = id, kind = h.kind, payload = h.payload,
                attempts = tonumber(h.attempts), retry_key = h.retry_key, unsure = unsure}
        else
            redis.call('DEL', P .. 'outbox:item:' .. id)
            redis.call('ZREM', P .. 'outbox:due', id)
        end
    end
    local next_ms = -1
    local first = redis.call('ZRANGE', P .. 'outbox:due', 0, 0, 'WITHSCORES')
    if first[2] then next_ms = math.max(0, tonumber(first[2]) - now) end
    if #items == 0 then return '{"items":[],"next_ms":' .. next_ms .. '}' end
    return cjson.encode({items = items, next_ms = next_ms})
end

-- ess_outbox_done P id: delivered (or given up on: then reason is kept in the dead list).
local function outbox_done(keys, a)
    local P, id, dead_reason = a[1], a[2], a[3]
    if dead_reason and dead_reason ~= '' then
        local h = hgetall(P .. 'outbox:item:' .. id)
        if h.kind then
            redis.call('LPUSH', P .. 'outbox:dead', cjson.encode({id = id, kind = h.kind,
                attempts = tonumber(h.attempts), reason = dead_reason, at = now_ms()}))
            redis.call('LTRIM', P .. 'outbox:dead', 0, 9999)
        end
    end
    redis.call('DEL', P .. 'outbox:item:' .. id)
    redis.call('ZREM', P .. 'outbox:due', id)
    return cjson.encode({ok = true})
end

-- ess_outbox_retry P id delay_ms [kind payload [unsure]]: try again later, possibly as another
-- kind (a LINE reply whose token expired becomes a push: kind "" keeps the message as it is).
-- unsure "1": this try may have reached its receiver although it failed (a 5xx, or no answer),
-- and the message says so from then on, as outbox_claim's mark after a lost lease.
local function outbox_retry(keys, a)
    local P, id, delay = a[1], a[2], tonumber(a[3])
    local key = P .. 'outbox:item:' .. id
    if redis.call('EXISTS', key) == 0 then return cjson.encode({ok = false}) end
    if a[4] and a[4] ~= '' then -- a new kind of message: its attempts start again
        redis.call('HSET', key, 'kind', a[4], 'payload', a[5], 'attempts', 0, 'unsure', '0')
    else
        redis.call('HINCRBY', key, 'attempts', 1)
        if a[6] == '1' then redis.call('HSET', key, 'unsure', '1') end
    end
    redis.call('HDEL', key, 'leased') -- this try's outcome is known
    redis.call('ZADD', P .. 'outbox:due', now_ms() + delay, id)
    return cjson.encode({ok = true})
end

-- The case a LINE conversation state (its JSON) follows: the case of its last tracking code, or
-- nil (none, or the code's public view is gone).
local function state_case(P, state)
    local code = state and string.match(state, '"last_tracking_code":"([%w%-]+)"')
    return code and redis.call('HGET', P .. 'track:' .. code, 'case_id') or nil
end

-- ess_line_begin P event_id user_key (read only): whether the LINE event was handled already,
-- the user's conversation state, and its version (its number of commits, "0" for none), which
-- ess_line_commit checks, and talk: the case whose chat the user is in (chat_active), or "".
-- {"dup": bool, "state": string or false, "version": string, "talk": string}
local function line_begin(keys, a)
    local P, event_id, user_key = a[1], a[2], a[3]
    local dup = event_id ~= '' and redis.call('EXISTS', P .. 'line:event:' .. event_id) == 1
    return cjson.encode({dup = dup, state = redis.call('GET', P .. 'line:state:' .. user_key),
        version = redis.call('GET', P .. 'line:version:' .. user_key) or '0',
        talk = user_key ~= '-' and chat_active(P, user_key) or ''})
end

-- Appends a note to the case's timeline with its author by (nil: "reporter", a LINE user's
-- answer to "anything else?"; else the operator who wrote it): operators and the team holding
-- the case read it in GET /v1/cases/{id}; the public view and the case log never carry the text.
-- false when there is no such case, or its personal data was erased (a note would outlive it).
local function case_note_add(P, case_id, text, now, by)
    local c = hgetall(P .. 'case:' .. case_id)
    if c.status == nil or (c.erased_at or '') ~= '' then return false end
    record_event(P, case_id, c, 'note', text, now, by or 'reporter')
    return true
end

-- ess_case_note P case_id text [by]: case_note_add on its own; by ("reporter" when not given)
-- is the note's author. {"ok": bool}
local function case_note(keys, a)
    return cjson.encode({ok = case_note_add(a[1], a[2], a[3], now_ms(), a[4])})
end

-- ess_case_note_view P ctx case_id text: an operator's note (case_note_add by the actor;
-- audited: update), and the case as ess_case_get answers it, or a refusal (erased: the case's
-- personal data was erased, and takes no new note).
local function case_note_view(keys, a)
    local P, case_id = a[1], a[3]
    return audited(P, a[2], 'update', case_id, function(c, ctx)
        if not case_note_add(P, case_id, a[4], now_ms(), ctx.id) then return refuse('erased') end
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

-- Puts a case where its reporter or an operator (by) says it is: lat and lon (strings, as the
-- router formats them) replace the case's, and address too when not "" (kept otherwise); note
-- goes on the timeline as a "location" entry (operators and the holding team read it; the case
-- log and the public view never carry it). A case waiting in the queue with automatic routing
-- (not waiting for triage) is routed from the new place, and stays queued (no_team_available)
-- when no team can be had. An escalated case waits for a person: it is routed only when
-- route_escalated is true (the person is the operator placing it), and stays as it was (with
-- its reason) when no team can be had. A team that holds the case keeps it, its distance
-- measured again. Returns the case, or nil and a refusal: not_found, or invalid_transition for a
-- resolved or closed case.
local function case_locate(P, case_id, lat, lon, address, note, now, by, route_escalated)
    local key = P .. 'case:' .. case_id
    local c = hgetall(key)
    if c.status == nil then return nil, 'not_found' end
    if c.status == 'resolved' or c.status == 'closed' then return nil, 'invalid_transition' end
    c.lat, c.lon, c.updated_at = lat, lon, now
    local fields = {'lat', lat, 'lon', lon, 'updated_at', now}
    if address ~= '' then
        c.address = address
        fields[#fields + 1] = 'address'
        fields[#fields + 1] = address
    end
    if ACTIVE[c.status] and (c.team_id or '') ~= '' then
        local t = redis.call('HMGET', P .. 'team:' .. c.team_id, 'lat', 'lon')
        if t[1] and t[2] then
            c.distance_km = tostring(round_km(haversine_km(tonumber(lat), tonumber(lon),
                tonumber(t[1]), tonumber(t[2]))))
            fields[#fields + 1] = 'distance_km'
            fields[#fields + 1] = c.distance_km
        end
    end
    redis.call('HSET', key, unpack(fields))
    Duplicate.add(P, case_id, c, now)
    record_event(P, case_id, c, 'location', note, now, by)
    if c.status == 'queued' and c.dispatch == '1' then
        if c.escalated ~= '1' then
            assign_case(P, case_id, c, now)
        elseif route_escalated then
            local excluded = set_of(redis.call('SMEMBERS', P .. 'case:' .. case_id .. ':excluded'))
            local hit = find_team(P, c, excluded)
            if hit then claim_team(P, case_id, c, hit, now, 'router') end
        end
    end
    return c
end

-- ess_case_locate P ctx case_id lat lon address note [route_escalated]: case_locate on its own,
-- by the actor (audited: update; route_escalated "1": an operator places the case, and an
-- escalated one is routed too). The case as ess_case_get answers it, or a refusal.
local function case_locate_call(keys, a)
    local P, case_id = a[1], a[3]
    return audited(P, a[2], 'update', case_id, function(_, ctx)
        local c, err = case_locate(P, case_id, a[4], a[5], a[6], a[7], now_ms(), ctx.id,
            a[8] == '1')
        if not c then return refuse(err) end
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

-- ess_line_commit P event_id user_key version state state_ttl_s dedupe_s abandon_s line_user
-- note_code note lat lon address talk [kind payload]...: marks the event handled (for dedupe_s
-- seconds), stores the state and queues the messages, all or nothing. abandon_s (not ""): the
-- report waits for its location, and becomes a case after abandon_s seconds unless another
-- commit says otherwise (line:abandon, with line_user kept for it); "": no report waits.
-- note_code (not ""): the case of that tracking code gets note, as the reporter's note
-- (case_note_add), or, with lat and lon (not ""), as its new place (case_locate, which may route
-- it). {"dup": true} when another process
-- handled the same event first, {"conflict": true} when the state is no longer the version the
-- event was handled against (another event of the user was committed meanwhile: handle it
-- again); then nothing is written. talk (not "": JSON {expect, op, text, sent_at, code,
-- line_user, lang, wait_ms, ttl_s, share, quiet, ask_consent}): the event was handled with
-- expect as the user's active chat (ess_line_begin's talk); when that changed meanwhile (an
-- operator closed it), conflict too. op "say": text goes to that chat's conversation
-- (chat_append; line:talk renewed); op "request": a chat opens on the case of tracking code code
-- when line_user reported it and none is active (chat_begin; else "talk_refused": true in the
-- answer). On the case of code that line_user reported (else "refused": the op, nothing done):
-- ask_consent true: the reporter was asked whether the agencies may see their details
-- (consent_asked, kept from the first time); op "consent": their answer (share true or false),
-- recorded with basis consent, by reporter (consent_record); op "quiet": quiet updates on (quiet
-- true) or off (consent_quiet_set). An empty state (a group's event) is neither checked nor
-- written, and the other arguments of the user are ignored.
local function line_commit(keys, a)
    local P, event_id, user_key, version, state = a[1], a[2], a[3], a[4], a[5]
    local ttl, dedupe = tonumber(a[6]), tonumber(a[7])
    local abandon_s, line_user, note_code, note = a[8], a[9], a[10], a[11]
    local case_id, located = nil, nil
    local talk = (state ~= '' and a[15] ~= '') and cjson.decode(a[15]) or nil
    local refused = false
    local ekey = P .. 'line:event:' .. event_id
    if event_id ~= '' and redis.call('EXISTS', ekey) == 1 then
        return cjson.encode({dup = true})
    end
    local now = now_ms()
    if state ~= '' then
        local vkey = P .. 'line:version:' .. user_key
        if (redis.call('GET', vkey) or '0') ~= version or
                (talk and chat_active(P, user_key) ~= talk.expect) then
            return cjson.encode({conflict = true})
        end
        redis.call('SET', P .. 'line:state:' .. user_key, state, 'EX', ttl)
        redis.call('INCR', vkey)
        redis.call('EXPIRE', vkey, ttl)
        if abandon_s ~= '' then
            redis.call('ZADD', P .. 'line:abandon', now + tonumber(abandon_s) * 1000, user_key)
            redis.call('SET', P .. 'line:who:' .. user_key, line_user, 'EX', ttl)
        else
            redis.call('ZREM', P .. 'line:abandon', user_key)
            redis.call('DEL', P .. 'line:who:' .. user_key)
        end
    end
    if event_id ~= '' then redis.call('SET', ekey, '1', 'EX', dedupe) end
    local ids = {}
    local about = #a >= 17 and state_case(P, state) or nil -- the replies' case, for its erasure
    for i = 16, #a - 1, 2 do
        ids[#ids + 1] = outbox_add(P, a[i], a[i + 1], now, nil, nil, about)
    end
    if talk and talk.op == 'say' and talk.expect ~= '' then
        chat_append(P, talk.expect, 'reporter', 'reporter', talk.text, talk.sent_at, now)
        redis.call('EXPIRE', P .. 'line:talk:' .. user_key, tonumber(talk.ttl_s))
    elseif talk and talk.op == 'request' then
        local id, c = line_case(P, talk.code, talk.line_user)
        if not id then
            refused = true
        elseif not CHAT_ACTIVE[c.chat or ''] then
            chat_begin(P, id, c, user_key, talk.lang, tonumber(talk.wait_ms),
                tonumber(talk.ttl_s), now)
        else
            redis.call('SET', P .. 'line:talk:' .. user_key, id, 'EX', tonumber(talk.ttl_s))
        end
    end
    -- the reporter's choices about their case: asked for consent, their answer, quiet updates
    local refused_choice = nil
    if talk and (talk.ask_consent == true or talk.op == 'consent' or talk.op == 'quiet') then
        local id, c = line_case(P, talk.code, talk.line_user)
        if not id then
            refused_choice = talk.op ~= '' and talk.op or 'consent_ask'
        else
            if talk.ask_consent == true then
                redis.call('HSETNX', P .. 'case:' .. id, 'consent_asked', now)
            end
            if talk.op == 'consent' then
                consent_record(P, id, c, talk.share == true, 'consent', 'reporter', '', now)
            elseif talk.op == 'quiet' then
                consent_quiet_set(P, id, c, talk.quiet == true, now)
            end
        end
    end
    -- After the reply: a push the move causes ("passed to ...") is queued behind it.
    if state ~= '' and note_code ~= '' then
        case_id = redis.call('HGET', P .. 'track:' .. note_code, 'case_id')
        if case_id and a[12] ~= '' then
            located = case_locate(P, case_id, a[12], a[13], a[14], note, now, 'reporter')
        elseif case_id then
            case_note_add(P, case_id, note, now)
        end
    end
    local r = {dup = false, queued = #ids}
    if refused then r.talk_refused = true end
    if refused_choice then r.refused = refused_choice end -- the router logs which, never whose
    if located then -- for the router's log line: ids and status only
        r.located = {case_id = case_id, status = located.status, team_id = located.team_id or ''}
    end
    return cjson.encode(r)
end

local ABANDON_LEASE_MS = 30000

-- ess_line_abandon_take P limit: the reports whose wait for a location is over, each leased for
-- ABANDON_LEASE_MS (taken again after that unless ess_line_abandon_done ran: a router that
-- stopped half-way loses nothing; two routers never take the same one at once). Entries whose
-- state or user expired are dropped. {"due": [{user_key, state, line_user}]}
local function line_abandon_take(keys, a)
    local P, limit = a[1], tonumber(a[2])
    local now = now_ms()
    local out = {}
    for _, user_key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'line:abandon', '-inf', now,
            'LIMIT', 0, limit)) do
        local state = redis.call('GET', P .. 'line:state:' .. user_key)
        local who = redis.call('GET', P .. 'line:who:' .. user_key)
        if state and who then
            redis.call('ZADD', P .. 'line:abandon', now + ABANDON_LEASE_MS, user_key)
            out[#out + 1] = {user_key = user_key, state = state, line_user = who}
        else
            redis.call('ZREM', P .. 'line:abandon', user_key)
            redis.call('DEL', P .. 'line:who:' .. user_key)
        end
    end
    return cjson.encode({due = out})
end

-- ess_line_abandon_done P user_key report_id filed_state filed_ttl_s push: the waiting report
-- report_id was dealt with. While the user's state is still that report, it stops waiting, and
-- filed_state (not "": the state the router derived for a report filed as a case, which follows
-- that case) replaces it for filed_ttl_s seconds; its version moves on, so an event of the user
-- handled meanwhile is handled again. push (not ""): a line_push payload queued. {"ok": true}
local function line_abandon_done(keys, a)
    local P, user_key, report_id, filed, ttl, push = a[1], a[2], a[3], a[4], a[5], a[6]
    local skey = P .. 'line:state:' .. user_key
    local raw = redis.call('GET', skey)
    local ok, st = false, nil
    if raw then ok, st = pcall(cjson.decode, raw) end
    local same = ok and type(st) == 'table' and (st.report_id or '') == report_id
    if not raw or not ok or type(st) ~= 'table' or same then
        redis.call('ZREM', P .. 'line:abandon', user_key)
        redis.call('DEL', P .. 'line:who:' .. user_key)
    end
    if same and filed ~= '' then
        local vkey = P .. 'line:version:' .. user_key
        redis.call('SET', skey, filed, 'EX', tonumber(ttl))
        redis.call('INCR', vkey)
        redis.call('EXPIRE', vkey, tonumber(ttl))
    end
    if push ~= '' then
        outbox_add(P, 'line_push', push, now_ms(), nil, nil, state_case(P, filed))
    end
    return cjson.encode({ok = true})
end

-- The case leaves the automatic search and waits for an operator, who is told.
local function escalate(P, case_id, c, reason, now)
    redis.call('HSET', P .. 'case:' .. case_id, 'escalated', '1')
    c.escalated = '1'
    queue_case(P, case_id, c, reason, now)
    outbox_add(P, 'escalation', cjson.encode({case_id = case_id, reason = reason}), now, nil,
        nil, case_id)
end

-- ess_deadlines_expire P limit: every case whose team did not acknowledge in time loses that
-- team (which is excluded for the case) and gets the next nearest suitable one, or is
-- escalated after max_attempts. Exactly once across router processes: the entry is removed in
-- the same atomic step. {"expired": [{case_id, team_id, status, new_team}]}
local function deadlines_expire(keys, a)
    local P, limit = a[1], tonumber(a[2])
    local now = now_ms()
    local out = {}
    for _, case_id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'deadlines', '-inf', now, 'LIMIT',
            0, limit)) do
        redis.call('ZREM', P .. 'deadlines', case_id)
        local c = hgetall(P .. 'case:' .. case_id)
        if c.status == 'assigned' and tonumber(c.ack_deadline or '0') <= now then
            local silent = c.team_id
            release_team(P, case_id, c)
            redis.call('SADD', P .. 'case:' .. case_id .. ':excluded', silent)
            record_status(P, case_id, c, 'reassigned', now, 'router',
                'no acknowledgment from ' .. silent)
            -- After max_attempts, or when no other team can be had, a person decides.
            if tonumber(c.attempts or '0') >= tonumber(c.max_attempts or '1') or
                    not assign_case(P, case_id, c, now) then
                escalate(P, case_id, c, 'no_acknowledgment', now)
            end
            out[#out + 1] = {case_id = case_id, team_id = silent, status = c.status,
                new_team = c.team_id or ''}
        end
    end
    return cjson.encode({expired = out})
end

-- ess_dispatch_result P case_id team_id note: records a dispatch attempt's outcome on the
-- case's timeline while the team holds the case. {"holds": bool}
local function dispatch_result(keys, a)
    local P, case_id, team_id, note = a[1], a[2], a[3], a[4]
    local c = hgetall(P .. 'case:' .. case_id)
    local holds = c.status ~= nil and c.team_id == team_id and ACTIVE[c.status] == true
    if holds then record_event(P, case_id, c, 'dispatch', note, now_ms(), 'router') end
    return cjson.encode({holds = holds})
end

-- ess_case_ack_group P ctx case_id group_id: the accept button in a team's LINE group, by the
-- team whose group it is (audited: update by that team; ctx gives the address).
local function case_ack_group(keys, a)
    local P, case_id, group = a[1], a[3], a[4]
    local ctx = audit_ctx(a[2], 'team')
    if not ctx then return refuse('bad_argument:ctx') end
    local team_id = redis.call('GET', P .. 'team:line:' .. group)
    ctx.kind, ctx.id, ctx.group_team = 'team', team_id or '', true
    if not team_id then
        if not audit_add(P, ctx, 'update', case_id, 'unauthorized') then
            return refuse('audit_unavailable')
        end
        return refuse('unauthorized')
    end
    return audited(P, ctx, 'update', case_id, function(c)
        if not ACTIVE[c.status] then return refuse('not_assigned') end
        if c.status == 'assigned' then
            local now = now_ms()
            redis.call('ZREM', P .. 'deadlines', case_id)
            redis.call('HSET', P .. 'case:' .. case_id, 'acknowledged_at', now)
            record_status(P, case_id, c, 'acknowledged', now, team_id, 'accepted in LINE')
        end
        return cjson.encode({team_id = team_id, status = c.status,
            tracking_code = c.tracking_code})
    end, 'not_assigned')
end

-- ess_rate_hit P name window_ms: counts one request of name (a bucket and a client) in the
-- current fixed window; answers {count so far, ms until the window ends}.
local function rate_hit(keys, a)
    local P, window = a[1], tonumber(a[3])
    local now = now_ms()
    local slot = math.floor(now / window)
    local key = P .. 'rate:' .. a[2] .. ':' .. slot
    local n = redis.call('INCR', key)
    if n == 1 then redis.call('PEXPIRE', key, window * 2) end
    return {n, (slot + 1) * window - now}
end

-- Operator accounts and console sessions ------------------------------------------------------

local function operator_view(id, o)
    return {operator_id = id, name = o.name, role = o.role, disabled = o.disabled == '1',
        created_at = iso_time(o.created_at), updated_at = iso_time(o.updated_at)}
end

-- Ends every session of an operator at once.
local function end_sessions(P, id)
    local set = P .. 'operator:' .. id .. ':sessions'
    for _, h in ipairs(redis.call('SMEMBERS', set)) do redis.call('DEL', P .. 'session:' .. h) end
    redis.call('DEL', set)
end

-- Creates or updates an account of kind ("operator", "agency": P <kind>:<id>, listed in the set
-- P <set>, found by its token in P <kind>:token:<hash>). values: {stored name, value, the name a
-- new account must be given it under (nil: optional)}, the first one set on every account; ""
-- leaves a field as it is. The token hash is kept on creation and with rotate "1" (the old token
-- then stops working); disabled "" keeps it (a new account: "0"). Answers created, token_set
-- and the account's key, or nil and the refusal ({"err": "missing_field", "field"}).
local function account_put(P, kind, set, id, values, token_hash, rotate, disabled)
    local key = P .. kind .. ':' .. id
    local old = hgetall(key)
    local created = old[values[1][1]] == nil
    if created then
        for _, v in ipairs(values) do
            if v[3] and v[2] == '' then return nil, refuse('missing_field', {field = v[3]}) end
        end
    end
    local now = now_ms()
    local fields = {'updated_at', now}
    local function add(name, v)
        fields[#fields + 1] = name
        fields[#fields + 1] = v
    end
    for _, v in ipairs(values) do if v[2] ~= '' then add(v[1], v[2]) end end
    if disabled ~= '' then add('disabled', disabled) elseif created then add('disabled', '0') end
    if created then add('created_at', now) end
    local token_set = created or rotate == '1'
    if token_set then
        if old.token_hash and old.token_hash ~= '' then
            redis.call('DEL', P .. kind .. ':token:' .. old.token_hash)
        end
        add('token_hash', token_hash)
        redis.call('SET', P .. kind .. ':token:' .. token_hash, id)
    end
    redis.call('HSET', key, unpack(fields))
    redis.call('SADD', P .. set, id)
    return created, token_set, key
end

-- {"<set_name>": [view(id, fields)...]} of the accounts in P <set_name>, by id, without
-- secrets; key_prefix: their hashes' ("operator:"); present: a field every live one has.
local function account_list(P, set_name, key_prefix, present, view)
    local ids = redis.call('SMEMBERS', P .. set_name)
    table.sort(ids)
    local out = {}
    for _, id in ipairs(ids) do
        local h = hgetall(P .. key_prefix .. id)
        if h[present] then out[#out + 1] = cjson.encode(view(id, h)) end
    end
    return '{"' .. set_name .. '":[' .. table.concat(out, ',') .. ']}'
end

-- ess_operator_put P id name role password_hash token_hash rotate("1"|"0") disabled("1"|"0"|"")
-- Creates or updates an operator; "" leaves a field as it is. A new operator needs name, role
-- and password_hash ({"err": "missing_field", "field": ...} otherwise). The token hash is kept on
-- creation and with rotate "1" (the old token then stops working). Disabling, or a new
-- password, ends the operator's sessions at once.
-- {"created": bool, "token_set": bool, "operator": view}.
local function operator_put(keys, a)
    local P, id = a[1], a[2]
    local created, token_set, key = account_put(P, 'operator', 'operators', id,
        {{'name', a[3], 'name'}, {'role', a[4], 'role'}, {'password_hash', a[5], 'password'}},
        a[6], a[7], a[8])
    if created == nil then return token_set end
    if not created and (a[8] == '1' or a[5] ~= '') then end_sessions(P, id) end
    return cjson.encode({created = created, token_set = token_set,
        operator = operator_view(id, hgetall(key))})
end

-- ess_operator_list P (read only): {"operators": [view...]} by id, without secrets.
local function operator_list(keys, a)
    return account_list(a[1], 'operators', 'operator:', 'role', operator_view)
end

-- The kind an audit entry of a log-in names: the account's role, "operator" for an unknown id.
local function login_ctx(P, raw, id)
    local ctx = audit_ctx(raw, 'operator')
    if ctx == nil then return nil end
    local role = id ~= '' and redis.call('HGET', P .. 'operator:' .. id, 'role')
    if role == 'supervisor' then ctx.kind = 'supervisor' end
    ctx.id = id
    return ctx
end

-- ess_login_begin P ctx id addr (id "" when malformed): {"locked_ms": n} while logins to the id
-- or from the address are refused (audited: login_failed, too_many_failures); else {"found":
-- bool, "disabled": bool, "password_hash": ...}.
local function login_begin(keys, a)
    local P, id, addr = a[1], a[3], a[4]
    local wait = redis.call('PTTL', P .. 'login:lock:addr:' .. addr)
    if id ~= '' then wait = math.max(wait, redis.call('PTTL', P .. 'login:lock:id:' .. id)) end
    if wait > 0 then
        local ctx = login_ctx(P, a[2], id)
        if not ctx then return refuse('bad_argument:ctx') end
        if not audit_add(P, ctx, 'login_failed', '', 'too_many_failures') then
            return refuse('audit_unavailable')
        end
        return cjson.encode({locked_ms = wait})
    end
    local o = id ~= '' and hgetall(P .. 'operator:' .. id) or {}
    if o.role == nil then return cjson.encode({found = false}) end
    return cjson.encode({found = true, disabled = o.disabled == '1',
        password_hash = o.password_hash})
end

-- ess_login_fail P ctx id addr window_ms id_max addr_max: records a failed login (audited:
-- login_failed, unauthorized) against the id (unless "") and the address; id_max failures of one
-- id (addr_max of one address) within the window lock it for window_ms. {"locked": [what was
-- locked now]}.
local function login_fail(keys, a)
    local P, window = a[1], tonumber(a[5])
    local ctx = login_ctx(P, a[2], a[3])
    if not ctx then return refuse('bad_argument:ctx') end
    if not audit_add(P, ctx, 'login_failed', '', 'unauthorized') then
        return refuse('audit_unavailable')
    end
    local now = now_ms()
    local seq = redis.call('INCR', P .. 'login:seq')
    local locked = {}
    local function count(kind, who, max)
        local z = P .. 'login:fail:' .. kind .. ':' .. who
        redis.call('ZREMRANGEBYSCORE', z, '-inf', now - window)
        redis.call('ZADD', z, now, now .. ':' .. seq)
        redis.call('PEXPIRE', z, window)
        if redis.call('ZCARD', z) >= max then
            redis.call('SET', P .. 'login:lock:' .. kind .. ':' .. who, '1', 'PX', window)
            redis.call('DEL', z)
            locked[#locked + 1] = kind
        end
    end
    if a[3] ~= '' then count('id', a[3], tonumber(a[6])) end
    count('addr', a[4], tonumber(a[7]))
    if #locked == 0 then return '{"locked":[]}' end
    return cjson.encode({locked = locked})
end

-- ess_session_create P ctx id password_hash session_hash csrf idle_ms: opens a session for the
-- operator whose password (of hash password_hash) was just verified (audited: login), unless
-- the account was disabled, removed or given another password meanwhile ({"err":
-- "unauthorized"}, not audited: the router records the failure with ess_login_fail). Clears
-- the id's failed logins. {"operator_id", "name", "role"}.
local function session_create(keys, a)
    local P, id = a[1], a[3]
    local o = hgetall(P .. 'operator:' .. id)
    if o.role == nil or o.disabled == '1' or o.password_hash ~= a[4] then
        return refuse('unauthorized')
    end
    local ctx = login_ctx(P, a[2], id)
    if not ctx then return refuse('bad_argument:ctx') end
    if not audit_add(P, ctx, 'login', '', 'ok') then return refuse('audit_unavailable') end
    local skey = P .. 'session:' .. a[5]
    redis.call('HSET', skey, 'operator_id', id, 'csrf', a[6], 'created_at', now_ms())
    redis.call('PEXPIRE', skey, tonumber(a[7]))
    local set = P .. 'operator:' .. id .. ':sessions'
    for _, h in ipairs(redis.call('SMEMBERS', set)) do
        if redis.call('EXISTS', P .. 'session:' .. h) == 0 then redis.call('SREM', set, h) end
    end
    redis.call('SADD', set, a[5])
    redis.call('DEL', P .. 'login:fail:id:' .. id)
    return cjson.encode({operator_id = id, name = o.name, role = o.role})
end

-- ess_auth_resolve P kind("session"|"token"|"agency") hash idle_ms: who holds a session cookie or
-- an account's API token (by its SHA-256); for "agency", {"agency_id"} of an agency's token.
-- A session's idle expiry starts again. {"err": "unauthorized"} for none, or a disabled or removed account (its session is removed).
-- {"operator_id", "role"} and for a session also "csrf", "created_at" and "now" (ms), from
-- which the router judges the session's absolute age.
local function auth_resolve(keys, a)
    local P, kind, h = a[1], a[2], a[3]
    local id, s
    if kind == 'agency' then
        id = redis.call('GET', P .. 'agency:token:' .. h)
        local g = id and hgetall(P .. 'agency:' .. id) or {}
        if g.name == nil or g.disabled == '1' or g.token_hash ~= h then
            return refuse('unauthorized')
        end
        return cjson.encode({agency_id = id})
    end
    if kind == 'session' then
        s = hgetall(P .. 'session:' .. h)
        id = s.operator_id
    else
        id = redis.call('GET', P .. 'operator:token:' .. h)
    end
    if not id then return refuse('unauthorized') end
    local o = hgetall(P .. 'operator:' .. id)
    if o.role == nil or o.disabled == '1' or (kind ~= 'session' and o.token_hash ~= h) then
        if kind == 'session' then redis.call('DEL', P .. 'session:' .. h) end
        return refuse('unauthorized')
    end
    local r = {operator_id = id, role = o.role}
    if kind == 'session' then
        redis.call('PEXPIRE', P .. 'session:' .. h, tonumber(a[4]))
        r.csrf = s.csrf
        r.created_at = tonumber(s.created_at)
        r.now = now_ms()
    end
    return cjson.encode(r)
end

-- ess_session_end P hash: ends one session (log-out, or past its age). {"ended": bool}.
local function session_end(keys, a)
    local P, h = a[1], a[2]
    local skey = P .. 'session:' .. h
    local id = redis.call('HGET', skey, 'operator_id')
    if id then redis.call('SREM', P .. 'operator:' .. id .. ':sessions', h) end
    return cjson.encode({ended = redis.call('DEL', skey) == 1})
end

---------------------------------------------------------------------------------------------
-- The operator console's functions

-- ess_team_list P cursor limit with_notify (read only): teams in id order, the first limit after
-- cursor ("" for the first page), each {team_id, name, name_en, skills (csv), available, active,
-- capacity, lat, lon, updated_at, notify (only when with_notify is "1": the admin's)}; never a
-- token hash or nonce. {"teams": [...], "next": the last id given when more follow, or null}
local function team_list(keys, a)
    local P, cursor, limit, with_notify = a[1], a[2], tonumber(a[3]), a[4] == '1'
    local from = cursor == '' and '-' or '(' .. cursor
    local ids = redis.call('ZRANGE', P .. 'teams:by_id', from, '+', 'BYLEX', 'LIMIT', 0, limit + 1)
    local out = {}
    for i = 1, math.min(#ids, limit) do
        local id = ids[i]
        local f = redis.call('HMGET', P .. 'team:' .. id, 'name', 'name_en', 'skills', 'available',
            'active', 'capacity', 'lat', 'lon', 'updated_at', 'notify')
        if f[1] then
            local t = {team_id = id, name = f[1], name_en = f[2] or '', skills = f[3] or '',
                available = f[4] == '1', active = tonumber(f[5] or '0'),
                capacity = tonumber(f[6] or '0'), lat = f[7] or '', lon = f[8] or '',
                updated_at = f[9] or ''}
            if with_notify then t.notify = f[10] or '' end
            out[#out + 1] = t
        end
    end
    local next_id = cjson.null
    if #ids > limit then next_id = ids[limit] end
    return cjson.encode({teams = out, next = next_id})
end

-- ess_case_find P ctx code case_id phone_hash status category limit (audited: list, on no
-- case): the cases a search names, newest first, at most limit: the case of the tracking code
-- (canonical form), the case case_id, and the newest cases whose reporter's phone hashes to
-- phone_hash (each "" when not searched), keeping those of the status and category given ("":
-- any). {"cases": [summaries]}
local function case_find(keys, a)
    local P, code, id, phone = a[1], a[3], a[4], a[5]
    local status, category, limit = a[6], a[7], tonumber(a[8])
    return audited(P, a[2], 'list', '', function()
        local ids, seen = {}, {}
        local function add(case_id)
            if case_id and not seen[case_id] then
                seen[case_id] = true
                ids[#ids + 1] = case_id
            end
        end
        if code ~= '' then add(redis.call('HGET', P .. 'track:' .. code, 'case_id') or nil) end
        if id ~= '' then add(id) end
        if phone ~= '' then
            for _, case_id in ipairs(redis.call('ZRANGE', P .. 'phone:' .. phone, 0, limit - 1,
                    'REV')) do
                add(case_id)
            end
        end
        local out = {}
        for _, case_id in ipairs(ids) do
            local c = hgetall(P .. 'case:' .. case_id)
            if c.status and (status == '' or c.status == status) and
                    (category == '' or c.category == category) then
                out[#out + 1] = summary_of(case_id, c)
            end
        end
        table.sort(out, function(x, y)
            local tx, ty = tonumber(x.created_at or '0'), tonumber(y.created_at or '0')
            if tx ~= ty then return tx > ty end
            return x.case_id > y.case_id
        end)
        while #out > limit do out[#out] = nil end
        if #out == 0 then return '{"cases":[]}' end
        return cjson.encode({cases = out})
    end)
end

-- The public view of a case under its new category (its status and timeline unchanged).
local function public_relabel(P, c)
    if (c.tracking_code or '') == '' then return end
    local tkey = P .. 'track:' .. c.tracking_code
    local f = redis.call('HMGET', tkey, 'status', 'aliases')
    if not f[1] then return end -- the public view is gone (retention)
    redis.call('HSET', tkey, 'category', c.category)
    redis.call('HDEL', tkey, 'label_th', 'label_en') -- an older version's copy of the labels
    public_mirror(P, tkey, f[2])
end

-- ess_case_triage P ctx case_id priority priority_rank category skills prefer_skill radii
--   ack_timeout_s max_attempts dispatch (audited: update)
-- An operator (by: the actor) corrects a case's triage: priority and priority_rank ("" :
-- unchanged), and category ("": unchanged) with what the rule engine decided for it (skills ...
-- dispatch). Recorded on the timeline and in the case log as a
-- "triage" entry, the statistics moved to the new category, the queue reordered. Then the case is
-- routed as its new triage asks: a team holding it that lacks a skill now needed releases it
-- (reassigned) and it is routed again (or waits for triage when it is no longer dispatched); a
-- queued case that is dispatched (not escalated) is routed. Nothing changes when neither value
-- differs.
-- A case whose category is only the classifier's guess (category_suggested set) is confirmed by
-- any category, its guess included: the guess is cleared, the rule engine's decision for the
-- category is taken even when it is the same one, and a case waiting for triage (needs_triage)
-- is routed (dispatched categories) or waits with reason triage ("other").
-- A case merged into another (ess_case_merge) is refused: case_merged.
-- The case as ess_case_get answers it, or a refusal.
local function case_triage(keys, a)
    local P, case_id = a[1], a[3]
    local key = P .. 'case:' .. case_id
    return audited(P, a[2], 'update', case_id, function(c, ctx)
        if (c.merged_into or '') ~= '' then return refuse('case_merged') end
        local by = ctx.id
        local old_cat, old_pri = c.category, c.priority
        local new_pri = a[4] ~= '' and a[4] or old_pri
        local new_cat = a[6] ~= '' and a[6] or old_cat
        local confirm = a[6] ~= '' and (c.category_suggested or '') ~= ''
        if new_pri == old_pri and new_cat == old_cat and not confirm then
            return case_view(P, case_id, c)
        end
        local now = now_ms()
        local fields = {'updated_at', now}
        local function set(name, value)
            c[name] = value
            fields[#fields + 1] = name
            fields[#fields + 1] = value
        end
        if new_pri ~= old_pri then
            set('priority', new_pri)
            set('priority_rank', a[5])
        end
        if new_cat ~= old_cat or confirm then
            set('category', new_cat)
            set('skills', a[7])
            set('prefer_skill', a[8])
            set('radii', a[9])
            set('ack_timeout_s', a[10])
            set('max_attempts', a[11])
            set('dispatch', a[12])
            if new_cat ~= old_cat then
                redis.call('HINCRBY', P .. 'stats', old_cat .. '|' .. c.status, -1)
                redis.call('HINCRBY', P .. 'stats', new_cat .. '|' .. c.status, 1)
                Duplicate.move(P, case_id, c, old_cat, now)
                Stats.recategorized(P, c, old_cat, new_cat)
            end
            public_relabel(P, c)
            ensure_set(P, set_name(c.skills))
        end
        local waited = confirm and c.status == 'queued' and c.queue_reason == 'needs_triage'
        if confirm then set('category_suggested', '') end
        if waited then -- routed below; until then it waits as any case of its category would
            set('queue_reason', c.dispatch == '1' and '' or 'triage')
        end
        c.updated_at = now
        redis.call('HSET', key, unpack(fields))
        if redis.call('ZSCORE', P .. 'queue', case_id) then
            redis.call('ZADD', P .. 'queue', queue_score(c), case_id)
        end
        local changes = {}
        if confirm and new_cat == old_cat then
            changes[#changes + 1] = 'confirmed ' .. new_cat
        elseif new_cat ~= old_cat then
            changes[#changes + 1] = old_cat .. ' -> ' .. new_cat
        end
        if new_pri ~= old_pri then changes[#changes + 1] = old_pri .. ' -> ' .. new_pri end
        record_event(P, case_id, c, 'triage', table.concat(changes, ', '), now, by)

        local freed = nil
        if ACTIVE[c.status] and (c.team_id or '') ~= '' then
            local t = team_get(P, c.team_id)
            if t == nil or not covers(set_of(team_skills(t)), set_name(c.skills)) then
                freed = release_team(P, case_id, c)
                record_status(P, case_id, c, 'reassigned', now, by,
                    'the team lacks a skill the case now needs')
                if c.dispatch == '1' then
                    assign_case(P, case_id, c, now)
                else
                    queue_case(P, case_id, c, 'triage', now)
                end
            end
        elseif c.status == 'queued' then
            if c.dispatch == '1' and c.escalated ~= '1' then
                assign_case(P, case_id, c, now)
            elseif c.dispatch ~= '1' and c.queue_reason ~= 'triage' and
                    c.queue_reason ~= 'needs_triage' then
                redis.call('HSET', key, 'queue_reason', 'triage')
            end
        end
        if freed then drain_for_team(P, freed, now) end
        return case_view(P, case_id, hgetall(key))
    end)
end

-- ess_case_candidates P case_id limit radius_km (read only): the teams an operator may assign
-- the case to by hand: those having every skill it needs, nearest first within radius_km ("":
-- twice the widest search radius, from 10 to 1000 km) (at most limit, from the index of all
-- teams of its skill set), whatever their state, each marked:
-- {team_id, name, name_en, skills (csv), available, active, capacity, lat, lon, distance_km,
-- excluded (did not acknowledge it before), holds (holds it now)}. A case without coordinates
-- gets teams of its skills without distance: those able to take it first, then the others, by
-- id. {"case_id", "skills", "max_radius_km", "radius_km" (located cases), "located",
-- "candidates": [...]}, or {"err": "not_found"}.
local function case_candidates(keys, a)
    local P, case_id, limit = a[1], a[2], tonumber(a[3])
    local c = hgetall(P .. 'case:' .. case_id)
    if c.status == nil then return refuse('not_found') end
    local radius = tonumber(a[4]) or math.min(1000, math.max(10, 2 * widest_radius(c)))
    local set = set_name(c.skills)
    local excluded = set_of(redis.call('SMEMBERS', P .. 'case:' .. case_id .. ':excluded'))
    local located = has_location(c)
    local hits = {} -- {id, distance or nil}
    local all_key = P .. 'geo:all:' .. set
    if redis.call('SISMEMBER', P .. 'skillsets', set) == 0 then
        -- A skill set no case registered yet (cases older than this index): every team is
        -- looked at once, as ensure_set would.
        for _, id in ipairs(redis.call('SMEMBERS', P .. 'teams')) do
            local f = redis.call('HMGET', P .. 'team:' .. id, 'skills', 'lat', 'lon')
            if covers(set_of(split_csv(f[1])), set) then
                local d = nil
                if located then
                    d = haversine_km(tonumber(c.lat), tonumber(c.lon), tonumber(f[2]),
                        tonumber(f[3]))
                end
                if d == nil or d <= radius then hits[#hits + 1] = {id = id, distance = d} end
            end
        end
        table.sort(hits, function(x, y)
            if x.distance and y.distance and x.distance ~= y.distance then
                return x.distance < y.distance
            end
            return x.id < y.id
        end)
        while #hits > limit do hits[#hits] = nil end
    elseif located then
        for _, h in ipairs(redis.call('GEOSEARCH', all_key, 'FROMLONLAT', c.lon, c.lat,
                'BYRADIUS', radius, 'km', 'ASC', 'WITHDIST', 'COUNT', limit)) do
            hits[#hits + 1] = {id = h[1], distance = tonumber(h[2])}
        end
    else
        local seen = {}
        for _, k in ipairs({P .. 'geo:set:' .. set, all_key}) do
            for _, id in ipairs(redis.call('ZRANGE', k, 0, 2 * limit - 1)) do
                if not seen[id] and #hits < limit then
                    seen[id] = true
                    hits[#hits + 1] = {id = id}
                end
            end
        end
    end
    local out = {}
    for _, h in ipairs(hits) do
        local f = redis.call('HMGET', P .. 'team:' .. h.id, 'name', 'name_en', 'skills',
            'available', 'active', 'capacity', 'lat', 'lon')
        if f[1] then
            out[#out + 1] = {team_id = h.id, name = f[1], name_en = f[2] or '', skills = f[3] or '',
                available = f[4] == '1', active = tonumber(f[5] or '0'),
                capacity = tonumber(f[6] or '0'), lat = f[7] or '', lon = f[8] or '',
                distance_km = h.distance and round_km(h.distance) or nil,
                excluded = excluded[h.id] == true,
                holds = c.team_id == h.id and ACTIVE[c.status] == true}
        end
    end
    if not located then -- those able to take it first, then by id
        table.sort(out, function(x, y)
            local fx = x.available and x.active < x.capacity
            local fy = y.available and y.active < y.capacity
            if fx ~= fy then return fx end
            return x.team_id < y.team_id
        end)
    end
    local r = {case_id = case_id, skills = c.skills or '', max_radius_km = widest_radius(c),
        radius_km = located and radius or nil, located = located, candidates = out}
    if #out == 0 then r.candidates = nil end -- cjson writes an empty table as {}
    return cjson.encode(r)
end

---------------------------------------------------------------------------------------------
-- Retention and erasure: a closed case's personal data goes ESS_RETENTION_DAYS after it was
-- closed (or at once, on a supervisor's request); its public view ESS_TRACK_RETENTION_DAYS after.
-- What stays (category, priority, statuses and times, team, the place rounded to 0.01 degree, the
-- statistics, the case log and the audit, which never held personal data) keeps the figures whole.

-- The personal fields of a case's record, deleted by the erasure (the views then read null): the
-- one list of them, so that a new personal field is one more name here. lat and lon are not in it:
-- they are kept, rounded to 0.01 degree (about a kilometre).
local PERSONAL_FIELDS = {'description', 'address', 'reporter_name', 'reporter_phone',
    'reporter_phone_hash', 'reporter_line_user', 'line_user_key', 'consent_note'}

-- Timeline events whose note the router wrote (a dispatch outcome, a chat's step, a triage's
-- codes, a consent's choice, quiet updates on or off): kept. Every other note is a person's words
-- (a note, a status note, a location's note, the reporter's LINE notes) and is erased, as is the
-- note of a status entry not written by the router (its queue reasons are kept).
local SYSTEM_NOTE_EVENTS = {dispatch = true, chat = true, triage = true, consent = true,
    quiet = true, erased = true}

local function note_is_personal(e)
    if e.note == nil then return false end
    if e.event then return not SYSTEM_NOTE_EVENTS[e.event] end
    return e.by ~= 'router'
end

local function round_coordinate(v)
    local x = tonumber(v)
    if not x then return '' end
    return string.format('%.2f', math.floor(x * 100 + 0.5) / 100)
end

-- Forgets the LINE conversation of the case's reporter (P line:*:<line_user_key>) where it still
-- refers to this case: the hand-off naming it (line:talk); the conversation state following it
-- (its last tracking code, or the report the case was made from), deleted with its version, the
-- user id kept for a waiting report and that report's abandon timer, unless another report is in
-- progress: then only its pointer to this case is removed and that report goes on. A state that
-- cannot be read is deleted. A conversation about another case is left alone.
local function erase_line_conversation(P, case_id, c)
    local key = c.line_user_key or ''
    if key == '' then return end
    local talk = P .. 'line:talk:' .. key
    if redis.call('GET', talk) == case_id then redis.call('DEL', talk) end
    local skey, vkey = P .. 'line:state:' .. key, P .. 'line:version:' .. key
    local raw = redis.call('GET', skey)
    local ok, st = false, nil
    if raw then ok, st = pcall(cjson.decode, raw) end
    if raw and ok and type(st) == 'table' then
        local filed_from = c.call_id ~= nil and c.call_id ~= '' and
            c.call_id == 'line:' .. tostring(st.report_id or '')
        local follows = st.last_tracking_code == c.tracking_code
        if not filed_from and not follows then return end
        if not filed_from and (st.step or 'idle') ~= 'idle' then
            st.last_tracking_code, st.follow = nil, nil
            redis.call('SET', skey, cjson.encode(st), 'KEEPTTL')
            redis.call('INCR', vkey) -- an event handled meanwhile is handled again
            return
        end
    end
    redis.call('DEL', skey, vkey, P .. 'line:who:' .. key)
    redis.call('ZREM', P .. 'line:abandon', key)
end

-- Erases the personal data of case c (its hash, as read) at now, by (an operator id, or "router")
-- for reason: PERSONAL_FIELDS deleted, coordinates rounded, people's notes taken off the timeline,
-- the chat deleted, the case out of its phone index, its waiting outgoing messages deleted (their
-- texts and the reporter's LINE id), the reporter's LINE conversation where it still refers to the
-- case, and the digest of the content kept with its call_id; then erased_at, erased_by,
-- erase_reason and updated_at, a timeline entry (event erased) and a case-log entry. The statistics, the status,
-- the public view and the audit are left as they are. false (and nothing done) when it was erased
-- already.
local function erase_case(P, case_id, c, now, by, reason)
    if (c.erased_at or '') ~= '' then return false end
    local key = P .. 'case:' .. case_id
    redis.call('HDEL', key, unpack(PERSONAL_FIELDS))
    if has_location(c) then
        redis.call('HSET', key, 'lat', round_coordinate(c.lat), 'lon', round_coordinate(c.lon))
    end
    local tl = key .. ':timeline'
    for i, raw in ipairs(redis.call('LRANGE', tl, 0, -1)) do
        if string.find(raw, '"note"', 1, true) then
            local ok, e = pcall(cjson.decode, raw)
            if ok and type(e) == 'table' and note_is_personal(e) then
                e.note = nil
                redis.call('LSET', tl, i - 1, cjson.encode(e))
            end
        end
    end
    redis.call('DEL', key .. ':chat')
    redis.call('ZREM', P .. 'chats', case_id)
    redis.call('ZREM', P .. 'chat:deadlines', case_id)
    if (c.reporter_phone_hash or '') ~= '' then
        redis.call('ZREM', P .. 'phone:' .. c.reporter_phone_hash, case_id) -- empty: deleted
    end
    local outbox = key .. ':outbox'
    local items = redis.call('SMEMBERS', outbox)
    for n = 1, tonumber(c.attempts or '0') or 0 do items[#items + 1] = dispatch_id(case_id, n) end
    for _, id in ipairs(items) do
        redis.call('DEL', P .. 'outbox:item:' .. id)
        redis.call('ZREM', P .. 'outbox:due', id)
    end
    redis.call('DEL', outbox)
    erase_line_conversation(P, case_id, c)
    if (c.call_id or '') ~= '' then
        local ckey = P .. 'call:' .. c.call_id
        if string.match(redis.call('GET', ckey) or '', '^(%S+) ') == case_id then
            redis.call('SET', ckey, case_id) -- a repeat of the call_id is still that case
        end
    end
    redis.call('HSET', key, 'erased_at', now, 'erased_by', by, 'erase_reason', reason,
        'updated_at', now)
    c.erased_at, c.updated_at = now, now
    record_event(P, case_id, c, 'erased', nil, now, by)
    return true
end

-- ess_case_erase P ctx case_id reason (audited: erase; the route is a supervisor's): erases the
-- personal data of a closed case now (erase_case, by the actor, with reason). A case erased
-- already is answered as it is, nothing more done (each request audited). Refusals: not_found;
-- case_open {status} (close the case first: an open case's data is still needed to help). The
-- case as ess_case_get answers it.
local function case_erase(keys, a)
    local P, case_id, reason = a[1], a[3], a[4]
    return audited(P, a[2], 'erase', case_id, function(c, ctx)
        if c.status ~= 'closed' then return refuse('case_open', {status = c.status}) end
        erase_case(P, case_id, c, now_ms(), ctx.id, reason)
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

-- ess_retention_sweep P erase_ms track_ms limit: the cases closed more than erase_ms ago have
-- their personal data erased (erase_case, by "router", reason "retention"), and the public views of
-- those closed more than track_ms ago are deleted (the code then answers 404); at most limit of
-- each. An entry leaves its due list in the same step: once, across router processes.
-- {"erased": [case ids], "views": number of public views deleted}
local function retention_sweep(keys, a)
    local P, erase_ms, track_ms, limit = a[1], tonumber(a[2]), tonumber(a[3]), tonumber(a[4])
    local now = now_ms()
    local erased, views = {}, 0
    local function due(name, age_ms)
        local z = P .. name
        local ids = redis.call('ZRANGE', z, '-inf', string.format('%.0f', now - age_ms),
            'BYSCORE', 'LIMIT', 0, limit)
        if #ids > 0 then redis.call('ZREM', z, unpack(ids)) end
        return ids
    end
    for _, case_id in ipairs(due('erase:due', erase_ms)) do
        local c = hgetall(P .. 'case:' .. case_id)
        if c.status == 'closed' and erase_case(P, case_id, c, now, 'router', 'retention') then
            erased[#erased + 1] = case_id
        end
    end
    for _, case_id in ipairs(due('track:due', track_ms)) do
        local code = redis.call('HGET', P .. 'case:' .. case_id, 'tracking_code')
        if code and code ~= '' then
            local tkey = P .. 'track:' .. code
            for _, alias in ipairs(split_csv(redis.call('HGET', tkey, 'aliases') or '')) do
                views = views + redis.call('DEL', P .. 'track:' .. alias) -- merged into it
            end
            views = views + redis.call('DEL', tkey)
        end
        Open311.forget(P, case_id)
    end
    if #erased == 0 then return '{"erased":[],"views":' .. views .. '}' end
    return cjson.encode({erased = erased, views = views})
end

-- Calls fn(case_id, created_ms) once for every case the case indexes hold: P cases:open, then
-- each P cases:status:<s> there is (before schema 6 every case was in the one of its status;
-- since, an open case is in P cases:open alone). For ess_upgrade's one-time steps.
local function indexed_cases_each(P, fn)
    local seen = {}
    local function each(zkey)
        local z = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
        for i = 1, #z, 2 do
            if not seen[z[i]] then
                seen[z[i]] = true
                fn(z[i], z[i + 1])
            end
        end
    end
    each(P .. 'cases:open')
    local cursor = '0'
    repeat
        local r = redis.call('SCAN', cursor, 'MATCH', P .. 'cases:status:*', 'COUNT', 100)
        cursor = r[1]
        for _, zkey in ipairs(r[2]) do each(zkey) end
    until cursor == '0'
end

-- Builds the statistics counters from the cases there (once: P stats:built), each case
-- counted by Stats.count_case. Answers how many cases were counted.
function Stats.build(P)
    if redis.call('EXISTS', P .. 'stats:built') == 1 then return 0 end
    local n = 0
    indexed_cases_each(P, function(id)
        if Stats.count_case(P, id) then n = n + 1 end
    end)
    redis.call('SET', P .. 'stats:built', '1')
    return n
end

-- The median and 90th percentile (nearest rank) of a histogram {bucket = count}, in seconds.
function Stats.times(h)
    local n = 0
    for _, v in pairs(h) do n = n + v end
    if n == 0 then return {n = 0, median_s = cjson.null, p90_s = cjson.null} end
    local function at_rank(rank)
        local seen = 0
        for b = 0, Stats.TOP do
            seen = seen + (h[b] or 0)
            if seen >= rank then return Stats.bucket_value(b) end
        end
        return Stats.bucket_value(Stats.TOP)
    end
    return {n = n, median_s = at_rank(math.ceil(n * 0.5)), p90_s = at_rank(math.ceil(n * 0.9))}
end

function Stats.add(t, name, v)
    t[name] = (t[name] or 0) + v
end

-- Only the names whose sum is not 0 (a count moved away by a triage leaves a 0 behind).
function Stats.nonzero(t)
    local out = {}
    for k, v in pairs(t) do
        if v ~= 0 then out[k] = v end
    end
    return out
end

-- ess_stats_read P first_day days (read only): the statistics of the days first_day (days since
-- 1970-01-01) to first_day + days - 1, each a Thai-time date, from their counters (one HGETALL
-- per day): {"from", "to", "by_category", "by_channel", "by_status", "by_day": [{"date",
-- "cases", "by_category"}], "times": {"to_assigned"|"to_acknowledged"|"to_on_scene":
-- {"median_s", "p90_s", "n"}}}. by_status's received is the number of cases received.
function Stats.read(keys, a)
    local P, first, days = a[1], tonumber(a[2]), tonumber(a[3])
    local cats, chans, statuses, by_day = {}, {}, {}, {}
    local hist = {a = {}, k = {}, o = {}}
    local total = 0
    for d = first, first + days - 1 do
        local date = string.sub(iso_time(d * 86400000), 1, 10)
        local f = redis.call('HGETALL', P .. 'stats:day:' .. date)
        local day_cats, day_n = {}, 0
        for i = 1, #f, 2 do
            local kind, rest = string.match(f[i], '^(%a+)|(.+)$')
            local v = tonumber(f[i + 1]) or 0
            if kind == 'n' then
                Stats.add(cats, rest, v)
                Stats.add(day_cats, rest, v)
                day_n = day_n + v
            elseif kind == 'ch' then
                Stats.add(chans, rest, v)
            elseif kind == 'st' then
                Stats.add(statuses, rest, v)
            elseif kind == 'd' then
                local k, b = string.match(rest, '^(%a)|(%d+)$')
                if k and hist[k] then Stats.add(hist[k], tonumber(b), v) end
            end
        end
        total = total + day_n
        by_day[#by_day + 1] = {date = date, cases = day_n, by_category = Stats.nonzero(day_cats)}
    end
    statuses.received = total
    return cjson.encode({from = by_day[1].date, to = by_day[#by_day].date,
        by_category = Stats.nonzero(cats), by_channel = Stats.nonzero(chans),
        by_status = Stats.nonzero(statuses), by_day = by_day,
        times = {to_assigned = Stats.times(hist.a), to_acknowledged = Stats.times(hist.k),
            to_on_scene = Stats.times(hist.o)}})
end

-- The version of the derived indexes this library maintains (teams:by_id, geo:all:<set>; 3:
-- erase:due and track:due; 4: cases:created; 5: public views without their rendered copy; 6:
-- an index per status for the ended statuses only; 7: public views with a short timeline and no
-- labels).
local SCHEMA = 7

-- ess_upgrade's steps to schemas 5 and 7: each kept public view (P cases:created lists their
-- cases) and the copies of it under merged cases' codes lose what an older version kept beside
-- their parts: the rendered JSON (field view, before 5) and the category labels (before 7; the
-- router takes them from its rule table); the view's timeline takes the short form
-- (public_timeline_short), and the copies get the survivor's view and code again
-- (public_mirror). The number of views rewritten.
local function public_views_compact(P)
    local n = 0
    for _, id in ipairs(redis.call('ZRANGE', P .. 'cases:created', 0, -1)) do
        local code = redis.call('HGET', P .. 'case:' .. id, 'tracking_code')
        local tkey = code and code ~= '' and P .. 'track:' .. code
        local f = tkey and redis.call('HMGET', tkey, 'timeline', 'aliases', 'view', 'label_th')
        local json_timeline = f and string.sub(f[1] or '', 1, 1) == '['
        if f and (json_timeline or f[3] or f[4]) then
            if json_timeline then
                redis.call('HSET', tkey, 'timeline', public_timeline_short(f[1]))
            end
            redis.call('HDEL', tkey, 'view', 'label_th', 'label_en')
            for _, alias in ipairs(split_csv(f[2] or '')) do
                redis.call('HDEL', P .. 'track:' .. alias, 'view', 'label_th', 'label_en')
            end
            public_mirror(P, tkey, f[2])
            n = n + 1
        end
    end
    return n
end

-- ess_upgrade's step to schema 6: the indexes of open statuses (P cases:status:<s>, s not in
-- ENDED) go; P cases:open holds those cases already. The number of indexes deleted.
local function open_status_indexes_drop(P)
    local n, cursor = 0, '0'
    repeat
        local r = redis.call('SCAN', cursor, 'MATCH', P .. 'cases:status:*', 'COUNT', 100)
        cursor = r[1]
        for _, zkey in ipairs(r[2]) do
            if not ENDED[string.sub(zkey, #P + #'cases:status:' + 1)] then
                n = n + redis.call('DEL', zkey)
            end
        end
    until cursor == '0'
    return n
end

-- ess_upgrade P: builds the indexes this version of the library keeps that an older one did not,
-- once per deployment: the router calls it at each connect, and it does nothing once P schema
-- says they are built. 2: the teams by id, the index of all teams of each skill set. 3: the
-- retention lists of the cases closed before (P erase:due unless erased already, P track:due
-- while the public view is there), each dated by the case's updated_at (at or after its closing).
-- 4: Open311's index of the cases whose public view is kept (Open311.index_fill). 5: the public
-- views lose the rendered JSON an older version kept beside their parts (field view; the router
-- writes it from the parts now), and the codes of merged cases get the survivor's code
-- (public_mirror), which that JSON carried. 6: the open statuses' indexes go (P cases:open
-- lists those cases). 7: the public views' timelines in the short form, without labels
-- (public_views_compact). {"upgraded": bool, "teams": number of teams indexed,
-- "closed": closed cases listed, "created": cases put in Open311's index, "views": public views
-- rewritten}
local function upgrade(keys, a)
    local P = a[1]
    Stats.build(P)
    local schema = tonumber(redis.call('GET', P .. 'schema') or '0')
    if schema >= SCHEMA then
        return cjson.encode({upgraded = false, teams = 0, closed = 0, created = 0, views = 0})
    end
    local n, closed, created, views = 0, 0, 0, 0
    if schema < 2 then
        local sets = redis.call('SMEMBERS', P .. 'skillsets')
        for _, id in ipairs(redis.call('SMEMBERS', P .. 'teams')) do
            local f = redis.call('HMGET', P .. 'team:' .. id, 'skills', 'lat', 'lon')
            redis.call('ZADD', P .. 'teams:by_id', 0, id)
            if f[2] and f[3] then
                local have = set_of(split_csv(f[1]))
                for _, name in ipairs(sets) do
                    if covers(have, name) then
                        redis.call('GEOADD', P .. 'geo:all:' .. name, f[3], f[2], id)
                    end
                end
            end
            n = n + 1
        end
    end
    if schema < 3 then
        for _, id in ipairs(redis.call('ZRANGE', P .. 'cases:status:closed', 0, -1)) do
            local f = redis.call('HMGET', P .. 'case:' .. id, 'updated_at', 'erased_at',
                'tracking_code')
            local at = tonumber(f[1])
            if at then
                if not f[2] or f[2] == '' then
                    redis.call('ZADD', P .. 'erase:due', 'NX', at, id)
                end
                if f[3] and redis.call('EXISTS', P .. 'track:' .. f[3]) == 1 then
                    redis.call('ZADD', P .. 'track:due', 'NX', at, id)
                end
                closed = closed + 1
            end
        end
    end
    if schema < 4 then created = Open311.index_fill(P) end
    if schema < 6 then open_status_indexes_drop(P) end
    if schema < 7 then views = public_views_compact(P) end
    redis.call('SET', P .. 'schema', SCHEMA)
    return cjson.encode({upgraded = true, teams = n, closed = closed, created = created,
        views = views})
end

-- Agencies and the feed ---------------------------------------------------------------------


-- The EIDO export (GET /v1/cases/{id}/eido; router/api/eido.c builds the document).

-- The fields of a case any EIDO of it may carry, and those it carries only when identifying
-- data may be shared (eido_may_identify).
local EIDO_FIELDS = {'tracking_code', 'category', 'priority', 'status', 'team_id', 'team_name',
    'team_name_en', 'skills', 'channel', 'created_at', 'updated_at', 'assigned_at', 'erased_at'}
local EIDO_PERSONAL = {'description', 'address', 'reporter_name', 'reporter_phone'}

-- Whether an EIDO of the case may carry its identifying data: never once it is erased; for an
-- operator (identifying true, consent_needed false) otherwise always; for an agency only when
-- the agency is identifying and the case has share_with_agencies true. (The feed's reads without
-- format apply the same rule in the router to pick the cases to ask ess_feed_export about:
-- feed_entries_case_fields.)
local function eido_may_identify(c, identifying, consent_needed)
    if (c.erased_at or '') ~= '' or not identifying then return false end
    return not consent_needed or c.share_with_agencies == '1'
end

-- What the EIDO of a case is made from, and nothing more: EIDO_FIELDS ('' left out); the place
-- (lat, lon as numbers, exact true) when share, else rounded to 0.01 degree (exact false); the
-- status changes of the timeline (statuses: [{status, at}]); and with share only, EIDO_PERSONAL
-- and the notes people wrote (notes: [{at, by, text}], those the erasure would remove). A table.
local function eido_source(P, case_id, c, share)
    local timeline = redis.call('LRANGE', P .. 'case:' .. case_id .. ':timeline', 0, -1)
    local s = {case_id = case_id, identifying = share}
    for _, f in ipairs(EIDO_FIELDS) do
        if (c[f] or '') ~= '' then s[f] = c[f] end
    end
    if has_location(c) then
        s.exact = share
        s.lat = tonumber(share and c.lat or round_coordinate(c.lat))
        s.lon = tonumber(share and c.lon or round_coordinate(c.lon))
    end
    local statuses, notes = {}, {}
    for _, raw in ipairs(timeline) do
        local ok, e = pcall(cjson.decode, raw)
        if ok and type(e) == 'table' then
            if e.event == nil and e.status then
                statuses[#statuses + 1] = {status = e.status, at = e.at}
            end
            if share and note_is_personal(e) and type(e.note) == 'string' and e.note ~= '' then
                notes[#notes + 1] = {at = e.at, by = e.by, text = e.note}
            end
        end
    end
    if #statuses > 0 then s.statuses = statuses end -- cjson writes an empty table as {}
    if #notes > 0 then s.notes = notes end
    if share then
        for _, f in ipairs(EIDO_PERSONAL) do
            if (c[f] or '') ~= '' then s[f] = c[f] end
        end
    end
    return s
end

local function agency_view(id, g)
    return {agency_id = id, name = g.name, categories = split_csv(g.categories),
        identifying = g.identifying == '1', disabled = g.disabled == '1',
        created_at = iso_time(g.created_at), updated_at = iso_time(g.updated_at)}
end

-- Creates the agency's consumer group on the case log, reading from `from` ("$": what comes
-- next, "0": the oldest entry kept) unless it exists. true when it was created.
local function feed_group_ensure(P, id, from)
    local r = redis.pcall('XGROUP', 'CREATE', P .. 'log', 'feed:' .. id, from, 'MKSTREAM')
    return type(r) ~= 'table' or not r.err
end

-- ess_agency_put P id name categories_csv identifying("1"|"0"|"") token_hash rotate("1"|"0")
-- disabled("1"|"0"|"") from("$"|"0"): creates or updates an agency; "" leaves a field as it is.
-- A new agency needs name, categories and identifying ({"err": "missing_field", "field"}), and
-- gets its consumer group, reading from `from`. The token hash is kept on creation and with
-- rotate "1" (the old token then stops working). {"created", "token_set", "agency": view}.
local function agency_put(keys, a)
    local P, id = a[1], a[2]
    local created, token_set, key = account_put(P, 'agency', 'agencies', id,
        {{'name', a[3], 'name'}, {'categories', a[4], 'categories'},
            {'identifying', a[5], 'identifying'}}, a[6], a[7], a[8])
    if created == nil then return token_set end
    if created then feed_group_ensure(P, id, a[9] == '0' and '0' or '$') end
    return cjson.encode({created = created, token_set = token_set,
        agency = agency_view(id, hgetall(key))})
end

-- ess_agency_list P (read only): {"agencies": [view...]} by id, without secrets.
local function agency_list(keys, a)
    return account_list(a[1], 'agencies', 'agency:', 'name', agency_view)
end

-- The case fields a feed read reads besides the log entries' own (sharing, place, and the
-- identifying data when shared).
local FEED_SHARE_FIELDS = {'share_with_agencies', 'erased_at', 'lat', 'lon', 'reporter_name',
    'reporter_phone', 'description', 'address'}

-- What a case gives the agency's read: {"share" (eido_may_identify), "location" ({lat, lon},
-- exact when shared, else rounded to 0.01 degree; null without a place), and when shared
-- "reporter" ({name, phone}), "description", "address"; with eidos, "eido_case" (eido_source)}.
local function feed_case(P, case_id, identifying, eidos)
    local v = redis.call('HMGET', P .. 'case:' .. case_id, unpack(FEED_SHARE_FIELDS))
    local c = {}
    for i, name in ipairs(FEED_SHARE_FIELDS) do
        if v[i] then c[name] = v[i] end
    end
    local share = eido_may_identify(c, identifying, true)
    local info = {share = share}
    if c.lat and c.lon then
        info.location = share and {lat = tonumber(c.lat), lon = tonumber(c.lon)} or
            {lat = tonumber(round_coordinate(c.lat)), lon = tonumber(round_coordinate(c.lon))}
    else
        info.location = cjson.null
    end
    if share then
        local function val(name) return (c[name] and c[name] ~= '') and c[name] or cjson.null end
        info.reporter = {name = val('reporter_name'), phone = val('reporter_phone')}
        info.description = val('description')
        info.address = val('address')
    end
    if eidos then
        local whole = hgetall(P .. 'case:' .. case_id)
        if whole.status then info.eido_case = eido_source(P, case_id, whole, share) end
    end
    return info
end

-- The agency of an audit context (ctx.kind "agency"): its record, or nil and the refusal
-- (bad_argument:ctx, or unauthorized for an unknown or disabled agency).
local function feed_agency(P, ctx)
    if not ctx or ctx.kind ~= 'agency' then return nil, refuse('bad_argument:ctx') end
    local g = hgetall(P .. 'agency:' .. ctx.id)
    if g.name == nil or g.disabled == '1' then return nil, refuse('unauthorized') end
    return g
end

-- A feed read (router/api/feed.c) is this, then plain commands on the agency's consumer group
-- (group feed:<id>, consumer "feed": XAUTOCLAIM, XREADGROUP, XACK of the entries not for
-- it), then ess_feed_cases for the cases of the entries it answers: Redis does no per-entry work
-- in Lua.
-- ess_feed_begin P ctx audit_read("1"|"0") ensure_group("1"|"0"): the agency (ctx.id) may read:
-- audited with a "read" entry when audit_read is "1" (the first read of a request); with
-- ensure_group "1" its group is made again when missing (from the log's next entry; Redis
-- restored from an older file). {"categories": [code...], "identifying": bool}, or a refusal:
-- unauthorized, audit_unavailable.
local function feed_begin(keys, a)
    local P, ctx = a[1], audit_ctx(a[2])
    local g, refusal = feed_agency(P, ctx)
    if not g then return refusal end
    if a[3] == '1' and not audit_add(P, ctx, 'read', '', 'ok') then
        return refuse('audit_unavailable')
    end
    if a[4] == '1' then feed_group_ensure(P, ctx.id, '$') end
    local cats = split_csv(g.categories)
    if #cats == 0 then return '{"categories":[],"identifying":false}' end
    return cjson.encode({categories = cats, identifying = g.identifying == '1'})
end

-- ess_feed_cases P ctx format("eido"|"") case_id...: what each case gives the agency's read
-- with format=eido (feed_case, with its eido_case), decided now from the case as it is (consent,
-- erasure). Audited: an "export" entry per case whose identifying data it gives. {"cases":
-- [record...]} in the order of the case ids, or a refusal: unauthorized, audit_unavailable
-- (nothing is given). A read without format reads each case's sharing and place itself (HMGET,
-- feed_entries.c) and asks ess_feed_export for those it may share.
local function feed_cases(keys, a)
    local P, ctx = a[1], audit_ctx(a[2])
    local g, refusal = feed_agency(P, ctx)
    if not g then return refusal end
    local identifying, eidos = g.identifying == '1', a[3] == 'eido'
    local out = {}
    for i = 4, #a do
        local info = feed_case(P, a[i], identifying, eidos)
        if info.share and not audit_add(P, ctx, 'export', a[i], 'ok') then
            return refuse('audit_unavailable')
        end
        out[#out + 1] = info
    end
    if #out == 0 then return '{"cases":[]}' end
    return cjson.encode({cases = out})
end

-- ess_feed_export P ctx case_id...: the cases a feed read found it may share with the agency
-- (ctx.id), decided again now from the case as it is (the agency identifying, the case's consent,
-- no erasure: feed_case), with an "export" audit entry for each one it shares, in the same step:
-- identifying data leaves only through here (or ess_feed_cases). {"cases": [feed_case's
-- record...]} in the order of the ids, or a refusal: unauthorized, audit_unavailable.
local function feed_export(keys, a)
    local P, ctx = a[1], audit_ctx(a[2])
    local g, refusal = feed_agency(P, ctx)
    if not g then return refusal end
    local out = {}
    for i = 3, #a do
        local info = feed_case(P, a[i], g.identifying == '1', false)
        if info.share and not audit_add(P, ctx, 'export', a[i], 'ok') then
            return refuse('audit_unavailable')
        end
        out[#out + 1] = info
    end
    if #out == 0 then return '{"cases":[]}' end
    return cjson.encode({cases = out})
end

-- ess_case_eido P ctx case_id (audited: export): what the EIDO of the case is made from, as the
-- actor may see it (eido_source): an operator or supervisor any case, identifying data included
-- (until erased); an agency (ctx.kind "agency", ctx.id its id) a case of its categories
-- (forbidden otherwise), identifying data only as eido_may_identify says. {"case": source}, or
-- a refusal: not_found, forbidden, unauthorized (an unknown or disabled agency).
local function case_eido(keys, a)
    local P, case_id = a[1], a[3]
    local ctx = audit_ctx(a[2])
    if not ctx then return refuse('bad_argument:ctx') end
    local identifying, consent_needed = true, false
    if ctx.kind == 'agency' then
        local g = hgetall(P .. 'agency:' .. ctx.id)
        if g.name == nil or g.disabled == '1' then return refuse('unauthorized') end
        ctx.agency_categories = set_of(split_csv(g.categories))
        identifying, consent_needed = g.identifying == '1', true
    end
    return audited(P, ctx, 'export', case_id, function(c)
        local share = eido_may_identify(c, identifying, consent_needed)
        return cjson.encode({case = eido_source(P, case_id, c, share)})
    end)
end

-- ess_feed_gauges P (read only): {"agencies": [{"agency_id", "lag" (-1: unknown), "pending"}]}
local function feed_gauges(keys, a)
    local P = a[1]
    local byname = {}
    local groups = redis.pcall('XINFO', 'GROUPS', P .. 'log')
    if type(groups) == 'table' and not groups.err then
        for _, gr in ipairs(groups) do
            local t = {}
            for i = 1, #gr, 2 do t[gr[i]] = gr[i + 1] end
            byname[t.name] = t
        end
    end
    local ids = redis.call('SMEMBERS', P .. 'agencies')
    table.sort(ids)
    local out = {}
    for _, id in ipairs(ids) do
        local t = byname['feed:' .. id] or {}
        local lag = t.lag
        if type(lag) ~= 'number' then lag = -1 end
        out[#out + 1] = {agency_id = id, lag = lag, pending = tonumber(t.pending) or 0}
    end
    if #out == 0 then return '{"agencies":[]}' end
    return cjson.encode({agencies = out})
end

-- Open311 GeoReport v2 (DESIGN "The shared record"): the public read of cases, no personal
-- data: its tracking code, category, public status, team name, times rounded down to the hour
-- and the place rounded to 0.01 degree. Nothing here is audited: nothing personal is read out.

Open311.CLOSED = {resolved = true, closed = true, merged = true}
Open311.BATCH = 500
local HOUR_MS = 3600000

function Open311.index(P, case_id, created_at)
    redis.call('ZADD', P .. 'cases:created', created_at, case_id)
end

function Open311.forget(P, case_id)
    redis.call('ZREM', P .. 'cases:created', case_id)
end

-- ess_upgrade's step to schema 4: every case whose public view is kept (all of them but those
-- closed long enough ago) goes into P cases:created, found through the case indexes
-- (indexed_cases_each). The number of cases indexed.
function Open311.index_fill(P)
    local n = 0
    indexed_cases_each(P, function(id, created)
        local code = redis.call('HGET', P .. 'case:' .. id, 'tracking_code')
        if code and code ~= '' and redis.call('EXISTS', P .. 'track:' .. code) == 1 then
            redis.call('ZADD', P .. 'cases:created', 'NX', created, id)
            n = n + 1
        end
    end)
    return n
end

-- The Open311 facts of case case_id (code: its tracking code when known), or nil when its public
-- view is gone: {code, category, status, requested, updated (ms, down to the hour), team ("":
-- none), lat, lon ("" when not located; rounded to 0.01 degree), unconfirmed (the category is
-- the classifier's unconfirmed guess)}.
function Open311.row(P, case_id, code)
    local f = redis.call('HMGET', P .. 'case:' .. case_id, 'tracking_code', 'category',
        'created_at', 'lat', 'lon', 'category_suggested')
    code = code or f[1]
    if not code or code == '' or not f[3] then return nil end
    local t = redis.call('HMGET', P .. 'track:' .. code, 'case_id', 'status', 'updated_at',
        'team_name')
    if t[1] ~= case_id or not t[2] then return nil end
    local created, updated = tonumber(f[3]) or 0, tonumber(t[3]) or 0
    return {code = code, category = f[2] or 'other', status = t[2],
        requested = math.floor(created / HOUR_MS) * HOUR_MS,
        updated = math.floor(updated / HOUR_MS) * HOUR_MS, team = t[4] or '',
        lat = round_coordinate(f[4]), lon = round_coordinate(f[5]),
        unconfirmed = (f[6] or '') ~= ''}
end

-- ess_open311_list P from_ms to_ms statuses categories limit scan (read only): the cases whose
-- creation time, rounded down to the hour as shown, is within [from_ms, to_ms], newest first, at
-- most limit, looking at most at scan cases of that span (the Redis time one request may take);
-- statuses: "open", "closed" or "" (both); categories: a csv of category codes, "" for all.
-- abuse_risk cases and those whose category is an unconfirmed guess are never listed. Open cases
-- are read from P cases:open (few), the others from P cases:created. {"requests": [rows as
-- Open311.row], "scanned": cases looked at, "complete": false when scan ran out before the span}
function Open311.list(keys, a)
    local P, from, to = a[1], tonumber(a[2]), tonumber(a[3])
    local status, limit, scan = a[4], tonumber(a[6]), tonumber(a[7])
    local wanted = a[5] ~= '' and set_of(split_csv(a[5])) or nil
    -- a case shown at hour h is in the span when from <= h <= to
    local lo = math.ceil(from / HOUR_MS) * HOUR_MS
    local hi = math.floor(to / HOUR_MS) * HOUR_MS + HOUR_MS - 1
    local out, seen, complete = {}, 0, true
    local offset = 0
    local index = P .. (status == 'open' and 'cases:open' or 'cases:created')
    if wanted then
        wanted.abuse_risk = nil
        if next(wanted) == nil then lo = hi + 1 end -- nothing it may list
    end
    while #out < limit and lo <= hi do
        if seen >= scan then
            complete = false
            break
        end
        local ids = redis.call('ZRANGE', index, string.format('%.0f', hi),
            string.format('%.0f', lo), 'BYSCORE', 'REV', 'LIMIT', offset,
            math.min(Open311.BATCH, scan - seen))
        if #ids == 0 then break end
        offset = offset + #ids
        for _, id in ipairs(ids) do
            seen = seen + 1
            local r = Open311.row(P, id, nil)
            if r and r.category ~= 'abuse_risk' and not r.unconfirmed and
                (wanted == nil or wanted[r.category]) and
                (status == '' or (status == 'closed') == (Open311.CLOSED[r.status] == true)) then
                r.unconfirmed = nil
                out[#out + 1] = r
                if #out >= limit then break end
            end
        end
    end
    if #out == 0 then
        return '{"requests":[],"scanned":' .. seen .. ',"complete":' .. tostring(complete) .. '}'
    end
    return cjson.encode({requests = out, scanned = seen, complete = complete})
end

-- ess_open311_get P code (read only): the case of that canonical tracking code as Open311.row
-- says (abuse_risk cases included: found only by their code), or {"err": "not_found"} when no
-- public view has the code.
function Open311.get(keys, a)
    local P, code = a[1], a[2]
    local case_id = redis.call('HGET', P .. 'track:' .. code, 'case_id')
    local r = case_id and Open311.row(P, case_id, code)
    if not r then return refuse('not_found') end
    r.unconfirmed = nil
    return cjson.encode(r)
end

---------------------------------------------------------------------------------------------
-- Merging one incident's two cases (DESIGN "The shared record")

-- Puts the public view of the merged case c (and of the cases merged into it before) under the
-- surviving case t: t's view lists their codes (aliases) and each of them shows t's view from
-- now on (public_mirror), kept as long as t's (their own retention, P track:due, is dropped).
local function merge_track(P, case_id, c, t)
    if (c.tracking_code or '') == '' or (t.tracking_code or '') == '' then return end
    local okey, tkey = P .. 'track:' .. c.tracking_code, P .. 'track:' .. t.tracking_code
    if redis.call('EXISTS', tkey) == 0 then return end
    local codes = split_csv(redis.call('HGET', okey, 'aliases') or '')
    codes[#codes + 1] = c.tracking_code
    redis.call('HDEL', okey, 'aliases')
    for _, code in ipairs(split_csv(redis.call('HGET', tkey, 'aliases') or '')) do
        codes[#codes + 1] = code
    end
    local aliases = table.concat(codes, ',')
    redis.call('HSET', tkey, 'aliases', aliases)
    redis.call('ZREM', P .. 'track:due', case_id)
    public_mirror(P, tkey, aliases)
end

-- ess_case_merge P ctx case_id into (audited: update, by the actor): the case is one incident
-- with case into, which survives. The case is closed into it: merged_into merged_at merged_by,
-- its team released (the slot comes free and the queue drains into it), out of the queue and of
-- the deadlines (a dispatch still waiting lapses: the case no longer holds a team), its chat
-- ended; a timeline and case-log entry on each (event merged on the case, merged_from on the
-- survivor, other_case_id the other one), the survivor's status untouched. Its tracking code
-- then answers the survivor's public view (merge_track). A closed case is never routed again.
-- A repeat of a merge done already answers as the first did. Refusals: merge_into_itself,
-- already_merged {merged_into} (into another case), case_closed, target_not_found,
-- target_merged {merged_into}, target_closed. The case as ess_case_get answers it.
local function case_merge(keys, a)
    local P, case_id, into = a[1], a[3], a[4] or ''
    return audited(P, a[2], 'update', case_id, function(c, ctx)
        if into == case_id then return refuse('merge_into_itself') end
        if (c.merged_into or '') ~= '' then
            if c.merged_into == into then return case_view(P, case_id, c) end
            return refuse('already_merged', {merged_into = c.merged_into})
        end
        if c.status == 'closed' then return refuse('case_closed') end
        local t = hgetall(P .. 'case:' .. into)
        if t.status == nil then return refuse('target_not_found') end
        if (t.merged_into or '') ~= '' then
            return refuse('target_merged', {merged_into = t.merged_into})
        end
        if t.status == 'closed' then return refuse('target_closed') end
        local now, by = now_ms(), ctx.id
        local freed = nil
        if ACTIVE[c.status] then freed = release_team(P, case_id, c) end
        redis.call('ZREM', P .. 'queue', case_id)
        redis.call('ZREM', P .. 'deadlines', case_id)
        if CHAT_ACTIVE[c.chat or ''] then chat_end(P, case_id, c, by, now) end
        redis.call('HSET', P .. 'case:' .. case_id, 'merged_into', into, 'merged_at', now,
            'merged_by', by)
        c.merged_into = into
        record_link(P, case_id, c, 'merged', into, now, by)
        record_status(P, case_id, c, 'closed', now, by)
        redis.call('HSET', P .. 'case:' .. into, 'updated_at', now)
        t.updated_at = now
        record_link(P, into, t, 'merged_from', case_id, now, by)
        merge_track(P, case_id, c, t)
        if freed then drain_for_team(P, freed, now) end
        return case_view(P, case_id, hgetall(P .. 'case:' .. case_id))
    end)
end

redis.register_function('ess_case_create', case_create)
redis.register_function('ess_team_put', team_put)
redis.register_function('ess_team_position', team_position)
redis.register_function('ess_case_get', case_get)
redis.register_function{function_name = 'ess_case_read', callback = case_read,
    flags = {'no-writes'}}
redis.register_function('ess_case_status', case_status)
redis.register_function('ess_case_ack', case_ack)
redis.register_function('ess_case_assign', case_assign)
redis.register_function{function_name = 'ess_case_list', callback = case_list, flags = {'no-writes'}}
redis.register_function{function_name = 'ess_stats', callback = stats, flags = {'no-writes'}}
redis.register_function{function_name = 'ess_stats_read', callback = Stats.read,
    flags = {'no-writes'}}
redis.register_function('ess_queue_sweep', queue_sweep)
redis.register_function('ess_outbox_claim', outbox_claim)
redis.register_function('ess_outbox_done', outbox_done)
redis.register_function('ess_outbox_retry', outbox_retry)
redis.register_function{function_name = 'ess_line_begin', callback = line_begin, flags = {'no-writes'}}
redis.register_function('ess_line_commit', line_commit)
redis.register_function('ess_chat_messages', chat_messages)
redis.register_function('ess_chat_take', chat_take)
redis.register_function('ess_chat_say', chat_say)
redis.register_function('ess_chat_close', chat_close)
redis.register_function('ess_chat_wait_expire', chat_wait_expire)
redis.register_function('ess_line_abandon_take', line_abandon_take)
redis.register_function('ess_line_abandon_done', line_abandon_done)
redis.register_function('ess_case_note', case_note)
redis.register_function('ess_case_locate', case_locate_call)
redis.register_function('ess_deadlines_expire', deadlines_expire)
redis.register_function('ess_dispatch_result', dispatch_result)
redis.register_function('ess_case_ack_group', case_ack_group)
redis.register_function('ess_rate_hit', rate_hit)
redis.register_function('ess_operator_put', operator_put)
redis.register_function{function_name = 'ess_operator_list', callback = operator_list,
    flags = {'no-writes'}}
redis.register_function('ess_login_begin', login_begin)
redis.register_function('ess_login_fail', login_fail)
redis.register_function('ess_session_create', session_create)
redis.register_function('ess_auth_resolve', auth_resolve)
redis.register_function('ess_session_end', session_end)
redis.register_function{function_name = 'ess_team_list', callback = team_list, flags = {'no-writes'}}
redis.register_function('ess_case_find', case_find)
redis.register_function('ess_case_triage', case_triage)
redis.register_function('ess_case_note_view', case_note_view)
redis.register_function{function_name = 'ess_case_candidates', callback = case_candidates,
    flags = {'no-writes'}}
redis.register_function('ess_upgrade', upgrade)
redis.register_function('ess_audit_list', audit_list)
redis.register_function('ess_audit_trim', audit_trim)
redis.register_function('ess_case_consent', case_consent)
redis.register_function('ess_case_erase', case_erase)
redis.register_function('ess_retention_sweep', retention_sweep)
redis.register_function('ess_agency_put', agency_put)
redis.register_function{function_name = 'ess_agency_list', callback = agency_list,
    flags = {'no-writes'}}
redis.register_function('ess_feed_begin', feed_begin)
redis.register_function('ess_feed_cases', feed_cases)
redis.register_function('ess_feed_export', feed_export)
redis.register_function('ess_case_eido', case_eido)
redis.register_function('ess_case_merge', case_merge)
redis.register_function{function_name = 'ess_feed_gauges', callback = feed_gauges,
    flags = {'no-writes'}}
redis.register_function{function_name = 'ess_open311_list', callback = Open311.list,
    flags = {'no-writes'}}
redis.register_function{function_name = 'ess_open311_get', callback = Open311.get,
    flags = {'no-writes'}}
