"""``stream_mode="messages"``: the messages nodes return, and the tokens of the chat
models they call, as ``(message, metadata)`` pairs (LangGraph's
``StreamMessagesHandler``).

Only a run that streams ``"messages"`` imports this module; the loop reaches it
through ``Run.messages`` (a :class:`RunMessages` per run, set only for such runs).
It has no dependency of its own: with ``langchain_core`` installed, a message is a
``BaseMessage`` and chat models called inside nodes stream their tokens through the
callback handler in :mod:`.lc_messages` (which the nodes' config carries, as in
LangGraph); without it there are no LangChain models to stream tokens from, and a
message is any object with ``type``, ``content`` and ``id`` attributes (dicts are
not messages, as in LangGraph).

As LangGraph: a message a node returns (alone, in a list, in a state key's value or
list, in a ``Command.update``) is streamed when the node finishes, once per id (ids
already seen, in the node's input or earlier in the stream, are skipped; a message
without an id gets ``str(uuid4())``); tokens are streamed as they come, and the
model's final message only if no token of it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

try:  # optional: LangChain's message class and the token-streaming handler
    from langchain_core.messages import BaseMessage as _BaseMessage
except ImportError:  # pragma: no cover - exercised in a subprocess test
    _BaseMessage = None  # type: ignore[assignment,misc]

HAS_LANGCHAIN = _BaseMessage is not None

Sink = Callable[[tuple[str, ...], str, Any], None]

__all__ = ["HAS_LANGCHAIN", "MessagesStream", "RunMessages", "is_message"]


def is_message(value: Any) -> bool:
    """A chat message: a ``BaseMessage`` (duck-typed without ``langchain_core``)."""
    if _BaseMessage is not None:
        return isinstance(value, _BaseMessage)
    return (
        not isinstance(value, (dict, str, type))
        and isinstance(getattr(value, "type", None), str)
        and hasattr(value, "content")
        and hasattr(value, "id")
    )


def _state_values(obj: Any) -> Sequence[Any]:
    """The top-level values of a state (dict, pydantic model or dataclass)."""
    if isinstance(obj, dict):
        return list(obj.values())
    fields_of = getattr(type(obj), "model_fields", None)
    if isinstance(fields_of, dict) and hasattr(obj, "model_dump"):
        return [getattr(obj, k) for k in fields_of]
    if is_dataclass(obj) and not isinstance(obj, type):
        return [getattr(obj, f.name) for f in fields(obj)]
    return ()


class MessagesStream:
    """What one streamed run shares with its subgraphs: the sink and the ids seen."""

    __slots__ = ("seen", "sink")

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.seen: set[Any] = set()

    def emit(self, ns: tuple[str, ...], message: Any, metadata: dict[str, Any], dedupe: bool = False) -> None:
        if dedupe and message.id in self.seen:
            return
        if message.id is None:
            import uuid

            message.id = str(uuid.uuid4())
        self.seen.add(message.id)
        self.sink(ns, "messages", (message, metadata))


class RunMessages:
    """The messages stream as one run (the root graph or a subgraph) sees it."""

    __slots__ = ("handler", "ns", "stream")

    def __init__(self, stream: MessagesStream, ns: tuple[str, ...]) -> None:
        self.stream = stream
        self.ns = ns
        # the LangChain callback handler for this run's nodes (tokens), if available
        self.handler: Any = None
        if HAS_LANGCHAIN:
            from .lc_messages import StreamMessagesHandler

            self.handler = StreamMessagesHandler(stream, ns)

    def child(self, ns: tuple[str, ...]) -> RunMessages:
        """The same stream for a subgraph run (``subgraphs=True``)."""
        return RunMessages(self.stream, ns)

    # --- node outputs (LangGraph's on_chain_start / on_chain_end) ---------------------

    def node_start(self, task: Any) -> None:
        """Messages in a node's input are not new: they are not streamed again."""
        if task.node.call_args:
            return  # a Functional API call: its input is (args, kwargs), not a state
        seen = self.stream.seen
        for value in _state_values(task.input):
            if is_message(value):
                if value.id is not None:
                    seen.add(value.id)
            elif isinstance(value, Sequence) and not isinstance(value, str):
                for item in value:
                    if is_message(item) and item.id is not None:
                        seen.add(item.id)

    def node_end(self, task: Any, result: Any) -> None:
        """Stream the new messages a node returned, with its metadata."""
        from .taskinfo import task_metadata
        from .types import Command

        meta = task_metadata(task, HAS_LANGCHAIN)
        if isinstance(result, Command):
            self._find(meta, result.update)
        elif isinstance(result, Sequence) and not isinstance(result, str) and any(
            isinstance(v, Command) for v in result
        ):
            for value in result:
                self._find(meta, value.update if isinstance(value, Command) else value)
        else:
            self._find(meta, result)

    def _find(self, meta: dict[str, Any], response: Any) -> None:
        """A returned message or list of them, else those in the update's values."""
        if is_message(response) or _is_list(response):
            found: Iterable[Any] = _messages_in(response)
        else:
            found = (m for value in _state_values(response) for m in _messages_in(value))
        emit, ns = self.stream.emit, self.ns
        for message in found:
            emit(ns, message, meta, True)

    # --- the config a node gets -------------------------------------------------------

    def callbacks(self, task: Any, config: dict[str, Any]) -> Any:
        """The ``callbacks`` of a node's config: LangChain models called with it (or,
        on Python 3.11+, inside the node without a config) stream their tokens."""
        if self.handler is None:
            return config.get("callbacks")
        from .lc_messages import callback_manager

        return callback_manager(self.handler, task, config)



def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _messages_in(value: Any) -> Iterator[Any]:
    """``value`` if it is a message, or the messages in it if it is a list of values."""
    if is_message(value):
        yield value
    elif _is_list(value):
        yield from (item for item in value if is_message(item))
