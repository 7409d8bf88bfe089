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
