-- wrk script: bench/wrk/post-file.lua (POST the file WRK_BODY_FILE names) plus a count of every
-- response by status class, across all threads, so that 3xx answers are seen too (wrk's own
-- "Non-2xx or 3xx" count only covers status > 399). Prints one line after wrk's report:
--   WRK_STATUS 1xx=0 2xx=N 3xx=0 4xx=0 5xx=0
-- after post-file.lua's WRK_RESULT line.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "../../bench/wrk/post-file.lua")
local report = done

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = { 0, 0, 0, 0, 0 }
end

function response(status, headers, body)
  local class = math.floor(status / 100)
  if class >= 1 and class <= 5 then
    counts[class] = counts[class] + 1
  end
end

function done(summary, latency, requests)
  report(summary, latency, requests)
  local totals = { 0, 0, 0, 0, 0 }
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for i = 1, 5 do
      totals[i] = totals[i] + c[i]
    end
  end
  io.write(string.format("WRK_STATUS 1xx=%d 2xx=%d 3xx=%d 4xx=%d 5xx=%d\n",
    totals[1], totals[2], totals[3], totals[4], totals[5]))
end
