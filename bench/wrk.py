"""Runs wrk (Debian's `wrk` package) and reads its report. POST bodies come from a Lua script that
cycles through a list of cases: written into the script (`post_script`, a few bodies) or read at
start from a file of one JSON body a line (`write_bodies` + `FILE_SCRIPT`, tens of thousands of
distinct cases: a script with that many string constants would hit LuaJIT's limits)."""

import json
import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "wrk is needed: apt-get install wrk (Debian/Ubuntu), then run `make bench` again"

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors plus non-2xx answers: must be 0 for the figures to count


def available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(report: str) -> WrkResult:
    """Reads `wrk --latency` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", report)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    p50 = re.search(r"^\s+50%\s+(\S+)", report, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", report, re.M)
    if not (total and rps and p50 and p99):
        raise ValueError(f"unreadable wrk report:\n{report}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", report))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2) + total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def post_script(path: str, bodies: list[Any], headers: dict[str, str] | None = None) -> str:
    """Lua for wrk: each request POSTs the next body of the list (per wrk thread)."""
    lua_bodies = ",\n".join(_lua_string(json.dumps(b)) for b in bodies)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    lua_headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in all_headers.items())
    return f"""
local bodies = {{
{lua_bodies}
}}
local headers = {{ {lua_headers} }}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", {_lua_string(path)}, headers, bodies[i])
end
"""


# Reads the bodies from the file named by the first script argument (`wrk ... -- FILE OFFSET`) and
# starts after OFFSET of them, so a second run continues the cycle where the first stopped. The
# request goes to the URL's path (query included).
FILE_SCRIPT = """
local bodies = {}
local headers = { ["Content-Type"] = "application/json" }
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  if #bodies == 0 then error("no bodies in " .. args[1]) end
  i = (tonumber(args[2]) or 0) % #bodies
end
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[i])
end
"""


def write_bodies(path: Path, bodies: list[Any]) -> Path:
    """One compact JSON body a line (JSON text never holds a raw newline), for FILE_SCRIPT."""
    path.write_text("".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies))
    return path


def _lua_string(text: str) -> str:
    # Lua long brackets take the text verbatim; pick a level the text does not contain.
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def run(
    url: str,
    *,
    connections: int,
    seconds: float,
    script: str | None = None,
    args: tuple[str, ...] = (),
    timeout_s: int = 10,
) -> WrkResult:
    """One wrk run (one thread); `args` go to the script's `init` (after `--`)."""
    duration = max(1, math.ceil(seconds))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s", "--latency"]
    with tempfile.TemporaryDirectory() as tmp:
        if script is not None:
            lua = Path(tmp) / "body.lua"
            lua.write_text(script)
            command += ["-s", str(lua)]
        command.append(url)
        if args:
            command += ["--", *args]
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 120)
    return parse(done.stdout)


def run_bodies(
    url: str, bodies_file: Path, *, connections: int, seconds: float, offset: int = 0, timeout_s: int = 10
) -> WrkResult:
    """POSTs the bodies of `bodies_file` (see `write_bodies`) in turn, starting after `offset` of them."""
    return run(
        url,
        connections=connections,
        seconds=seconds,
        script=FILE_SCRIPT,
        args=(str(bodies_file), str(offset)),
        timeout_s=timeout_s,
    )
