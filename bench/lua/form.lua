-- wrk script for bench/tokens: form POSTs, each request the next line of a file (round robin).
-- usage: wrk ... -s form.lua URL -- <path> <file: one "Authorization header value<TAB>form body" a line>
-- A 200 counts as ok. Prints one JSON line of figures at the end (latencies in microseconds).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  calls = {}
  for line in io.lines(args[2]) do
    local authorization, body = line:match("^([^\t]*)\t(.*)$")
    if authorization then table.insert(calls, {authorization, body}) end
  end
  ok, other, first_error = 0, 0, ""
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
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local good, bad, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    bad = bad + thread:get("other")
    if sample == "" then sample = thread:get("first_error") end
  end
  sample = sample:gsub('[%c"\\]', " ")
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "ok": %d, "not_ok": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "first_error": "%s"}\n',
    summary.requests, summary.duration, good, bad,
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    sample))
end
