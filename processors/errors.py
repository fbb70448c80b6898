"""What a processor handler raises; the shared retry policy reads ``retriable``.

MessageError (service_runtime)
 └── RecordsUnavailable   retriable: the records system did not answer

Anything else a handler raises is not retriable: the message is dead-lettered.
"""

from service_runtime.errors import MessageError


class RecordsUnavailable(MessageError):
    retriable = True
