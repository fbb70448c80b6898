"""What the shared runtime raises, and whether trying again can help.

ServiceRuntimeError
 ├── MessageError        a handler could not handle one message; ``retriable`` says whether
 │                       the retry policy tries again (services subclass it) or dead-letters
 ├── OutputFailed        Kafka refused an output: not the message's fault, never dead-lettered
 ├── TopicsNotCreated    the broker refused to create a topic
 ├── TopicMissing        a topic a reader follows does not exist (run `curex up`)
 └── TokenError          a bearer token is missing, malformed, expired or not ours (401)
      └── NotAUser       a valid token that does not describe a user of this platform
"""

from typing import ClassVar


class ServiceRuntimeError(Exception):
    pass


class MessageError(ServiceRuntimeError):
    retriable: ClassVar[bool] = False


class OutputFailed(ServiceRuntimeError):
    """An output could not be handed to Kafka: not the message's fault."""


class TopicsNotCreated(ServiceRuntimeError):
    pass


class TopicMissing(ServiceRuntimeError, LookupError):
    pass


class TokenError(ServiceRuntimeError):
    """The bearer token is missing, malformed, expired, or not ours."""


class NotAUser(TokenError):
    """The token is valid but does not describe a user of this platform."""
