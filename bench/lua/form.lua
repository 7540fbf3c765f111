-- wrk script for bench/tokens: form POSTs, each request the next line of a file (round robin).
-- usage: wrk ... -s form.lua URL -- <path> <file: one "Authorization header value<TAB>form body" a line>
-- A 200 counts as ok. Prints one JSON line of figures at the end (latencies in microseconds).

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")
local counter = 0

function init(args)
  path = args[1]
  calls = {}
  for line in io.lines(args[2]) do
    local authorization, body = line:match("^([^\t]*)\t(.*)$")
    if authorization then table.insert(calls, {authorization, body}) end
  end
end

function request()
  counter = counter + 1
  local call = calls[(counter * 7 + thread_id) % #calls + 1]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = call[1],
  }, call[2])
end

function response(status, headers, body)
  tally(status, body, 200)
end
