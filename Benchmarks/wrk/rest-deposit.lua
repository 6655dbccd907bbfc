-- REST: POST /accounts/{id}/commands/deposit, spread over the accounts in $IDS (comma-separated).
local ids = {}
for id in string.gmatch(os.getenv("IDS"), "[^,]+") do ids[#ids + 1] = id end
local headers = { ["Content-Type"] = "application/json" }
local n = 0

request = function()
    n = n + 1
    return wrk.format("POST", "/accounts/" .. ids[(n % #ids) + 1] .. "/commands/deposit", headers, '{"amount":1}')
end
