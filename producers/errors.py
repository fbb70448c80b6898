"""Why the Applications Server refuses a request; mapped to HTTP answers only at the edge
(``producers.api.problems``).

ApplicationsServerError
 ├── AccessDenied               403
 │    ├── NotAParty             the caller has nothing to do with the transfer
 │    ├── WrongRole             a party, but this action is never theirs
 │    └── WrongCurrentPassword  a password change with the wrong current password
 ├── ActionNotAllowedNow        409: theirs to take, but not from the current state
 ├── ReviewDecided              409: the review has a verdict already
 ├── TransferNotFound           404
 ├── RateLimited                429: too many creates or emergencies; Retry-After says when
 ├── BadRequest                 422: a body that parses but cannot be acted on
 │    ├── PasswordRejected      Keycloak's password policy refused the new password
 │    └── IdempotencyKeyReused  the key was first sent with another request
 └── LedgerError                reading a Blockchain API
      ├── LedgerUnavailable     503: the API or Keycloak can't be reached (retriable)
      └── LedgerRecordMissing   404: the organisation's ledger has no such transfer
"""

from typing import ClassVar

from schemas import Action, TransferState


class ApplicationsServerError(Exception):
    pass


class AccessDenied(ApplicationsServerError):
    pass


class NotAParty(AccessDenied):
    pass


class WrongRole(AccessDenied):
    pass


class WrongCurrentPassword(AccessDenied):
    pass


class ActionNotAllowedNow(ApplicationsServerError):
    def __init__(self, action: Action, current_state: TransferState) -> None:
        super().__init__(f"{action.value} is not allowed while the transfer is {current_state}")
        self.current_state = current_state


class ReviewDecided(ApplicationsServerError):
    pass


class TransferNotFound(ApplicationsServerError):
    pass


class RateLimited(ApplicationsServerError):
    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BadRequest(ApplicationsServerError):
    pass


class PasswordRejected(BadRequest):
    pass


class LedgerError(ApplicationsServerError):
    retriable: ClassVar[bool] = False


class LedgerUnavailable(LedgerError):
    retriable = True


class LedgerRecordMissing(LedgerError):
    pass


class IdempotencyKeyReused(BadRequest):
    pass
