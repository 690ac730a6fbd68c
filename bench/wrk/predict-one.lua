-- wrk script: POST one PCE 2013 patient (the same body as benches/predict_body.rs) to the URL's
-- path. scripts/bench-http.sh uses it for both POST /predict and the hello baseline, so both
-- components receive and read identical requests.
--
--   wrk -t2 -c32 -d20s --latency -s bench/wrk/predict-one.lua http://127.0.0.1:PORT/predict

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"patient_data": {"age": 55, "sex": "female", "race": "african_american", '
  .. '"total_cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120, '
  .. '"on_bp_treatment": true, "smoker": false, "diabetic": true}, "model": "pce-2013"}'

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
