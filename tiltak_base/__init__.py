"""The pieces every package of tiltak builds on, below all the layers.

``logicmodel``, ``monitoring``, ``estimation`` and ``tiltak`` each have one base
exception and a lazily imported public API. Both are the same in every package, so they
live here once: :class:`tiltak_base.errors.UserError` (``exit_code`` and ``lines()``, what
the command line prints) and :func:`tiltak_base.lazy.lazy_exports` (PEP 562
``__getattr__`` and ``__dir__``). The text catalogues, one YAML file per language, are
here too (:mod:`tiltak_base.catalogue`): the diagram and the report read the same texts.
This package imports only the standard library (PyYAML on the first read of a
catalogue), so importing it never makes ``estimation`` depend on another layer, and
``import logicmodel.errors`` stays as cheap as before.
"""
