"""swiftgraph-only checks of ``stream_mode="messages"``: what it costs runs that don't
use it (nothing: its modules aren't even imported), and how it behaves without
``langchain_core`` (simulated in a subprocess that blocks the import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
MODULES = ("swiftgraph._internal.messages", "swiftgraph._internal.lc_messages")


def run_py(code: str, block_langchain: bool = False) -> dict:
    prelude = ""
    if block_langchain:
        prelude = textwrap.dedent(
            """
            import sys
            class _Block:
                def find_spec(self, name, path=None, target=None):
                    if name == "langchain_core" or name.startswith("langchain_core."):
                        raise ImportError(f"blocked: {name}")
                    return None
            sys.meta_path.insert(0, _Block())
            """
        )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


GRAPH = """
import asyncio, json, operator, sys
from dataclasses import dataclass
from typing import Annotated, Optional, TypedDict
from swiftgraph.graph import StateGraph, START, add_messages

@dataclass
class Msg:                     # a message without LangChain: type, content, id
    type: str
    content: str
    id: Optional[str] = None

class S(TypedDict):
    messages: Annotated[list, operator.add]

def a(state, config):
    return {"messages": [Msg("ai", "one", "m-1"), Msg("ai", "no id"),
                         {"role": "assistant", "content": "a dict"}]}

def b(state):
    return {"messages": [Msg("ai", "one again", "m-1"), Msg("ai", "two", "m-2")]}

g = StateGraph(S)
g.add_node("a", a)
g.add_node("b", b)
g.add_edge(START, "a")
g.add_edge("a", "b")
graph = g.compile()
INPUT = {"messages": [Msg("human", "hi", "h-1")]}
"""


def test_runs_without_messages_never_import_the_handler():
    got = run_py(GRAPH + f"MODULES = {MODULES!r}\n" + """
graph.invoke(INPUT)
asyncio.run(graph.ainvoke(INPUT))
list(graph.stream(INPUT, stream_mode=["updates", "values", "custom", "debug", "tasks"]))
before = {m: m in sys.modules for m in MODULES}
list(graph.stream(INPUT, stream_mode="messages"))
after = {m: m in sys.modules for m in MODULES}
print(json.dumps({"before": before, "after": after}))
""")
    assert not any(got["before"].values()), got
    assert got["after"]["swiftgraph._internal.messages"], got


def test_without_langchain_core_node_messages_stream():
    got = run_py(GRAPH + """
assert "langchain_core" not in sys.modules
from swiftgraph._internal import messages
assert not messages.HAS_LANGCHAIN
chunks = list(graph.stream(INPUT, stream_mode="messages"))
mixed = list(graph.stream(INPUT, stream_mode=["messages", "updates"]))
seen_config = {}
def probe(state, config):
    seen_config.update(config)
    return {}
g2 = StateGraph(S); g2.add_node("p", probe); g2.add_edge(START, "p")
list(g2.compile().stream(INPUT, stream_mode="messages"))
print(json.dumps({
    "chunks": [[m.content, bool(m.id), md["langgraph_node"]] for m, md in chunks],
    "modes": [mode for mode, _ in mixed],
    "lc_loaded": "swiftgraph._internal.lc_messages" in sys.modules,
    "callbacks": "callbacks" in seen_config,
    "meta_keys": sorted(chunks[0][1]),
}))
""", block_langchain=True)
    # a's new messages (the one without an id gets one; dicts aren't messages), then
    # b's new one: "one again" reuses m-1, already streamed
    assert got["chunks"] == [["one", True, "a"], ["no id", True, "a"], ["two", True, "b"]]
    assert got["modes"] == ["messages", "messages", "updates", "messages", "updates"]
    assert not got["lc_loaded"] and not got["callbacks"]
    assert got["meta_keys"] == ["langgraph_checkpoint_ns", "langgraph_node", "langgraph_path",
                                "langgraph_step", "langgraph_triggers"]


def test_without_langchain_core_the_core_imports():
    got = run_py("""
import json, sys
import swiftgraph, swiftgraph.graph, swiftgraph.func, swiftgraph.types, swiftgraph.config
from swiftgraph.graph import add_messages
merged = add_messages([{"id": "1", "content": "a"}], [{"id": "1", "content": "b"}, {"content": "c"}])
print(json.dumps({"lc": "langchain_core" in sys.modules, "merged": [m["content"] for m in merged]}))
""", block_langchain=True)
    assert got == {"lc": False, "merged": ["b", "c"]}
