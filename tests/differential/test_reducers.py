"""Reducers, Overwrite, concurrent-write errors, invalid node return values."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest

from conftest import ALL_METHODS, check


def merge_dicts(left: dict, right: dict) -> dict:
    return {**left, **right}


def keep_max(left: int, right: int) -> int:
    return max(left, right)


class S(TypedDict):
    log: Annotated[list, operator.add]
    total: Annotated[int, operator.add]
    meta: Annotated[dict, merge_dicts]
    best: Annotated[int, keep_max]
    plain: str


def parallel(E, *updates, then=None):
    """Run one node per update dict in the first superstep (n0, n1, ...)."""
    g = E.StateGraph(S)
    for i, upd in enumerate(updates):
        g.add_node(f"n{i}", (lambda u: lambda s: u(E) if callable(u) else u)(upd))
        g.add_edge(E.START, f"n{i}")
    if then is not None:
        g.add_node("then", then)
        g.add_edge([f"n{i}" for i in range(len(updates))], "then")
    return g.compile()


INIT = {"log": ["in"], "total": 1, "meta": {"k": 0}, "best": 3, "plain": "p"}


@pytest.mark.parametrize("method", ALL_METHODS)
def test_builtin_and_custom_reducers(method):
    def build(E):
        return parallel(
            E,
            {"log": ["a"], "total": 10, "meta": {"a": 1}, "best": 1},
            {"log": ["b"], "total": 100, "meta": {"k": 9}, "best": 7},
            then=lambda s: {"log": [f"total={s['total']}"]},
        )

    lg = check(build, INIT, method)
    if method == "invoke":
        assert lg.value == {"log": ["in", "a", "b", "total=111"], "total": 111,
                            "meta": {"k": 9, "a": 1}, "best": 7, "plain": "p"}


def test_reducer_applied_to_input():
    lg = check(lambda E: parallel(E, {"log": ["a"]}), INIT, "invoke")
    assert lg.value["log"] == ["in", "a"]


def test_missing_reducer_keys_start_empty():
    # reducer channels start from the annotated type's default: list() / int() / dict()
    lg = check(lambda E: parallel(E, {"log": ["a"], "total": 2}), {"plain": "x"}, "invoke")
    assert lg.value == {"log": ["a"], "total": 2, "plain": "x", "best": 0, "meta": {}}


def test_overwrite_replaces_reduced_value():
    lg = check(lambda E: parallel(E, lambda E: {"log": E.Overwrite(["o"])}), INIT, "invoke")
    assert lg.value["log"] == ["o"]


def test_overwrite_wins_over_sibling_append():
    def build(E):
        return parallel(E, {"log": ["b0"]}, lambda E: {"log": E.Overwrite(["o"])},
                        {"log": ["b2"]})

    lg = check(build, INIT, "invoke")
    assert lg.value["log"] == ["o"]


def test_two_overwrites_in_one_step_error():
    def build(E):
        return parallel(E, lambda E: {"log": E.Overwrite(["1"])},
                        lambda E: {"log": E.Overwrite(["2"])})

    lg = check(build, INIT, "invoke")
    assert lg.error[0] == "InvalidUpdateError"


@pytest.mark.parametrize("method", ALL_METHODS)
def test_two_tasks_write_plain_key(method):
    lg = check(lambda E: parallel(E, {"plain": "1"}, {"plain": "2"}), INIT, method)
    assert lg.error[0] == "InvalidUpdateError"
    assert "At key 'plain'" in lg.error[1]


def test_same_value_written_twice_still_errors():
    lg = check(lambda E: parallel(E, {"plain": "same"}, {"plain": "same"}), INIT, "invoke")
    assert lg.error[0] == "InvalidUpdateError"


def test_sequential_writes_to_plain_key_last_wins():
    def build(E):
        g = E.StateGraph(S)
        g.add_sequence([("a", lambda s: {"plain": "A"}), ("b", lambda s: {"plain": "B"})])
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, INIT, "invoke")
    assert lg.value["plain"] == "B"


def test_unknown_keys_dropped_from_update_and_input():
    lg = check(lambda E: parallel(E, {"nope": 1, "plain": "k"}), {**INIT, "extra": 5}, "invoke")
    assert "nope" not in lg.value and "extra" not in lg.value


@pytest.mark.parametrize("ret", ["a string", ["x"], 42, ("t",)])
@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream"])
def test_node_returning_non_dict(ret, method):
    lg = check(lambda E: parallel(E, lambda E: ret), INIT, method)
    assert lg.error[0] == "InvalidUpdateError"
    assert lg.error[3]  # "During task with name 'n0' ..." note


def test_node_returning_none_is_noop():
    lg = check(lambda E: parallel(E, lambda E: None), INIT, "invoke")
    assert lg.value == INIT
    check(lambda E: parallel(E, lambda E: None), INIT, "stream", stream_mode="updates")


def test_node_returning_empty_dict():
    check(lambda E: parallel(E, {}), INIT, "stream", stream_mode=["updates", "values"])


def test_non_dict_input_error():
    lg = check(lambda E: parallel(E, {"plain": "x"}), "not a dict", "invoke")
    assert lg.error[0] == "InvalidUpdateError"


def bad_reducer(left: list, right: list) -> list:
    raise RuntimeError(f"cannot merge {right!r}")


class B(TypedDict):
    v: Annotated[list, bad_reducer]


def test_reducer_exception_propagates():
    def build(E):
        g = E.StateGraph(B)
        g.add_node("a", lambda s: {"v": [1]})
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, {}, "invoke")
    assert lg.error[0] == "RuntimeError"


def test_reducer_write_order_across_steps():
    def build(E):
        g = E.StateGraph(S)
        g.add_node("a", lambda s: {"log": ["a"]})
        g.add_node("b", lambda s: {"log": ["b"]})
        g.add_node("c", lambda s: {"log": ["c"]})
        g.add_edge(E.START, "c")
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        return g.compile()

    lg = check(build, {"log": []}, "invoke")
    assert lg.value["log"] == ["a", "c", "b"]
