-- wrk script: every request changes a user's display name (a durable write).
-- Each wrk thread writes its own share of the users whose tokens
-- bench/run.sh wrote to tokens.lua, in turn, so that concurrent requests
-- write different users (BENCH_THREADS must match wrk's -t).
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local counter = 0
local tokens = dofile(os.getenv("BENCH_TOKENS"))
local share = math.floor(#tokens / tonumber(os.getenv("BENCH_THREADS") or "2"))
request = function()
  counter = counter + 1
  local token = tokens[(id or 0) * share + (counter % share) + 1]
  local body = string.format('{"display_name":"Bench %d"}', counter)
  return wrk.format("PATCH", "/api/v1/me",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
