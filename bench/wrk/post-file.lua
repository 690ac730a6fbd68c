-- wrk script: POST the JSON file named by the WRK_BODY_FILE environment variable to the URL's
-- path. scripts/bench-http.sh uses it for every run: bench/wrk/predict-one.json (one patient,
-- to /predict and to the hello baseline) and the 1000-patient batch it generates.
--
--   WRK_BODY_FILE=bench/wrk/predict-one.json \
--     wrk -t2 -c32 -d20s --latency -s bench/wrk/post-file.lua http://127.0.0.1:PORT/predict

local path = os.getenv("WRK_BODY_FILE")
if path == nil or path == "" then
  error("set WRK_BODY_FILE to the JSON body to POST")
end
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

-- One machine-readable line after wrk's own report, for scripts/bench-http.sh.
-- errors.status counts responses with status > 399 (wrk's "Non-2xx or 3xx responses").
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "WRK_RESULT requests=%d seconds=%.3f rps=%.1f bad_status=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d mean_us=%.0f max_us=%d\n",
    summary.requests, seconds, summary.requests / seconds, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
