"""The bench's reference: the same account tools served by Python FastMCP (in-memory dict, no
event store). Run: fastmcp_bank.py stdio | fastmcp_bank.py http PORT"""
import sys
import uuid

from fastmcp import FastMCP

mcp = FastMCP("bank-fastmcp")
accounts: dict[str, dict] = {}


@mcp.tool
def account_open(owner: str) -> dict:
    """Opens an account for an owner."""
    account_id = str(uuid.uuid4())
    accounts[account_id] = {"owner": owner, "balance": 0, "version": 1}
    return {"id": account_id, "version": 1}


@mcp.tool
def account_deposit(id: str, amount: int) -> dict:
    """Pays money in; the amount is a positive number of cents."""
    account = accounts[id]
    account["balance"] += amount
    account["version"] += 1
    return {"id": id, "version": account["version"]}


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        mcp.run(transport="stdio", show_banner=False)
    else:
        mcp.run(transport="http", host="127.0.0.1", port=int(sys.argv[2]), show_banner=False, log_level="warning",
                json_response=True)
