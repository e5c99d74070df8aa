-- wrk script: each request asks a random machine (m0001..mN) for one of its
-- metrics over the last RANGE_S seconds, or for its status, so the query
-- connections touch pages all over the file (not one machine's hot pages).
-- Usage: wrk ... -s random_machine.lua URL -- N RANGE_S
local n, range_s
function init(args)
  n = tonumber(args[1] or '1000')
  range_s = tonumber(args[2] or '86400')
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
local metrics = { 'head_temp_c', 'paste_height_um', 'zone3_c', 'camera_temp_c' }
function request()
  local i = math.random(n)
  local id = string.format('m%04d', i)
  if math.random(4) == 1 then
    return wrk.format('GET', '/api/v1/machines/' .. id)
  end
  local now = os.time() * 1000
  local metric = metrics[(i - 1) % 4 + 1]  -- the machine's own type (bench-lib cycles types)
  return wrk.format('GET', '/api/v1/machines/' .. id .. '/series?metric=' .. metric ..
                    '&from=' .. (now - range_s * 1000) .. '&to=' .. now)
end
