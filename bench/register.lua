-- wrk script: every request registers a new, unique account.
local counter = 0
math.randomseed(os.time())
local salt = math.random(1, 999999)

setup = function(thread)
  thread:set("tid", math.random(1, 999999))
end

request = function()
  counter = counter + 1
  local name = string.format("b%d_%d_%d", salt, tid or 0, counter)
  local body = string.format(
    '{"username":"%s","email":"%s@example.com","password":"correct horse battery"}', name, name)
  return wrk.format("POST", "/api/v1/accounts", { ["Content-Type"] = "application/json" }, body)
end
