-- wrk script for issue 4 §7's read scenario: POST /graphql with the
-- customer query for a random seeded customer (c000000 … c<N-1>).
-- Usage: wrk -t2 -c64 -d30s -s customer.lua http://127.0.0.1:PORT/graphql
-- Set KEFU_BENCH_CUSTOMERS (default 100000) to the seeded count.
local n = tonumber(os.getenv("KEFU_BENCH_CUSTOMERS") or "100000")
local query = "query($id: ID!) { customer(id: $id) { stage loyalty { score level } openComplaints { id } timeline(first: 20) { edges { node { type occurredAt summary } } } } }"
errors = 0

local threads = {}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local id = string.format("c%06d", math.random(0, n - 1))
  return wrk.format(nil, nil, nil, '{"query":"' .. query .. '","variables":{"id":"' .. id .. '"}}')
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors":', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do
    failed = failed + t:get("errors")
  end
  io.write(string.format("GraphQL errors or non-200: %d of %d; p50 %.2fms p90 %.2fms p99 %.2fms\n",
    failed, summary.requests, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
