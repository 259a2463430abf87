-- bench/bare_app.py's routes: BARE_PATH (default /articles/) followed by a random id, or /hello as it is.
local path = os.getenv("BARE_PATH") or "/articles/"
local articles = tonumber(os.getenv("BENCH_ARTICLES") or "100000")
request = function()
   if path == "/hello" then return wrk.format("GET", path) end
   return wrk.format("GET", path .. math.random(1, articles))
end
