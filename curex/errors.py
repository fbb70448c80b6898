"""Why a command of the ``curex`` CLI (other than ``bench``, see ``curex.bench.errors``)
could not finish.

CurexError
 ├── ApiError        the Applications Server refused a request or answered oddly
 └── WaitTimedOut    a transfer did not reach the awaited state before the deadline
"""


class CurexError(Exception):
    pass


class ApiError(CurexError):
    pass


class WaitTimedOut(CurexError, TimeoutError):
    pass
