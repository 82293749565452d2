"""Carrying out runs, between the plan and the engine: ``amtflow run``, ``resume``, ``rerun``,
``kill`` and ``abandon`` (docs/architecture.md).

``schedule_date`` runs a schedule date once, by the pure rules of ``once``; ``drive`` connects to
the servers (``servers``: the seam the edge chooses) and drives the engine; ``record`` is what the
journal keeps of a run; ``recovery``, ``kill`` and ``abandon`` act on a recorded run.
"""
