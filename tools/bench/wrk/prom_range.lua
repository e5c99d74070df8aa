-- wrk script: a Prometheus range query over the last hour, re-timed per
-- request so it always ends "now" (edgemes /series defaults to the same).
-- Usage: wrk ... -s prom_range.lua URL -- QUERY STEP_S
local query, step
function init(args)
  query = args[1] or 'up'
  step = args[2] or '12'
end
local function escape(s)
  return (s:gsub('[^%w%-%._~]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
function request()
  local now = os.time()
  local path = '/api/v1/query_range?query=' .. escape(query) ..
               '&start=' .. (now - 3600) .. '&end=' .. now .. '&step=' .. step
  return wrk.format('GET', path)
end
