-- wrk script for bench/serve/serve_bench.sh: POSTs a 64-byte body and counts
-- the answers by kind: 202 (accepted tasks), 429 (refused for capacity), 5xx
-- and anything else apart, so that a run shows every answer it got.
wrk.method = "POST"
wrk.body = string.rep("x", 64)
wrk.headers["Content-Type"] = "application/octet-stream"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  refused = 0
  failed = 0
  other = 0
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
  elseif status == 429 then
    refused = refused + 1
  elseif status >= 500 then
    failed = failed + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, r, f, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    r = r + t:get("refused")
    f = f + t:get("failed")
    o = o + t:get("other")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT accepted_per_s=%.0f accepted=%d refused_429=%d status_5xx=%d other=%d socket_errors=%d " ..
                         "p50_ms=%.2f p99_ms=%.2f p99.9_ms=%.2f max_ms=%.1f\n",
                         a / seconds, a, r, f, o, summary.errors.connect + summary.errors.read + summary.errors.write +
                         summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         latency:percentile(99.9) / 1000, latency.max / 1000))
end
