"""State schemas (TypedDict, dataclass, pydantic) and input/output schemas."""

import operator
from dataclasses import dataclass, field
from typing import Annotated, Optional, TypedDict

import pytest
from pydantic import BaseModel

from conftest import ALL_METHODS, ENGINES, build_error, check, divergence


class TD(TypedDict):
    n: int
    tags: Annotated[list, operator.add]
    name: str


@dataclass
class DC:
    n: int
    tags: Annotated[list, operator.add] = field(default_factory=list)
    name: str = "anon"


class PM(BaseModel):
    n: int
    tags: Annotated[list[str], operator.add] = []
    name: str = "anon"


SCHEMAS = {"typeddict": TD, "dataclass": DC, "pydantic": PM}


def graph_for(schema, record=None):
    def build(E):
        def a(state):
            if record is not None:
                record.append(type(state).__name__)
            n = state["n"] if isinstance(state, dict) else state.n
            return {"n": n + 1, "tags": ["a"]}

        def b(state):
            name = state.get("name") if isinstance(state, dict) else state.name
            return {"tags": [f"b:{name}"]}

        g = E.StateGraph(schema)
        g.add_node("a", a)
        g.add_node("b", b)
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        return g.compile()

    return build


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_schema_kinds_dict_input(kind, method):
    mode = {"stream_mode": ["values", "updates"]} if "stream" in method else {}
    lg = check(graph_for(SCHEMAS[kind]), {"n": 1}, method, **mode)
    assert lg.ok


@pytest.mark.parametrize("kind", ["dataclass", "pydantic"])
def test_schema_instance_input(kind):
    lg = check(graph_for(SCHEMAS[kind]), SCHEMAS[kind](n=5), "invoke")
    assert lg.value["n"] == 6 and lg.value["tags"] == ["a", "b:anon"]


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_node_receives_schema_type(kind):
    seen = []
    check(graph_for(SCHEMAS[kind], seen), {"n": 1}, "invoke")
    assert len(seen) == 2 and seen[0] == seen[1]


@pytest.mark.parametrize("bad", [{"n": "not-int"}, {"name": "no n"}])
def test_pydantic_validation_error(bad):
    lg = check(graph_for(PM), bad, "invoke")
    assert lg.error[0] == "ValidationError"


def test_dataclass_missing_field_error():
    lg = check(graph_for(DC), {"name": "no n"}, "invoke")
    assert lg.error[0] == "TypeError"


class Opt(BaseModel):
    n: int = 0
    maybe: Optional[str] = None


def test_pydantic_defaults_and_none():
    def build(E):
        g = E.StateGraph(Opt)
        g.add_node("a", lambda s: {"maybe": None if s.maybe else "set"})
        g.add_edge(E.START, "a")
        return g.compile()

    check(build, {}, "invoke")
    check(build, {"maybe": "x"}, "stream", stream_mode=["values", "updates"])


class In(TypedDict):
    question: str


class Out(TypedDict):
    answer: str


class Overall(TypedDict):
    question: str
    answer: str
    scratch: str


def io_graph(E):
    g = E.StateGraph(Overall, input_schema=In, output_schema=Out)
    g.add_node("think", lambda s: {"scratch": s["question"] + "!"})
    g.add_node("answer", lambda s: {"answer": s["scratch"] + "?"})
    g.add_edge(E.START, "think")
    g.add_edge("think", "answer")
    return g.compile()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_input_output_schema(method):
    mode = {"stream_mode": ["values", "updates"]} if "stream" in method else {}
    lg = check(io_graph, {"question": "hi", "answer": "ignored", "junk": 1}, method, **mode)
    if method == "invoke":
        assert lg.value == {"answer": "hi!?"}


def test_output_schema_only():
    def build(E):
        g = E.StateGraph(Overall, output_schema=Out)
        g.add_node("answer", lambda s: {"answer": s["question"].upper(), "scratch": "x"})
        g.add_edge(E.START, "answer")
        return g.compile()

    lg = check(build, {"question": "q", "scratch": "s"}, "invoke")
    assert lg.value == {"answer": "Q"}


class NodeIn(TypedDict):
    question: str


def test_node_with_own_input_schema():
    def build(E):
        seen = []

        def think(state: NodeIn):
            seen.append(sorted(state))
            return {"scratch": f"{len(seen)}:{sorted(state)}"}

        g = E.StateGraph(Overall)
        g.add_node("think", think)
        g.add_edge(E.START, "think")
        return g.compile()

    lg = check(build, {"question": "q", "answer": "a"}, "invoke")
    assert lg.value["scratch"] == "1:['question']"


def test_node_writes_key_outside_output_but_in_state():
    def build(E):
        g = E.StateGraph(Overall, input_schema=In, output_schema=Out)
        g.add_node("w", lambda s: {"scratch": "s", "answer": s.get("scratch", "none")})
        g.add_edge(E.START, "w")
        return g.compile()

    lg = check(build, {"question": "q"}, "invoke")
    assert lg.value == {"answer": "none"}


def test_pydantic_node_update_with_model_instance():
    def build(E):
        g = E.StateGraph(PM)
        g.add_node("a", lambda s: PM(n=s.n * 10, name="model"))
        g.add_edge(E.START, "a")
        return g.compile()

    check(build, {"n": 2}, "invoke")
    check(build, {"n": 2}, "stream", stream_mode="updates")


@pytest.mark.parametrize("kind", ["typeddict", "dataclass", "pydantic"])
def test_schema_naming_what_typing_cant_find_is_refused(kind):
    """A schema whose annotation names something typing can't resolve (here a reducer
    local to a function) is refused when the graph is built, as a ``NameError`` on
    both engines, instead of running with that key as "last value wins"."""

    def build(E):
        local_add = operator.add  # noqa: F841 (named by the annotation; typing can't see it)
        if kind == "typeddict":

            class S(TypedDict):
                log: "Annotated[list, local_add]"  # noqa: F821

        elif kind == "dataclass":

            @dataclass
            class S:
                log: "Annotated[list, local_add]" = field(default_factory=list)  # noqa: F821

        else:

            class S(BaseModel):
                log: "Annotated[list, local_add]" = []  # noqa: F821

        g = E.StateGraph(S)
        g.add_node("a", lambda s: {"log": [1]})
        g.add_edge(E.START, "a")
        return g.compile()

    for E in ENGINES:
        assert isinstance(build_error(E, build), NameError), E.label


@divergence
def test_unresolved_schema_error_names_the_schema_and_keys():
    class S(TypedDict):
        log: "Annotated[list, nowhere_add]"  # noqa: F821
        n: int

    from swiftgraph.errors import GraphDefinitionError, UnresolvedSchemaError
    from swiftgraph.graph import StateGraph

    with pytest.raises(UnresolvedSchemaError) as info:
        StateGraph(S)
    assert isinstance(info.value, NameError) and isinstance(info.value, GraphDefinitionError)
    assert "nowhere_add" in str(info.value) and "['log']" in str(info.value)
