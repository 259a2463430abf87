-- bench scenario with one fixed GET path from BENCH_PATH (first page, a deep cursor page).
local c = dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")
local path = os.getenv("BENCH_PATH") or "/"
function setup(thread) c.setup(thread) end
function init(args) c.init() end
function request() return wrk.format("GET", path) end
function done(summary, latency, requests) c.done(summary, latency, requests) end
