"""A worker forked while another thread loads the English word list can still use it (gunicorn forks workers)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from helpdesk.search import spelling


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # Python 3.12+ warns of fork with threads
def test_a_child_forked_while_the_word_list_loads_can_take_the_lock() -> None:
    spelling._english_words.cache_clear()
    loading = threading.Thread(target=spelling.english_words)
    with spelling._ENGLISH_LOCK:  # held for certain at the fork, as the warm-up thread holds it while loading
        loading.start()
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:  # the child: exit 0 only if the lock can be taken
            os._exit(0 if spelling._ENGLISH_LOCK.acquire(timeout=5) else 1)
    loading.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert spelling.english_words()  # and the parent's own lock still works
