"""The chart's Argo CD health check, run on a real Lua 5.1 as Argo CD runs it.

Argo CD (gopher-lua, Lua 5.1) gives a health script the live object as the global `obj`, decoded from
JSON (objects and arrays as tables, arrays 1-based, null as nil), opens only the base, table and package
libraries (and a reduced os) for scripts from argocd-cm, and reads the table the script returns: an
unknown `status` becomes Unknown. `health` does the same with lupa's Lua 5.1, with string, math, io,
debug, coroutine and os removed, so a script that needs them fails here as it would there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lupa import lua51

SCRIPT = Path(__file__).resolve().parents[2] / "helm" / "kafka-connect-operator" / "files" / "argocd-health.lua"

# What Argo CD accepts from a health script (gitops-engine's HealthStatusCode).
STATUSES = frozenset({"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"})
INVALID_STATUS = "Lua returned an invalid health status"  # Argo CD's message for any other status

# Argo CD opens no other library for a script from argocd-cm; string methods go with the string library.
_SANDBOX = """
getmetatable("").__index = nil
string, math, io, debug, coroutine, os, python = nil, nil, nil, nil, nil, nil, nil
for _, name in ipairs({"string", "math", "io", "debug", "coroutine", "os", "python"}) do
  package.loaded[name] = nil
end
"""


def health(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(status, message) that Argo CD shows for `obj`, a KafkaConnect or Connector as the apiserver has it."""
    return run(SCRIPT.read_text(), obj)


def run(script: str, obj: Mapping[str, Any]) -> tuple[str, str]:
    """Runs a health script on `obj`; a Lua error (Argo CD: a health error) raises lupa's LuaError."""
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    lua.execute(_SANDBOX)
    plain = json.loads(json.dumps(obj))  # only JSON's types, as Argo CD decodes the object
    lua.globals()["obj"] = _to_lua(lua, plain)
    returned = lua.execute(script)
    if lua51.lua_type(returned) != "table":
        raise TypeError(f"expect table output from Lua script, not {lua51.lua_type(returned) or type(returned)}")
    status, message = returned["status"], returned["message"]
    if status not in STATUSES:
        return "Unknown", INVALID_STATUS
    return str(status), "" if message is None else str(message)


def _to_lua(lua: Any, value: Any) -> Any:
    if isinstance(value, dict):
        table = lua.table()
        for key, item in value.items():
            table[key] = _to_lua(lua, item)  # None: the key stays absent (nil), as Argo CD's null
        return table
    if isinstance(value, list):
        array = lua.table()
        for index, item in enumerate(value, start=1):
            array[index] = _to_lua(lua, item)
        return array
    return value  # str, int, float, bool, None
