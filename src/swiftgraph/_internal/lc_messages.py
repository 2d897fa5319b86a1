"""The LangChain side of ``stream_mode="messages"``: a callback handler that turns a
chat model's tokens into ``(chunk, metadata)`` pairs, the callback manager a node's
config carries, and the ``var_child_runnable_config`` view that lets a model called
without a config find them (as LangGraph sets that context variable per node).

A leaf: imported only by :mod:`.messages`, for a run streaming ``"messages"`` with
``langchain_core`` installed. The engine never imports it otherwise.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any
from uuid import UUID

from langchain_core.callbacks import (
    AsyncCallbackManager,
    BaseCallbackHandler,
    BaseCallbackManager,
    CallbackManager,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult
from langchain_core.runnables.config import var_child_runnable_config

from .context import CURRENT_TASK

try:  # makes BaseChatModel.invoke stream, so its tokens reach the handler (as LangGraph)
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain_core
    _StreamingCallbackHandler = object  # type: ignore[assignment,misc]

TAG_NOSTREAM = "nostream"

__all__ = ["StreamMessagesHandler", "callback_manager", "install_config_view", "reset_config_view"]


class StreamMessagesHandler(BaseCallbackHandler, _StreamingCallbackHandler):  # type: ignore[misc]
    """Streams the tokens of the chat models a run's nodes call (one per run: it knows
    the run's namespace; the ids seen are shared with the whole stream)."""

    run_inline = True
    """Called on the thread that fires the event (in order), never in an executor."""

    def __init__(self, stream: Any, ns: tuple[str, ...]) -> None:
        self.stream = stream
        self.ns = ns
        self.metadata: dict[UUID, dict[str, Any]] = {}

    def tap_output_aiter(self, run_id: UUID, output: Any) -> Any:
        return output

    def tap_output_iter(self, run_id: UUID, output: Any) -> Any:
        return output

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if metadata and (not tags or TAG_NOSTREAM not in tags):
            user_tags = [t for t in tags if not t.startswith("seq:step")] if tags else None
            if user_tags:
                metadata["tags"] = user_tags
            self.metadata[run_id] = metadata

    def on_llm_new_token(
        self,
        token: Any,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not isinstance(chunk, ChatGenerationChunk):
            return
        meta = self.metadata.get(run_id)
        if meta:
            self.stream.emit(self.ns, chunk.message, meta)

    def on_llm_end(
        self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        meta = self.metadata.pop(run_id, None)
        if meta and response.generations and response.generations[0]:
            gen = response.generations[0][0]
            if isinstance(gen, ChatGeneration):
                self.stream.emit(self.ns, gen.message, meta, True)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        self.metadata.pop(run_id, None)


def callback_manager(handler: StreamMessagesHandler, task: Any, config: dict[str, Any]) -> BaseCallbackManager:
    """The callback manager in a node's config: the run's handler (plus the caller's
    own callbacks), the config's tags, and the metadata LangGraph gives a node's
    callbacks (its config metadata plus ``ls_integration``)."""
    from .taskinfo import task_metadata

    run = task.run
    cls = CallbackManager if run.sync else AsyncCallbackManager
    handlers: list[Any] = []
    user = run.config.get("callbacks")
    if isinstance(user, BaseCallbackManager):
        handlers.extend(user.inheritable_handlers)
    elif user:
        handlers.extend(user)
    handlers.append(handler)
    metadata = task_metadata(task, True)
    tags = list(config.get("tags") or ())
    return cls(
        handlers=handlers,
        inheritable_handlers=list(handlers),
        tags=tags,
        inheritable_tags=list(tags),
        metadata=metadata,
        inheritable_metadata=dict(metadata),
    )


class _TaskConfigView(dict):  # type: ignore[type-arg]
    """The value of ``var_child_runnable_config`` during a messages run: reads as the
    config of the node running in the current context (what LangGraph sets that
    variable to around each node), so a model called without a config still gets
    the node's callbacks. Outside a node it reads as what was there before."""

    __slots__ = ("outer",)

    def __init__(self, outer: Any) -> None:
        super().__init__()
        self.outer = outer

    def _current(self) -> dict[str, Any]:
        task = CURRENT_TASK.get()
        if task is None or task.run is None:
            return self.outer or {}
        from .taskinfo import task_config

        return task_config(task)

    def items(self) -> Any:  # type: ignore[override]
        return self._current().items()

    def keys(self) -> Any:  # type: ignore[override]
        return self._current().keys()

    def values(self) -> Any:  # type: ignore[override]
        return self._current().values()

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        return self._current().get(key, default)

    def copy(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self._current())

    def __getitem__(self, key: Any) -> Any:
        return self._current()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._current()

    def __iter__(self) -> Any:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __bool__(self) -> bool:
        return bool(self._current())

    def __repr__(self) -> str:
        return f"_TaskConfigView({self._current()!r})"


def install_config_view() -> Token[Any]:
    """Set ``var_child_runnable_config`` to the node-config view in this context (the
    run's driver task copies it, and every node's context inherits it)."""
    return var_child_runnable_config.set(_TaskConfigView(var_child_runnable_config.get()))  # type: ignore[arg-type]


def reset_config_view(token: Token[Any]) -> None:
    var_child_runnable_config.reset(token)
