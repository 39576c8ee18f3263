"""The case as a pure domain aggregate: state, transitions, deadlines, effects (issue #14).

- ``state.py``: what a case knows, carried across continue-as-new;
- ``transitions.py``: the one status × event → status table, with its policy sections;
- ``deadlines.py``: the one list of clocks derived from the state;
- ``aggregate.py``: ``CaseAggregate``, messages in, effects out;
- ``effects.py`` / ``asks.py``: what the workflow runs for it, as plain data;
- ``messages.py``: the inputs and results of its updates and queries;
- ``config.py``: the clocks that are settings; ``track_terms.py``: the track's terms.
"""
