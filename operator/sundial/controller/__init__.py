"""The operator: kopf handlers, the reconcile, and the few loops that keep Temporal and Kubernetes in step.

Imports the pure ``domain`` and the ``adapters``; nothing imports this package but the
``sundial run`` command and the tests.
"""
