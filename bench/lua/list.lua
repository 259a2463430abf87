-- bench scenario "list" (see common.lua); both stacks unless the API says otherwise.
local c = dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")
function setup(thread) c.setup(thread) end
function init(args) c.init() end
function request() return c.list_page() end
function done(summary, latency, requests) c.done(summary, latency, requests) end
