-- wrk script: after the run prints one machine-readable line
--   wrkjson {"requests":..,"rps":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"errors":..}
-- so the bench scripts need not parse wrk's human output. "errors" counts
-- socket errors, timeouts and HTTP statuses >= 400. wrk takes one -s script:
-- the bench scripts append this file to a request script when they need both.
function done(summary, latency)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'wrkjson {"requests":%d,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors":%d}\n',
    summary.requests, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
