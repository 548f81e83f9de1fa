-- wrk script: every request changes a user's display name (a durable write),
-- rotating over the users whose tokens bench/run.sh wrote to tokens.lua.
local counter = 0
local tokens = dofile(os.getenv("BENCH_TOKENS"))
request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local body = string.format('{"display_name":"Bench %d"}', counter)
  return wrk.format("PATCH", "/api/v1/me",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
