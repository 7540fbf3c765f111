-- wrk script for bench/submissions: POSTs a filing with its own Idempotency-Key and body each time.
-- usage: wrk ... -s submit.lua URL -- <path> <tokens file, one per line> <run nonce> <body template file>
-- The body template holds "%PURPOSE%", replaced per request so that every fingerprint differs.
-- Prints one JSON line of figures at the end (latencies in microseconds).

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")
local counter = 0

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(lines, line) end
  end
  return lines
end

function init(args)
  path = args[1]
  tokens = read_lines(args[2])
  nonce = args[3]
  local file = assert(io.open(args[4], "r"))
  template = file:read("*a")
  file:close()
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", nonce, thread_id, counter)
  local token = tokens[(counter + thread_id) % #tokens + 1]
  local body = template:gsub("%%PURPOSE%%", "bench filing " .. id)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = id,
  }, body)
end

function response(status, headers, body)
  tally(status, body, 201)
end
