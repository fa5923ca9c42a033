"""Item 3: os.fork() while credchain logs into Python's logging.

    python log_fork.py ROUNDS CHILD_TIMEOUT_S [LEVEL [THREADS]]

The binding's log route is installed at LEVEL (a logging level, default
DEBUG=10; 5 is the library's TRACE) with credchain.set_log_level, which
installs the ctypes log callback that forwards into the ``credchain``
logger (a handler formats the records and writes them to /dev/null with
os.write, taking its lock as every handler does). THREADS background
threads (default 3) call invalidate()/get_credentials() so that records
flow from the caller
threads and from the library's runtime thread, while the main thread
os.fork()s ROUNDS times; each child calls get_credentials() and
os._exit()s (0 on success). A child alive after CHILD_TIMEOUT_S is killed
and counted as hung. A parent deadlock shows as this script never printing
its summary (the test's wall-clock bound kills it).
"""

import json
import logging
import os
import signal
import sys
import threading
import time

import credchain

rounds = int(sys.argv[1])
child_timeout = float(sys.argv[2])
level = int(sys.argv[3]) if len(sys.argv) > 3 else logging.DEBUG
nthreads = int(sys.argv[4]) if len(sys.argv) > 4 else 3


class CountingHandler(logging.Handler):
    """Formats each record and writes it to /dev/null with os.write (which releases the GIL), counting.

    Not a StreamHandler: a buffered file's internal lock, held by a thread
    that is writing at the moment of fork(), would stay held in the child and
    hang it inside Python, which is not the library's doing.
    """

    def __init__(self) -> None:
        super().__init__(level)
        self.fd = os.open(os.devnull, os.O_WRONLY)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        os.write(self.fd, (self.format(record) + "\n").encode())
        self.count += 1


logger = logging.getLogger("credchain")
handler = CountingHandler()
handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(levelname)s %(message)s"))
logger.addHandler(handler)
logger.setLevel(level)
credchain.set_log_level(level)

stop = threading.Event()
errors = []


def worker(n: int) -> None:
    while not stop.is_set():
        try:
            credchain.invalidate()
            credchain.get_credentials()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))


def main() -> int:
    credchain.get_credentials()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(nthreads)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    ok = failed = hung = 0
    for _ in range(rounds):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                credchain.get_credentials()
                code = 0
            finally:
                os._exit(code)
        deadline = time.monotonic() + child_timeout
        while True:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                    ok += 1
                else:
                    failed += 1
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                hung += 1
                break
            time.sleep(0.005)
        if hung >= 3:
            break
    stop.set()
    for t in threads:
        t.join(10)
    records = handler.count
    print(json.dumps({"rounds": rounds, "succeeded": ok, "failed": failed, "hung": hung, "log_records": records,
                      "thread_errors": errors[:3]}))
    return 0 if ok == rounds and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
