-- Shared by every scenario script: settings from the environment, per-thread ids and random
-- seeds, the JSON bodies, and a done() that prints one machine-readable line for bench/run.py.
-- wrk runs each script once per thread (its own Lua state) and once more in the main state
-- (setup and done).
local M = {}

M.stack = os.getenv("BENCH_STACK") or "blogsvc"          -- "seed" or "blogsvc"
M.articles = tonumber(os.getenv("BENCH_ARTICLES") or "100000")  -- ids 1..articles exist
M.users = tonumber(os.getenv("BENCH_USERS") or "100")            -- ids 1..users exist
M.password = os.getenv("BENCH_PASSWORD") or "bench-password"
M.nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
M.page = 20
M.seed = M.stack == "seed"

local json_headers = { ["Content-Type"] = "application/json" }
M.json_headers = json_headers

local threads = {}
local counter = 0

-- setup() runs in the main state once per thread: give each a distinct id.
function M.setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

function M.init()
   -- tid is set by setup() before init() runs in the thread's own state.
   local t = tonumber(tid) or 0
   math.randomseed(os.time() * 1000 + t * 7919 + math.floor(os.clock() * 1e6))
   for _ = 1, 10 do math.random() end
   M.tid = t
   M.n = 0
end

function M.article_id()
   return math.random(1, M.articles)
end

function M.user_id()
   return math.random(1, M.users)
end

function M.next()
   M.n = M.n + 1
   return M.n
end

-- Titles stay within the seed schema's VARCHAR(50), bodies within its VARCHAR(255).
function M.article_body(kind)
   local n = M.next()
   local title = string.format("%s %d-%d-%d", kind, M.tid, n, math.random(1, 999999))
   local body = string.format("%s body %d-%d. ", kind, M.tid, n) ..
      string.rep("The quick brown fox jumps over the lazy dog. ", 3)
   return string.format('{"title":"%s","body":"%s"}', title, body)
end

-- A unique address per request: run nonce, thread id, counter and a random number.
function M.user_body()
   local n = M.next()
   local email = string.format("b%s-%d-%d-%d@bench.example.com", M.nonce, M.tid, n, math.random(1, 999999999))
   return string.format('{"email":"%s","password":"%s"}', email, M.password)
end

-- Paths differ only where the two APIs do: the seed stack wants its trailing slashes.
function M.get_article()
   return wrk.format("GET", "/articles/" .. M.article_id())
end

function M.list_page()
   local offset = math.random(0, M.articles - M.page)
   if M.seed then
      return wrk.format("GET", string.format("/articles/?skip=%d&limit=%d", offset, M.page))
   end
   return wrk.format("GET", string.format("/articles?offset=%d&limit=%d", offset, M.page))
end

function M.create_article()
   local path = "/users/" .. M.user_id() .. (M.seed and "/articles/" or "/articles")
   return wrk.format("POST", path, json_headers, M.article_body("Bench"))
end

function M.update_article()
   return wrk.format("PATCH", "/articles/" .. M.article_id(), json_headers, M.article_body("Updated"))
end

function M.create_user()
   return wrk.format("POST", M.seed and "/users/" or "/users", json_headers, M.user_body())
end

function M.verify()
   local body = string.format('{"email":"user%d@example.com","password":"%s"}', M.user_id(), M.password)
   return wrk.format("POST", "/auth/verify", json_headers, body)
end

-- One JSON line on stdout; latencies in microseconds.
function M.done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
end

return M
