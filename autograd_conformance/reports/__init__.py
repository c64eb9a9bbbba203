"""Results, the HTML conformance report, known-failure baselines and the gate.

* ``reports.pytest_plugin`` – the ``record`` fixture, JSONL results, baselines applied as xfail.
* ``reports.results``       – the results format (schema ``reports/schema.json``) and its loader.
* ``reports.baseline``      – ``baselines/<label>.txt`` known-failure files.
* ``reports.build``         – the self-contained HTML report (``python -m reports build``).
* ``reports.gate``          – the gate over results files (``python -m reports gate``).
"""
