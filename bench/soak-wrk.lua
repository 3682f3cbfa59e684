-- bench/soak.ts's mixed traffic: two GETs, then one 4 KiB POST, over and over on each connection.
local n = 0
local body = string.rep("x", 4096)
local post_headers = { ["Content-Type"] = "application/octet-stream" }
request = function()
  n = n + 1
  if n % 3 == 0 then
    return wrk.format("POST", "/soak/upload", post_headers, body)
  end
  return wrk.format("GET", "/soak/get?n=" .. n)
end
