-- Shared by the wrk scripts (loaded with dofile): numbers the threads, counts each thread's answers
-- and prints the run's figures as one JSON line at the end (latencies in microseconds).

local threads = {}
ok, other, first_error = 0, 0, ""

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

-- Called from each script's response(): `expected` is the status that counts as ok.
function tally(status, body, expected)
  if status == expected then
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
