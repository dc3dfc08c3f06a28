"""Structural equation models: each is an ``nn.Module`` with ``adjacency()``.

``W = model.adjacency()`` is the weighted adjacency (``W[i, j] != 0``: ``i -> j``)
that acyclicity functions see. Models know nothing about solvers.
"""
