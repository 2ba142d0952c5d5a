"""Account slots against a real Redis server."""

import threading
import time

from utils.accounts.slots import AccountSlots, holder_id
from utils.names import leases_key, waiting_key

LEASE_S = 60


def test_slots_up_to_the_limit_then_waiters_in_order(redis_db):
    slots = AccountSlots(redis_db)
    granted = [slots.acquire("acct", f"h{i}", 3, LEASE_S) for i in range(5)]
    assert [g.granted for g in granted] == [True, True, True, False, False]
    assert sorted(redis_db.smembers(waiting_key("acct"))) == ["h3", "h4"]
    assert slots.in_use("acct") == 3

    # releasing hands the slot straight to the oldest waiter
    assert slots.release("acct", "h1", 3, LEASE_S) == ["h3"]
    assert slots.in_use("acct") == 3
    # ... whose resent task finds it already held, without taking another
    assert slots.acquire("acct", "h3", 3, LEASE_S).granted
    assert slots.in_use("acct") == 3
    # a newcomer queues behind the one still waiting
    assert not slots.acquire("acct", "h5", 3, LEASE_S).granted
    assert sorted(redis_db.smembers(waiting_key("acct"))) == ["h4", "h5"]


def test_a_waiter_is_queued_once_however_often_it_asks(redis_db):
    slots = AccountSlots(redis_db)
    slots.acquire("acct", "a", 1, LEASE_S)
    for _ in range(3):
        assert not slots.acquire("acct", "b", 1, LEASE_S).granted
    assert sorted(redis_db.smembers(waiting_key("acct"))) == ["b"]


def test_a_crashed_holders_slot_frees_itself_when_its_lease_runs_out(redis_db):
    slots = AccountSlots(redis_db)
    assert slots.acquire("acct", "crashed", 1, 0.2).granted
    assert not slots.acquire("acct", "waiter", 1, LEASE_S).granted
    time.sleep(0.3)
    # the next caller finds the lease expired: the slot goes to the one already waiting
    late = slots.acquire("acct", "late", 1, LEASE_S)
    assert not late.granted and late.dispatch == ["waiter"]
    assert redis_db.zrange(leases_key("acct"), 0, -1) == ["waiter"]


def test_accounts_are_limited_separately(redis_db):
    slots = AccountSlots(redis_db)
    assert slots.acquire("a", "x", 1, LEASE_S).granted
    assert slots.acquire("b", "x", 1, LEASE_S).granted


def test_racing_holders_never_exceed_the_limit_and_every_waiter_runs_once(redis_db):
    """Holders as the workers use them: a waiter handed a slot is re-run, as its task is resent."""
    slots = AccountSlots(redis_db)
    peak, current, ran = [0], [0], []
    lock = threading.Lock()
    threads: list[threading.Thread] = []

    def spawn(holder: str) -> None:
        thread = threading.Thread(target=run, args=(holder,))
        with lock:
            threads.append(thread)
        thread.start()

    def run(holder: str) -> None:
        acquired = slots.acquire("acct", holder, 4, LEASE_S)
        for handed in acquired.dispatch:
            spawn(handed)
        if not acquired.granted:
            return
        with lock:
            current[0] += 1
            peak[0] = max(peak[0], current[0])
            ran.append(holder)
        time.sleep(0.01)
        with lock:
            current[0] -= 1
        for handed in slots.release("acct", holder, 4, LEASE_S):
            spawn(handed)

    for i in range(40):
        spawn(holder_id("job", i))
    deadline = time.monotonic() + 30
    while any(t.is_alive() for t in list(threads)) or len(ran) < 40:
        assert time.monotonic() < deadline, f"only {len(ran)} of 40 ran: a waiter was lost"
        time.sleep(0.01)
    assert peak[0] == 4
    assert sorted(ran) == sorted(holder_id("job", i) for i in range(40))
    assert slots.in_use("acct") == 0 and redis_db.scard(waiting_key("acct")) == 0


def test_a_handoff_whose_task_never_starts_is_given_back_once_after_the_grace(redis_db):
    slots = AccountSlots(redis_db)
    assert slots.acquire("acct", "holder", 1, LEASE_S).granted
    assert not slots.acquire("acct", "lost", 1, LEASE_S).granted
    assert not slots.acquire("acct", "started", 1, LEASE_S).granted
    # "lost" is handed the slot; its releaser dies before re-sending its task
    assert slots.release("acct", "holder", 1, LEASE_S) == ["lost"]
    assert slots.stranded("acct", grace_s=60) == []  # too soon to tell
    time.sleep(0.05)
    assert slots.stranded("acct", grace_s=0.01) == ["lost"]
    assert slots.stranded("acct", grace_s=0.01) == []  # once: it is being sent again

    # a handed task that does start is not stranded
    assert slots.acquire("acct", "lost", 1, LEASE_S).granted  # the re-sent task, at last
    assert slots.release("acct", "lost", 1, LEASE_S) == ["started"]
    assert slots.acquire("acct", "started", 1, LEASE_S).granted
    time.sleep(0.05)
    assert slots.stranded("acct", grace_s=0.01) == []


def test_a_handed_holder_that_gives_its_slot_back_unused_is_not_stranded(redis_db):
    slots = AccountSlots(redis_db)
    assert slots.acquire("acct", "holder", 1, LEASE_S).granted
    for waiter in ("unneeded", "next"):
        assert not slots.acquire("acct", waiter, 1, LEASE_S).granted
    assert slots.release("acct", "holder", 1, LEASE_S) == ["unneeded"]
    assert slots.release("acct", "unneeded", 1, LEASE_S) == ["next"]  # passed straight on
    time.sleep(0.05)
    assert slots.stranded("acct", grace_s=0.01) == ["next"]  # "unneeded" is not listed


def test_the_line_takes_turns_between_users_then_between_a_users_jobs(redis_db):
    """Alice queued a big job and then a small one; Bob queued a small one last. Freed slots go
    to Alice, Bob, Alice's other job, Bob... not to Alice's backlog first."""
    slots = AccountSlots(redis_db)
    assert slots.acquire("acct", "holder:0", 1, LEASE_S, "carol").granted
    for i in range(6):
        assert not slots.acquire("acct", f"big:{i}", 1, LEASE_S, "alice").granted
    for i in range(2):
        assert not slots.acquire("acct", f"small:{i}", 1, LEASE_S, "alice").granted
    for i in range(2):
        assert not slots.acquire("acct", f"bob:{i}", 1, LEASE_S, "bob").granted

    order, holder = [], "holder:0"
    for _ in range(10):
        (holder,) = slots.release("acct", holder, 1, LEASE_S)
        order.append(holder)
    assert order == [
        "big:0",
        "bob:0",
        "small:0",
        "bob:1",
        "big:1",
        "small:1",
        "big:2",
        "big:3",
        "big:4",
        "big:5",
    ]
    assert slots.waiting("acct") == ["big:5"]  # handed, its task not yet started
