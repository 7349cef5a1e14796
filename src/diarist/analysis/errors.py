"""Errors of the analysis domain, each with a stable code. (`openai.ProviderError` is not one:
it is the provider client's exception, retried by the job and never shown as a problem.)"""

from __future__ import annotations

from diarist.errors import NotFound, Unprocessable


class SuggestionNotFound(NotFound):
    code = "suggestion_not_found"
    title = "No such suggestion"


class TopicNotFound(NotFound):
    code = "topic_not_found"
    title = "Topic not found"


class InvalidTopic(Unprocessable):
    code = "invalid_topic"
    title = "Invalid topic"
