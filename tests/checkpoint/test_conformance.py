"""The checkpointer contract (swiftgraph.checkpoint.base), checked on every saver.

``saver`` (tests/checkpoint/conftest.py) runs each test against memory, SQLite and
PostgreSQL savers, through their sync methods and their async ones.
"""

from __future__ import annotations

import os
import pickle
import random

import pytest

from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite, WriteBatch, new_checkpoint_id


def rec(
    thread_id: str = "t1",
    ns: str = "",
    checkpoint_id: str | None = None,
    *,
    parent_id: str | None = None,
    step: int = 0,
    metadata: dict | None = None,
    data: bytes = b"{}",
    snapshot: bool = False,
    base_id: str | None = None,
) -> CheckpointRecord:
    return CheckpointRecord(
        thread_id=thread_id,
        checkpoint_ns=ns,
        checkpoint_id=checkpoint_id or new_checkpoint_id(),
        parent_id=parent_id,
        step=step,
        created_at="2025-01-02T03:04:05.678901+00:00",
        metadata={"source": "loop", "step": step} if metadata is None else metadata,
        data=data,
        snapshot=snapshot,
        base_id=base_id,
    )


def chain(saver, thread_id: str, n: int, ns: str = "") -> list[CheckpointRecord]:
    """``n`` checkpoints of one thread, each the parent of the next; returned oldest first."""
    out: list[CheckpointRecord] = []
    for i in range(n):
        r = rec(
            thread_id,
            ns,
            parent_id=out[-1].checkpoint_id if out else None,
            step=i - 1,
            data=f"{thread_id}/{ns}/{i}".encode(),
        )
        saver.put(r)
        out.append(r)
    return out


def ids(records) -> list[str]:
    return [r.checkpoint_id for r in records]


# --- put / get -------------------------------------------------------------------------


def test_get_empty(saver):
    assert saver.get("nobody", "") is None
    assert saver.get("nobody", "", new_checkpoint_id()) is None
    assert saver.list("nobody") == []
    assert saver.list(None, None) == []
    assert saver.threads() == []
    assert saver.get_writes("nobody", "", new_checkpoint_id()) == []


def test_put_get_roundtrip_every_field(saver):
    parent = rec(step=-1, snapshot=True)
    child = rec(parent_id=parent.checkpoint_id, step=2**40, metadata={"source": "update"})
    saver.put(parent)
    saver.put(child)
    assert saver.get("t1", "", parent.checkpoint_id) == parent
    got = saver.get("t1", "", child.checkpoint_id)
    assert got == child
    assert type(got.data) is bytes and type(got.snapshot) is bool and type(got.step) is int
    assert saver.get("t1", "", parent.checkpoint_id).snapshot is True


def test_latest_is_largest_id_not_last_put(saver):
    a, b, c = sorted(new_checkpoint_id() for _ in range(3))
    for cid in (b, c, a):
        saver.put(rec(checkpoint_id=cid))
    assert saver.get("t1", "").checkpoint_id == c
    assert saver.get("t1", "", a).checkpoint_id == a


def test_duplicate_id_refused(saver):
    first = rec(data=b"first")
    saver.put(first)
    dup = rec(checkpoint_id=first.checkpoint_id, data=b"second")
    with pytest.raises(ValueError):
        saver.put(dup)
    assert saver.get("t1", "", first.checkpoint_id).data == b"first"
    assert len(saver.list("t1")) == 1
    # the same id in another thread or namespace is another checkpoint
    saver.put(rec("t2", "", first.checkpoint_id))
    saver.put(rec("t1", "sub", first.checkpoint_id))
    assert len(saver.list(None, None)) == 3
    saver.put(rec())  # the saver still works after refusing a row


# --- put_many ---------------------------------------------------------------------------


def test_put_many_stores_checkpoints_and_writes_in_order(saver):
    """What the engine sends at each step: writes against the parent, then the child."""
    parent = rec(step=-1, snapshot=True)
    child = rec(parent_id=parent.checkpoint_id, step=0, data=b"child")
    w = [PendingWrite("~pull, a", "task-a", 0, "x", b"1"), PendingWrite("~pull, a", "task-a", 1, "y", b"2")]
    saver.put_many([parent, WriteBatch("t1", "", parent.checkpoint_id, w), child,
                    WriteBatch("t1", "", child.checkpoint_id, [])])
    assert saver.get("t1", "") == child
    assert saver.get("t1", "", parent.checkpoint_id) == parent
    assert saver.get_writes("t1", "", parent.checkpoint_id) == w
    assert saver.get_writes("t1", "", child.checkpoint_id) == []
    # writes stay idempotent per (task_id, idx) inside a batch too
    again = PendingWrite("~pull, a", "task-a", 0, "x", b"other")
    saver.put_many([WriteBatch("t1", "", parent.checkpoint_id, [again])])
    assert saver.get_writes("t1", "", parent.checkpoint_id) == w
    saver.put_many([])  # nothing to store is fine


def test_put_many_refuses_a_duplicate_id(saver):
    first = rec(data=b"first")
    saver.put(first)
    with pytest.raises(ValueError):
        saver.put_many([rec(checkpoint_id=first.checkpoint_id, data=b"second")])
    assert saver.get("t1", "", first.checkpoint_id).data == b"first"
    saver.put_many([rec()])  # the saver still works after refusing a batch
    assert len(saver.list("t1")) == 2


# --- list ------------------------------------------------------------------------------


def test_list_newest_first_before_limit(saver):
    rows = chain(saver, "t1", 7)
    newest_first = ids(reversed(rows))
    assert ids(saver.list("t1")) == newest_first
    assert ids(saver.list("t1", "")) == newest_first
    assert ids(saver.list("t1", limit=3)) == newest_first[:3]
    assert ids(saver.list("t1", before=rows[4].checkpoint_id)) == newest_first[3:]
    assert ids(saver.list("t1", before=rows[4].checkpoint_id, limit=2)) == newest_first[3:5]
    assert saver.list("t1", before=rows[0].checkpoint_id) == []
    assert saver.list("t1", limit=0) == []
    assert ids(saver.list("t1", limit=100)) == newest_first
    # ``before`` needn't be a stored id: it's compared as a string
    assert ids(saver.list("t1", before=rows[4].checkpoint_id + "~")) == newest_first[2:]
    assert ids(saver.list("t1", before="0")) == []
    assert ids(saver.list("t1", before="g")) == newest_first
    assert saver.list("t1")[0] == rows[-1]


def test_list_all_threads_and_namespaces(saver):
    a = chain(saver, "a", 3)
    b = chain(saver, "b", 3)
    a_sub = chain(saver, "a", 2, ns="child|1")
    everything = sorted(a + b + a_sub, key=lambda r: r.checkpoint_id, reverse=True)
    assert ids(saver.list(None, None)) == ids(everything)
    assert ids(saver.list(None)) == ids(r for r in everything if r.checkpoint_ns == "")
    assert ids(saver.list(None, "child|1")) == ids(reversed(a_sub))
    assert ids(saver.list("a", None)) == ids(r for r in everything if r.thread_id == "a")
    assert ids(saver.list(None, None, limit=4)) == ids(everything[:4])
    cut = everything[3].checkpoint_id
    assert ids(saver.list(None, None, before=cut)) == ids(everything[4:])
    assert ids(saver.list(None, None, before=cut, limit=2)) == ids(everything[4:6])


def test_list_long_history_is_complete_and_ordered(saver):
    """Enough rows for several pages, with equal ids across threads and namespaces."""
    shared = sorted(new_checkpoint_id() for _ in range(70))
    keys = [("x", ""), ("y", ""), ("x", "n")]
    for cid in shared:
        for tid, ns in keys:
            saver.put(rec(tid, ns, cid, data=f"{tid}{ns}{cid}".encode()))
    full = saver.list(None, None)
    assert len(full) == 3 * len(shared)
    assert sorted((r.thread_id, r.checkpoint_ns, r.checkpoint_id) for r in full) == sorted(
        (t, n, c) for c in shared for t, n in keys
    )
    assert ids(full) == sorted(ids(full), reverse=True)
    assert all(r.data == f"{r.thread_id}{r.checkpoint_ns}{r.checkpoint_id}".encode() for r in full)
    assert ids(saver.list("x")) == shared[::-1]
    assert len(saver.list("x", None)) == 140
    assert ids(saver.list("x", limit=50)) == shared[::-1][:50]
    assert len(saver.list(None, None, limit=100)) == 100
    assert ids(saver.list("y", before=shared[60], limit=40)) == shared[:60][::-1][:40]


def test_namespaces_isolated(saver):
    root = chain(saver, "t1", 2, ns="")
    sub = chain(saver, "t1", 3, ns="node:abc")
    assert saver.get("t1", "").checkpoint_id == root[-1].checkpoint_id
    assert saver.get("t1", "node:abc").checkpoint_id == sub[-1].checkpoint_id
    assert saver.get("t1", "", sub[0].checkpoint_id) is None
    assert saver.get("t1", "other") is None
    assert ids(saver.list("t1")) == ids(reversed(root))
    assert ids(saver.list("t1", "node:abc")) == ids(reversed(sub))
    w = [PendingWrite("0", "task", 0, "x", b"root")]
    saver.put_writes("t1", "", root[0].checkpoint_id, w)
    assert saver.get_writes("t1", "node:abc", root[0].checkpoint_id) == []
    assert saver.get_writes("t1", "", root[0].checkpoint_id) == w


# --- pending writes --------------------------------------------------------------------


def test_put_writes_idempotent_first_wins(saver):
    cp = rec()
    saver.put(cp)
    args = ("t1", "", cp.checkpoint_id)
    saver.put_writes(
        *args,
        [
            PendingWrite("~0", "task-a", 0, "x", b"one"),
            PendingWrite("~0", "task-a", 1, "y", b"two"),
        ],
    )
    saver.put_writes(
        *args,
        [
            PendingWrite("~0", "task-a", 0, "x", b"CHANGED"),
            PendingWrite("~0", "task-a", 2, "z", b"three"),
        ],
    )
    saver.put_writes(*args, [])
    got = saver.get_writes(*args)
    assert [(w.idx, w.channel, w.value) for w in got] == [
        (0, "x", b"one"),
        (1, "y", b"two"),
        (2, "z", b"three"),
    ]
    # the same task id against another checkpoint is separate
    other = rec()
    saver.put(other)
    saver.put_writes("t1", "", other.checkpoint_id, [PendingWrite("~0", "task-a", 0, "x", b"else")])
    assert [w.value for w in saver.get_writes("t1", "", other.checkpoint_id)] == [b"else"]
    assert len(saver.get_writes(*args)) == 3


def test_get_writes_sorted_by_path_task_idx(saver):
    cp = rec()
    saver.put(cp)
    # (task_id, idx) identifies a write; a task id belongs to one task path
    writes = [
        PendingWrite(path, f"{t}{n}", idx, f"ch{idx}", f"{path}|{t}{n}|{idx}".encode())
        for n, path in enumerate(["~0", "~1", "~10", "~2", "~0|sub", "Z", "z", "é", "a b"])
        for t in ["t-b", "t-a"]
        for idx in [0, 1, 2, 10]
    ]
    shuffled = writes[:]
    random.Random(7).shuffle(shuffled)
    for i in range(0, len(shuffled), 7):  # several batches, out of order
        saver.put_writes("t1", "", cp.checkpoint_id, shuffled[i : i + 7])
    got = saver.get_writes("t1", "", cp.checkpoint_id)
    assert [(w.task_path, w.task_id, w.idx) for w in got] == sorted(
        (w.task_path, w.task_id, w.idx) for w in writes
    )
    assert got == sorted(writes)
    assert all(w.value == f"{w.task_path}|{w.task_id}|{w.idx}".encode() for w in got)
    assert all(type(w.value) is bytes and type(w.idx) is int for w in got)


def test_writes_without_a_stored_checkpoint(saver):
    """Writes are keyed by id; the saver doesn't require the checkpoint row to exist."""
    cid = new_checkpoint_id()
    saver.put_writes("t1", "", cid, [PendingWrite("~0", "t", 0, "x", b"v")])
    assert [w.value for w in saver.get_writes("t1", "", cid)] == [b"v"]


# --- delete / threads ------------------------------------------------------------------


def test_delete_thread_every_namespace(saver):
    keep = chain(saver, "keep", 2)
    gone = chain(saver, "gone", 2) + chain(saver, "gone", 2, ns="sub")
    for r in keep + gone:
        saver.put_writes(
            r.thread_id,
            r.checkpoint_ns,
            r.checkpoint_id,
            [PendingWrite("~0", "t", 0, "x", r.checkpoint_id.encode())],
        )
    assert saver.threads() == ["gone", "keep"]
    saver.delete_thread("gone")
    assert saver.threads() == ["keep"]
    assert saver.get("gone", "") is None and saver.get("gone", "sub") is None
    assert saver.list("gone", None) == []
    assert all(saver.get_writes("gone", r.checkpoint_ns, r.checkpoint_id) == [] for r in gone)
    assert ids(saver.list("keep")) == ids(reversed(keep))
    assert all(len(saver.get_writes("keep", "", r.checkpoint_id)) == 1 for r in keep)
    saver.delete_thread("gone")  # deleting again, or an unknown thread, is fine
    saver.delete_thread("never-existed")
    # a deleted thread can start over, including with the same ids
    saver.put(gone[0])
    assert saver.get("gone", "") == gone[0]


def test_threads_sorted_unique(saver):
    for tid in ["b", "a", "c", "a", "é", "Z", "thread with spaces"]:
        saver.put(rec(tid))
    saver.put(rec("only-in-sub", "sub"))
    assert saver.threads() == sorted({"b", "a", "c", "é", "Z", "thread with spaces", "only-in-sub"})


# --- payloads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00", b"\x00\x00\xff\x00", bytes(range(256)), b"\\x00\\\\", "é\u2028".encode()],
    ids=["empty", "nul", "nul-ff", "all-bytes", "backslashes", "utf8"],
)
def test_bytes_roundtrip_exact(saver, payload):
    cp = rec(data=payload)
    saver.put(cp)
    assert saver.get("t1", "").data == payload
    assert saver.list("t1")[0].data == payload
    saver.put_writes("t1", "", cp.checkpoint_id, [PendingWrite("~0", "t", 0, "x", payload)])
    (w,) = saver.get_writes("t1", "", cp.checkpoint_id)
    assert w.value == payload and type(w.value) is bytes


def test_large_blobs(saver):
    big = os.urandom(3 * 1024 * 1024) + b"\x00" * 1024
    cp = rec(data=big, snapshot=True)
    saver.put(cp)
    assert saver.get("t1", "", cp.checkpoint_id).data == big
    writes = [PendingWrite("~0", "t", i, "x", big[i::7]) for i in range(3)]
    saver.put_writes("t1", "", cp.checkpoint_id, writes)
    assert [w.value for w in saver.get_writes("t1", "", cp.checkpoint_id)] == [
        w.value for w in writes
    ]


def test_metadata_roundtrip(saver):
    meta = {
        "source": "loop",
        "step": 3,
        "writes": {"node": {"messages": ["hi", {"role": "user", "content": "é\x00\u2028😀"}]}},
        "parents": {},
        "z_first_key_order": [1, 2.5, -0.0, 10**30, True, False, None],
        "a_later": "",
        "__sg__": "tuple",  # looks like a serializer tag: returned as plain data
    }
    saver.put(rec(metadata=meta))
    got = saver.get("t1", "").metadata
    assert got == meta
    assert list(got) == list(meta)  # key order kept
    assert saver.list("t1")[0].metadata == meta
    saver.put(rec("t2", metadata={}))
    assert saver.get("t2", "").metadata == {}


def test_parent_and_step_edge_values(saver):
    for step in (-1, 0, 2**53):
        r = rec(f"s{step}", step=step, parent_id=None if step else "not-a-stored-id")
        saver.put(r)
        assert saver.get(r.thread_id, "") == r


def test_tampered_pickle_payload_is_returned_as_bytes(saver, tmp_path):
    """A row written behind the saver's back holds a pickle that would run code if
    unpickled. The saver returns its bytes untouched; refusing them is the engine's job."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Evil(), protocol=pickle.HIGHEST_PROTOCOL)
    cp = rec("victim", data=payload, metadata={"source": "loop", "step": 1})
    saver.raw_put(cp)
    got = saver.get("victim", "")
    assert got is not None and got.data == payload and type(got.data) is bytes
    assert saver.list("victim")[0].data == payload
    saver.put_writes("victim", "", cp.checkpoint_id, [PendingWrite("~0", "t", 0, "x", payload)])
    assert saver.get_writes("victim", "", cp.checkpoint_id)[0].value == payload
    assert not marker.exists()


def test_list_reflects_state_after_changes(saver):
    a = chain(saver, "t1", 2)
    assert ids(saver.list("t1")) == ids(reversed(a))
    more = rec(step=5)
    saver.put(more)
    assert saver.list("t1")[0] == more
    assert saver.get("t1", "") == more


# --- get_chain: the records a checkpoint is rebuilt from ---------------------------------


def test_base_id_roundtrips(saver):
    snap = rec(snapshot=True, step=-1)
    mid = rec(parent_id=snap.checkpoint_id, step=0)
    top = rec(parent_id=mid.checkpoint_id, step=1, base_id=snap.checkpoint_id)
    saver.put_many([snap, mid, top])
    assert saver.get("t1", "", top.checkpoint_id) == top
    assert saver.get("t1", "", mid.checkpoint_id).base_id is None
    assert [r.base_id for r in saver.list("t1")] == [snap.checkpoint_id, None, None]
    assert saver.list("t1") == [top, mid, snap]


def test_get_chain_follows_parents_to_the_first_snapshot(saver):
    old = rec(snapshot=True, step=-1)
    snap = rec(parent_id=old.checkpoint_id, snapshot=True, step=0)
    records = [old, snap]
    for i in range(5):
        records.append(rec(parent_id=records[-1].checkpoint_id, step=i + 1, data=b"%d" % i))
    for r in records:
        saver.put(r)
    want = list(reversed(records[1:]))  # newest first, down to (and with) the nearest snapshot
    assert saver.get_chain("t1", "") == want  # latest
    assert saver.get_chain("t1", "", records[-1].checkpoint_id) == want
    assert saver.get_chain("t1", "", records[3].checkpoint_id) == [records[3], records[2], snap]
    assert saver.get_chain("t1", "", snap.checkpoint_id) == [snap]
    assert saver.get_chain("t1", "", old.checkpoint_id) == [old]


def test_get_chain_follows_base_id_over_parent_id(saver):
    """A delta covering several steps names the checkpoint it applies to in base_id:
    the chain skips the checkpoints in between."""
    snap = rec(snapshot=True, step=-1)
    d1 = rec(parent_id=snap.checkpoint_id, step=0)
    d2 = rec(parent_id=d1.checkpoint_id, step=1, base_id=snap.checkpoint_id)
    d3 = rec(parent_id=d2.checkpoint_id, step=2)
    d4 = rec(parent_id=d3.checkpoint_id, step=3, base_id=snap.checkpoint_id)
    d5 = rec(parent_id=d4.checkpoint_id, step=4)
    saver.put_many([snap, d1, d2, d3, d4, d5])
    assert ids(saver.get_chain("t1", "")) == ids([d5, d4, snap])
    assert saver.get_chain("t1", "", d3.checkpoint_id) == [d3, d2, snap]
    assert saver.get_chain("t1", "", d2.checkpoint_id) == [d2, snap]


def test_get_chain_edges(saver):
    assert saver.get_chain("nobody", "") == []
    assert saver.get_chain("nobody", "", new_checkpoint_id()) == []
    # no snapshot at all: down to the first checkpoint
    first = rec(step=-1)
    second = rec(parent_id=first.checkpoint_id, step=0)
    saver.put_many([first, second])
    assert saver.get_chain("t1", "") == [second, first]
    # a missing record ends the chain (the engine reports the gap)
    orphan = rec(parent_id=new_checkpoint_id(), step=5)
    saver.put(orphan)
    assert saver.get_chain("t1", "", orphan.checkpoint_id) == [orphan]
    # threads and namespaces are separate, even with the same ids
    other = rec("t2", parent_id=first.checkpoint_id, step=1)
    saver.put(other)
    assert saver.get_chain("t2", "") == [other]
    sub = rec("t1", "child", checkpoint_id=first.checkpoint_id, snapshot=True)
    saver.put(sub)
    assert saver.get_chain("t1", "child", first.checkpoint_id) == [sub]
    assert saver.get_chain("t1", "", first.checkpoint_id) == [first]


def test_get_chain_default_matches(saver):
    """BaseCheckpointSaver's default (one get per record) agrees with the saver's own."""
    from swiftgraph.checkpoint.base import BaseCheckpointSaver

    snap = rec(snapshot=True, step=-1)
    d1 = rec(parent_id=snap.checkpoint_id, step=0)
    d2 = rec(parent_id=d1.checkpoint_id, step=1, base_id=snap.checkpoint_id)
    d3 = rec(parent_id=d2.checkpoint_id, step=2)
    saver.put_many([snap, d1, d2, d3])
    impl = saver.impl
    if saver.use_async and saver.name.startswith("postgres-async"):
        return  # its sync methods can't be called on its own loop; covered by the rest
    for cid in (None, d3.checkpoint_id, d1.checkpoint_id, snap.checkpoint_id):
        own = saver.get_chain("t1", "", cid)
        default = (
            BaseCheckpointSaver.get_chain(impl, "t1", "", cid)
            if not saver.name.startswith("postgres-async")
            else own
        )
        assert default == own
