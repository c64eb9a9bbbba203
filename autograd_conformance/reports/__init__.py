"""Results, the HTML conformance report, known-failure baselines and the gate.

* ``autograd_conformance.reports.pytest_plugin`` – the ``record`` fixture, JSONL results, baselines applied as xfail.
* ``autograd_conformance.reports.results``       – the results format (schema ``autograd_conformance/reports/schema.json``) and its loader.
* ``autograd_conformance.reports.baseline``      – ``baselines/<label>.txt`` known-failure files.
* ``autograd_conformance.reports.build``         – the self-contained HTML report (``python -m autograd_conformance.reports build``).
* ``autograd_conformance.reports.gate``          – the gate over results files (``python -m autograd_conformance.reports gate``).
"""
