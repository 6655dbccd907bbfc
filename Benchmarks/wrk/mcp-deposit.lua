-- MCP over HTTP: tools/call account_deposit on the session $SESSION, spread over the accounts in $IDS.
local ids = {}
for id in string.gmatch(os.getenv("IDS"), "[^,]+") do ids[#ids + 1] = id end
local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["Mcp-Session-Id"] = os.getenv("SESSION"),
    ["MCP-Protocol-Version"] = "2025-11-25",
}
local n = 0

request = function()
    n = n + 1
    local body = '{"jsonrpc":"2.0","id":' .. n .. ',"method":"tools/call","params":{"name":"account_deposit",'
        .. '"arguments":{"id":"' .. ids[(n % #ids) + 1] .. '","amount":1}}}'
    return wrk.format("POST", "/mcp", headers, body)
end
