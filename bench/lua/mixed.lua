-- bench scenario "mixed": 90% reads of one article by random id, 10% writes
-- (5% create an article, 5% update one), on either stack.
local c = dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")
function setup(thread) c.setup(thread) end
function init(args) c.init() end
function request()
   local r = math.random()
   if r < 0.90 then return c.get_article() end
   if r < 0.95 then return c.create_article() end
   return c.update_article()
end
function done(summary, latency, requests) c.done(summary, latency, requests) end
