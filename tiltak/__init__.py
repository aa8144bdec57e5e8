"""tiltak: programme logic, monitoring and effect evaluation of public programmes.

The application layer. It wires the libraries ``logicmodel``, ``monitoring`` and
``estimation`` together; they never import it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
