-- wrk script for bench/submissions: POSTs a filing with its own Idempotency-Key and body each time.
-- usage: wrk ... -s submit.lua URL -- <path> <tokens file, one per line> <run nonce> <body template file>
-- The body template holds "%PURPOSE%", replaced per request so that every fingerprint differs.
-- Prints one JSON line of figures at the end (latencies in microseconds).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

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
  ok, other, first_error = 0, 0, ""
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
  if status == 201 then
    ok = ok + 1
  else
    other = other + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local created, refused, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    created = created + thread:get("ok")
    refused = refused + thread:get("other")
    if sample == "" then sample = thread:get("first_error") end
  end
  sample = sample:gsub('[%c"\\]', " ")
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "ok": %d, "not_ok": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "first_error": "%s"}\n',
    summary.requests, summary.duration, created, refused,
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    sample))
end
