"""Turns the handles of `qiaomen bench-data` (JSON) into a Lua module for bench/wrk.lua."""
import datetime
import json
import sys

h = json.load(open(sys.argv[1]))
now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).replace(
    hour=0, minute=0, second=0, microsecond=0)
year_from = (now - datetime.timedelta(days=365)).isoformat().replace("+", "%2B")
year_to = now.isoformat().replace("+", "%2B")


def lua_list(items):
    return "{" + ",".join(items) + "}"


print("return {")
print(f'  street = "{h["street_id"]}",')
print(f'  street_admin = "{h["street_admin_token"]}",')
print(f'  year_from = "{year_from}", year_to = "{year_to}",')
print("  residents = " + lua_list(f'"{t}"' for t in h["resident_tokens"]) + ",")
print("  workers = " + lua_list(f'"{t}"' for t in h["worker_tokens"]) + ",")
print("  tickets = " + lua_list(f'"{t}"' for t in h["ticket_ids"]) + ",")
print("  points = " + lua_list("{%f,%f}" % (p[0], p[1]) for p in h["points"]) + ",")
print("}")
