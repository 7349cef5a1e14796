"""Property tests of the parsers (hypothesis). Each run draws the same examples (derandomize),
so `make test` is repeatable; `@example`s pin the inputs that once failed."""

from hypothesis import HealthCheck, settings

# The tests that go through the API share the client of one test across its examples.
PROPERTIES = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
