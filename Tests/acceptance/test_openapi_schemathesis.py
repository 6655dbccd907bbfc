"""Schemathesis against a live `bank serve --store memory:`, driven by its Python API: every operation of
`/openapi.json` gets generated requests (the document's own examples, then positive and negative data),
then stateful sequences follow the document's `links`. No response may be a 5xx, and every response
must conform to the document: a documented status code and content type, and a body that matches the
schema documented for it.

Bounded to finish in well under three minutes on two cores: SCHEMATHESIS_EXAMPLES cases per operation
(default 50), SCHEMATHESIS_SCENARIOS stateful scenarios (default 30) of at most SCHEMATHESIS_STEPS steps
(default 6). SCHEMATHESIS_SEED replays a run (the seed in use is printed). The number of test cases run
is printed and written to .build/schemathesis-cases.txt.

(schemathesis' own pytest integration, `schemathesis.pytest.from_fixture`, fails on the pytest 9.2 of
this environment, so each operation's Hypothesis test is built here from `APIOperation.as_strategy`.)"""
import os
import random
import sys
import time

import httpx2 as httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ROOT, http_server

EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "50"))
STATEFUL_SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", "30"))
STATEFUL_STEPS = int(os.environ.get("SCHEMATHESIS_STEPS", "6"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED") or random.randrange(2**32))
CASES_FILE = ROOT / ".build" / "schemathesis-cases.txt"

# Exactly these checks, on every response: no 5xx; the status code, the content type and the body are
# the ones the document declares for the operation.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

SETTINGS = dict(deadline=None, database=None, derandomize=False, print_blob=False,
                suppress_health_check=list(HealthCheck))


def describe(error: BaseException) -> str:
    """A failure's report: schemathesis writes its own (every failed check, the response, a curl line)
    as the message of its FailureGroup; Hypothesis groups distinct failures of one test."""
    if isinstance(error, FailureGroup) and error.message:
        return error.message
    if isinstance(error, BaseExceptionGroup):
        return "\n".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


class Run:
    def __init__(self):
        self.cases = {"examples": 0, "positive": 0, "negative": 0, "stateful": 0}
        self.failures = []

    def count(self, phase, case=None):
        if phase == "fuzzing":
            mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
            phase = "negative" if mode == GenerationMode.NEGATIVE else "positive"
        self.cases[phase] += 1

    @property
    def total(self):
        return sum(self.cases.values())

    def hypothesis_test(self, strategy, phase, max_examples):
        @hypothesis.seed(SEED)
        @settings(max_examples=max_examples, phases=[Phase.explicit, Phase.generate], **SETTINGS)
        @given(case=strategy)
        def test(case):
            self.count(phase, case)
            case.call_and_validate(checks=CHECKS, timeout=30)

        return test

    def attempt(self, label, test, retries=0):
        try:
            test()
        except FlakyStrategyDefinition:
            # Hypothesis replayed a scenario whose data depended on the server's state; that says
            # nothing about the server. Run the phase again (a real failure then shows as one).
            if retries < 2:
                print(f"  {label}: Hypothesis found its own data generation flaky; running it again", file=sys.stderr)
                return self.attempt(label, test, retries + 1)
            self.failures.append(f"{label}\nFlakyStrategyDefinition three times in a row")
        except Unsatisfiable:
            print(f"  {label}: no case could be generated", file=sys.stderr)
        except (Exception, BaseExceptionGroup) as error:  # failed checks (a FailureGroup), a transport error, a crash
            self.failures.append(f"{label}\n{describe(error)}")


def load_schema(base):
    response = httpx.get(base + "/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    document = response.json()
    assert str(document.get("openapi", "")).startswith("3.1"), document.get("openapi")
    # An event stream never ends while its aggregate exists (a request to it would hang until the
    # client's timeout, and the stateful phase infers links to it): test_subscriptions.py covers it.
    streams = [path for path in document["paths"] if path.endswith("/events/stream")]
    assert streams, "the document lists the event streams"
    for path in streams:
        del document["paths"][path]
    schema = schemathesis.openapi.from_dict(document)
    schema.location = base + "/openapi.json"
    # The document's own `servers` may name another port; the requests go to this server.
    schema.config.update(base_url=base)
    return schema


def test_every_operation_conforms_to_the_document(bank_binary, capfd):
    run = Run()
    started = time.monotonic()
    with http_server(bank_binary, store="memory:") as base:
        schema = load_schema(base)
        operations = []
        for result in schema.get_all_operations():
            try:
                operation = result.ok()
            except Exception as error:
                run.failures.append(f"an operation schemathesis cannot read\n{describe(error)}")
                continue
            operations.append(operation)
        print(f"\nschemathesis {schemathesis.__version__}, seed {SEED}, {len(operations)} operations, "
              f"{schema.statistic.transitions.total} links", file=sys.stderr)
        assert operations, "the document lists no operation"

        for operation in operations:
            try:
                examples = operation.get_strategies_from_examples()
            except Exception as error:
                run.failures.append(f"{operation.label}: its examples cannot be read\n{describe(error)}")
                examples = []
            for index, strategy in enumerate(examples):
                run.attempt(f"{operation.label} (example {index + 1})", run.hypothesis_test(strategy, "examples", 1))
            # Positive and negative data together, as schemathesis' `--mode all` does: an operation whose
            # only parameters are in the path can have no negative case that still makes a request.
            strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                                 operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
            run.attempt(operation.label, run.hypothesis_test(strategy, "fuzzing", EXAMPLES_PER_OPERATION))

        if schema.statistic.transitions.total:
            machine = schema.as_state_machine()

            class CountedMachine(machine):
                def validate_response(self, response, case, additional_checks=None, **kwargs):
                    run.count("stateful")
                    case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

            # No shrinking: a scenario depends on the server's state (ids it returned), so a replay
            # diverges (Hypothesis' FlakyStrategyDefinition) and would hide the first failure.
            run.attempt("stateful (links)", lambda: CountedMachine.run(settings=settings(
                max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS,
                phases=[Phase.explicit, Phase.generate], **SETTINGS)))
        else:
            print("  the document declares no links: no stateful phase", file=sys.stderr)

        # Whatever it was sent, the server is still serving.
        assert httpx.get(base + "/health", timeout=30).status_code == 200

    elapsed = time.monotonic() - started
    CASES_FILE.parent.mkdir(parents=True, exist_ok=True)
    CASES_FILE.write_text(f"{run.total}\n")
    with capfd.disabled():  # shown even when the test passes
        print(f"\nschemathesis ran {run.total} test cases ({', '.join(f'{k} {v}' for k, v in run.cases.items())}) "
              f"in {elapsed:.0f} s (seed {SEED}); written to {CASES_FILE}")
    assert run.total > 0
    if run.failures:
        pytest.fail(f"{len(run.failures)} operations failed (seed {SEED}):\n\n" + "\n\n".join(run.failures), pytrace=False)
