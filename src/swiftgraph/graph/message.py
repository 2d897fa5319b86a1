"""``add_messages``: the reducer for chat histories, without a LangChain dependency.

Messages are merged by ``id``: a message whose id is already in the list replaces
it, others are appended. Messages without an id get one (``str(uuid4())``), as in
LangGraph. Objects (LangChain messages) and dicts are both accepted; if
``langchain_core`` is installed, LangGraph's own coercion of tuples/strings into
message objects is used, otherwise values are kept as given.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict


def _get_id(msg: Any) -> Any:
    return msg.get("id") if isinstance(msg, dict) else getattr(msg, "id", None)


def _set_id(msg: Any, value: str) -> None:
    if isinstance(msg, dict):
        msg["id"] = value
    else:
        try:
            msg.id = value
        except Exception:
            pass


def _coerce(messages: Any) -> list[Any]:
    if not isinstance(messages, list):
        messages = [messages]
    try:
        from langchain_core.messages import convert_to_messages  # optional
    except ImportError:
        return list(messages)
    return list(convert_to_messages(messages))


def add_messages(left: Any, right: Any) -> list[Any]:
    """Merge two lists of messages, updating existing messages by id."""
    import uuid

    left, right = _coerce(left), _coerce(right)
    for msg in left + right:
        if _get_id(msg) is None:
            _set_id(msg, str(uuid.uuid4()))
    index = {_get_id(m): i for i, m in enumerate(left)}
    merged = list(left)
    for msg in right:
        i = index.get(_get_id(msg))
        if i is not None:
            merged[i] = msg
        else:
            index[_get_id(msg)] = len(merged)
            merged.append(msg)
    return merged


class MessagesState(TypedDict):
    messages: Annotated[list, add_messages]
