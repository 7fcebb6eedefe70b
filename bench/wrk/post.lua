-- wrk script of the benchmark: POSTs one fixed JSON payload over keep-alive and prints a JSON summary.
--
-- Configured through the environment (wrk's own arguments cannot carry bodies or header lists):
--   BENCH_BODY        the request body (default "{}")
--   BENCH_HEADERS     extra headers, one "Name: value" per line
--   BENCH_PATHS_FILE  optional: one request path per line, used round robin (several registrations sharing the
--                     load); without it every request goes to the URL's path
-- done() writes one line to stdout: BENCH_RESULT {"requests": N, ...} (durations and latencies in microseconds).

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.-)%s*$")
  if name then
    wrk.headers[name] = value
  end
end

local paths_file = os.getenv("BENCH_PATHS_FILE")
if paths_file and paths_file ~= "" then
  local requests = {}
  local next_index = 1

  -- Each wrk thread runs this script in its own Lua state: pre-format every request once, then only look them up.
  function init(args)
    for path in io.lines(paths_file) do
      if path ~= "" then
        requests[#requests + 1] = wrk.format(nil, path)
      end
    end
    -- Threads start at different registrations so that they do not move in lockstep.
    next_index = (math.floor(os.clock() * 1000003) % #requests) + 1
  end

  function request()
    local req = requests[next_index]
    next_index = next_index % #requests + 1
    return req
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
