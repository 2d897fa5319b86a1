"""``add_messages``: the reducer for chat histories, without a LangChain dependency.

Messages are merged by ``id``: a message whose id is already in the list replaces
it, others are appended; a ``RemoveMessage`` deletes the message with its id.
Messages without an id get one (``str(uuid4())``), as in LangGraph. Objects (LangChain messages) and dicts are both accepted; if
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


REMOVE_ALL_MESSAGES = "__remove_all__"


def _coerce(messages: Any) -> list[Any]:
    if not isinstance(messages, list):
        messages = [messages]
    try:
        from langchain_core.messages import (  # optional
            BaseMessage,
            BaseMessageChunk,
            convert_to_messages,
            message_chunk_to_message,
        )
    except ImportError:
        return list(messages)
    # as LangGraph: plain messages pass as they are; others (tuples, strings, dicts,
    # chunks) become messages, a streamed chunk the message it adds up to
    if all(issubclass(t, BaseMessage) and not issubclass(t, BaseMessageChunk) for t in set(map(type, messages))):
        return list(messages)
    return [message_chunk_to_message(m) for m in convert_to_messages(messages)]


def _is_remove(msg: Any) -> bool:
    """A ``RemoveMessage`` (LangChain's, or anything of type ``"remove"``)."""
    kind = msg.get("type") if isinstance(msg, dict) else getattr(msg, "type", None)
    return kind == "remove"


def add_messages(left: Any, right: Any) -> list[Any]:
    """Merge two lists of messages, updating existing messages by id; a
    ``RemoveMessage(id=...)`` deletes one, ``RemoveMessage(id=REMOVE_ALL_MESSAGES)``
    all those before it."""
    import uuid

    left, right = _coerce(left), _coerce(right)
    for msg in left:
        if _get_id(msg) is None:
            _set_id(msg, str(uuid.uuid4()))
    remove_all = None
    for i, msg in enumerate(right):
        if _get_id(msg) is None:
            _set_id(msg, str(uuid.uuid4()))
        if _get_id(msg) == REMOVE_ALL_MESSAGES and _is_remove(msg):
            remove_all = i
    if remove_all is not None:
        return right[remove_all + 1:]
    index = {_get_id(m): i for i, m in enumerate(left)}
    merged = list(left)
    removed: set[Any] = set()
    for msg in right:
        mid = _get_id(msg)
        at = index.get(mid)
        if at is not None:
            if _is_remove(msg):
                removed.add(mid)
            else:
                removed.discard(mid)
                merged[at] = msg
        else:
            if _is_remove(msg):
                raise ValueError(f"Attempting to delete a message with an ID that doesn't exist ('{mid}')")
            index[mid] = len(merged)
            merged.append(msg)
    if removed:
        merged = [m for m in merged if _get_id(m) not in removed]
    return merged


class MessagesState(TypedDict):
    messages: Annotated[list, add_messages]
