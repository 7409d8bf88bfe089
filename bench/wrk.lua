-- One wrk script for every scenario; bench/run.sh writes handles.lua (tokens, ids, points from
-- `qiaomen bench-data`) and picks the scenario with the SCENARIO environment variable.
package.path = package.path .. ";" .. (os.getenv("BENCH_OUT") or "bench/out") .. "/?.lua"
local h = require("handles")
local scenario = os.getenv("SCENARIO") or "inbox"
local counter = 0
local categories = { "sanitation", "noise", "parking", "fire_exit", "lighting", "property" }

local function pick(list)
  counter = counter + 1
  return list[(counter % #list) + 1]
end

request = function()
  if scenario == "submit" then
    local p = pick(h.points)
    local body = string.format(
      '{"kind":"complaint","category":"%s","description":"楼下夜里施工，噪音很大，影响休息",' ..
      '"location":{"lat":%.6f,"lng":%.6f,"coord_system":"wgs84"}}',
      categories[(counter % #categories) + 1], p[1] + ((counter % 7) - 3) * 0.0002,
      p[2] + ((counter % 5) - 2) * 0.0002)
    return wrk.format("POST", "/api/v1/tickets", {
      ["Authorization"] = "Bearer " .. pick(h.residents),
      ["Content-Type"] = "application/json",
    }, body)
  elseif scenario == "inbox" then
    return wrk.format("GET", "/api/v1/work/tickets?status=assigned,in_progress&limit=20", {
      ["Authorization"] = "Bearer " .. pick(h.workers),
    })
  elseif scenario == "timeline" then
    return wrk.format("GET", "/api/v1/tickets/" .. pick(h.tickets), {
      ["Authorization"] = "Bearer " .. h.street_admin,
    })
  else -- summary
    return wrk.format("GET", "/api/v1/stats/summary?area_id=" .. h.street .. "&from=" .. h.year_from
      .. "&to=" .. h.year_to, { ["Authorization"] = "Bearer " .. h.street_admin })
  end
end

local failures = 0
response = function(status, headers, body)
  if status >= 400 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("HTTP " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

-- Paced load (RATE, requests per second over all connections): each thread sends at its share
-- of the rate on a fixed schedule, whatever the responses do, as a city's phones would, so the
-- latencies are those of that load rather than of a saturated server. wrk times a request from
-- when it is sent; a send that its schedule had wanted earlier (every connection still waiting
-- for a response) is counted as late, with the longest lag: when there are more than a few,
-- the latencies understate what users wait.
local rate = tonumber(os.getenv("RATE") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } qm_timespec;
    int clock_gettime(int clock_id, qm_timespec *tp);
  ]]
  local ts = ffi.new("qm_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 * tonumber(os.getenv("THREADS") or "2") / rate
  local next_send
  late, max_lag, sends = 0, 0, 0
  delay = function()
    local now = now_ms()
    next_send = next_send or now
    local slot = next_send
    next_send = next_send + interval
    sends = sends + 1
    if slot < now - 1 then
      late = late + 1
      if now - slot > max_lag then max_lag = now - slot end
      return 0
    end
    return math.max(0, math.floor(slot - now))
  end
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  if not (rate and rate > 0) then return end
  local late_total, sends_total, lag = 0, 0, 0
  for _, t in ipairs(threads) do
    late_total = late_total + (t:get("late") or 0)
    sends_total = sends_total + (t:get("sends") or 0)
    lag = math.max(lag, t:get("max_lag") or 0)
  end
  io.write(string.format("Paced: %d req/s offered, %d sends, %d late, longest lag %.1f ms\n",
    rate, sends_total, late_total, lag))
end
