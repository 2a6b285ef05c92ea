-- wrk script of scripts/bench. ESS_BENCH_MODE chooses what it drives:
--   plain      the URL as given (the bare ceilings); static requests, no response parsing
--   incidents  POST /v1/incidents with varied locations (ESS_BENCH_POINTS, "lat lon" lines),
--              categories and unique call_ids; counts assigned/queued, keeps the cases'
--              "tracking_code case_id status" lines
--   track      GET /v1/track/{code} over the codes in ESS_BENCH_CODES (first field of a line)
--   track_page GET /track/{code} (the public page) over the same codes
--   line       POST of the signed LINE webhooks of ESS_BENCH_LINE_BODIES ("reply_token<TAB>
--              signature<TAB>body" lines, tests/bench/line_bench.py), each once: thread k of
--              ESS_BENCH_THREADS sends lines k, k+T, k+2T...; a thread that runs out starts over
--              and counts the requests it sends again (repeats the router drops) as "wrapped"
-- done() writes one JSON object of figures to ESS_BENCH_OUT (and the codes to ESS_BENCH_CODES).

local mode = os.getenv("ESS_BENCH_MODE") or "plain"
local out_path = os.getenv("ESS_BENCH_OUT")
local codes_path = os.getenv("ESS_BENCH_CODES")
local max_codes = 200000 -- per thread

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
   table.insert(threads, thread)
end

-- Incidents ----------------------------------------------------------------------------------

-- Category mix of the hotline's calls; "" sends no category (the router classifies the text).
local categories = {
   {"threat", 22}, {"detention", 14}, {"abuse_risk", 18}, {"mental_crisis", 24},
   {"gathering", 12}, {"", 10},
}
local descriptions = {
   threat = {"มีคนโทรมาข่มขู่ว่าจะทำร้ายถ้าไม่จ่ายเงิน", "อดีตสามีขู่จะฆ่าถ้าแจ้งตำรวจ",
             "A neighbour threatens to hurt her with a knife"},
   detention = {"ผู้หญิงถูกสามีขังไว้ในห้องเช่า ไม่ให้ออกไปไหน", "แรงงานถูกนายจ้างกักตัวไว้ ยึดบัตรประชาชน",
                "My sister is locked in a room by her boyfriend"},
   abuse_risk = {"มีผู้ชายตามถ้ำมองและพยายามล่วงละเมิด", "หัวหน้างานลวนลามและขู่ไม่ให้บอกใคร",
                 "A man keeps harassing her and tried to touch her"},
   mental_crisis = {"ผู้ชายคลุ้มคลั่ง ถือมีด อาละวาดอยู่หน้าบ้าน", "ญาติเมายาบ้าอาละวาดทำลายข้าวของ",
                    "A man is out of control, shouting and breaking things"},
   gathering = {"วัยรุ่นมั่วสุมเสพยาในบ้านร้างทุกคืน", "มีบ่อนการพนันและมั่วสุมในซอย",
                "Teenagers gather to take drugs in an empty house"},
   [""] = {"ถูกแฟนขังไว้ในห้อง ช่วยด้วย", "มีคนคลุ้มคลั่งถือมีดไล่ทำร้ายคนในซอย",
           "วัยรุ่นมั่วสุมเสพยาในสวนสาธารณะ", "He threatened to kill me if I leave"},
}
local points = {}
local category_total = 0
local counter = 0
local nonce = os.getenv("ESS_BENCH_NONCE") or tostring(os.time())
local headers = {}
assigned, queued, other_status, failed = 0, 0, 0, 0
codes = {}

local function pick_category()
   local r = math.random(category_total)
   for _, c in ipairs(categories) do
      r = r - c[2]
      if r <= 0 then return c[1] end
   end
   return categories[1][1]
end

-- Track ---------------------------------------------------------------------------------------

local track_requests = {}
local track_next = 1

-- LINE ----------------------------------------------------------------------------------------

local line_requests = {}
local line_next = 0
wrapped = 0

function init(args)
   math.randomseed(os.time() * 1000 + (id or 0) * 7919)
   if mode == "incidents" then
      for line in io.lines(os.getenv("ESS_BENCH_POINTS")) do
         local lat, lon = line:match("^(%S+) (%S+)$")
         if lat then table.insert(points, {lat, lon}) end
      end
      assert(#points > 0, "no incident locations in ESS_BENCH_POINTS")
      for _, c in ipairs(categories) do category_total = category_total + c[2] end
      headers["Authorization"] = "Bearer " .. os.getenv("ESS_OPERATOR_TOKEN")
      headers["Content-Type"] = "application/json; charset=utf-8"
   elseif mode == "track" or mode == "track_page" then
      local prefix = mode == "track" and "/v1/track/" or "/track/"
      for line in io.lines(codes_path) do
         local code = line:match("^(%S+)")
         if code then
            table.insert(track_requests, wrk.format("GET", prefix .. code))
         end
      end
      assert(#track_requests > 0, "no tracking codes in ESS_BENCH_CODES")
      track_next = math.random(#track_requests)
   elseif mode == "line" then
      local nthreads = tonumber(os.getenv("ESS_BENCH_THREADS") or "1") or 1
      local n = 0
      for line in io.lines(os.getenv("ESS_BENCH_LINE_BODIES")) do
         n = n + 1
         if (n - 1) % nthreads == (id or 1) - 1 then
            local sig, body = line:match("^[^\t]+\t([^\t]+)\t(.+)$")
            if sig then
               table.insert(line_requests, wrk.format("POST", "/webhooks/line",
                  {["Content-Type"] = "application/json; charset=utf-8", ["X-Line-Signature"] = sig},
                  body))
            end
         end
      end
      assert(#line_requests > 0, "no webhook bodies in ESS_BENCH_LINE_BODIES")
   end
end

if mode == "incidents" then
   function request()
      counter = counter + 1
      local p = points[math.random(#points)]
      local cat = pick_category()
      local texts = descriptions[cat]
      local cat_field = ""
      if cat ~= "" then cat_field = string.format('"category":"%s",', cat) end
      local body = string.format(
         '{"call_id":"bench-%s-%d-%d",%s"description":"%s",' ..
         '"location":{"lat":%s,"lon":%s,"address":"bench"},' ..
         '"reporter":{"name":"Bench Caller","phone":"0800000000"},"operator_id":"op-bench"}',
         nonce, id, counter, cat_field, texts[math.random(#texts)], p[1], p[2])
      return wrk.format("POST", "/v1/incidents", headers, body)
   end

   function response(status, hdrs, body)
      if status ~= 200 and status ~= 201 then
         failed = failed + 1
         return
      end
      local st = body:match('"status"%s*:%s*"([%a_]+)"')
      if st == "assigned" then
         assigned = assigned + 1
      elseif st == "queued" then
         queued = queued + 1
      else
         other_status = other_status + 1
      end
      if #codes < max_codes then
         local code = body:match('"tracking_code"%s*:%s*"([%w%-]+)"')
         local case_id = body:match('"case_id"%s*:%s*"([%w%-_]+)"')
         if code and case_id then codes[#codes + 1] = code .. " " .. case_id .. " " .. (st or "?") end
      end
   end
elseif mode == "track" or mode == "track_page" then
   function request()
      local r = track_requests[track_next]
      track_next = track_next % #track_requests + 1
      return r
   end
elseif mode == "line" then
   function request()
      line_next = line_next + 1
      if line_next > #line_requests then wrapped = wrapped + 1 end
      return line_requests[(line_next - 1) % #line_requests + 1]
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local fields = {
      string.format('"mode":"%s"', mode),
      string.format('"requests":%d', summary.requests),
      string.format('"duration_us":%d', summary.duration),
      string.format('"rps":%.1f', summary.requests / (summary.duration / 1e6)),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p90_us":%d', latency:percentile(90)),
      string.format('"p99_us":%d', latency:percentile(99)),
      string.format('"max_us":%d', latency.max),
      string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                    e.connect, e.read, e.write, e.status, e.timeout),
   }
   if mode == "incidents" then
      local a, q, o, f = 0, 0, 0, 0
      local f_codes = codes_path and io.open(codes_path, "w")
      for _, t in ipairs(threads) do
         a = a + (t:get("assigned") or 0)
         q = q + (t:get("queued") or 0)
         o = o + (t:get("other_status") or 0)
         f = f + (t:get("failed") or 0)
         if f_codes then
            for _, c in ipairs(t:get("codes") or {}) do f_codes:write(c, "\n") end
         end
      end
      if f_codes then f_codes:close() end
      table.insert(fields, string.format('"assigned":%d,"queued":%d,"other_status":%d,"failed":%d',
                                         a, q, o, f))
   elseif mode == "line" then
      local w = 0
      for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
      table.insert(fields, string.format('"wrapped":%d', w))
   end
   local line = "{" .. table.concat(fields, ",") .. "}\n"
   if out_path then
      local f = assert(io.open(out_path, "w"))
      f:write(line)
      f:close()
   else
      io.write(line)
   end
end
