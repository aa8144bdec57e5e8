"""Build of the compiled loops (estimation/_core*.c) and of NumPy's block cache
(estimation/_alloc.c); the project metadata is in pyproject.toml.

The extensions are optional: where no C compiler is available the install still succeeds
and estimation uses the same algorithms in Python (slower; the same results), and NumPy's
own allocator.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "estimation._core",
            ["estimation/_core.c", "estimation/_core_sums.c", "estimation/_core_sort.c",
             "estimation/_core_design.c"],
            depends=["estimation/_core.h"],
            extra_compile_args=["-O2", "-ffp-contract=off", "-pthread", "-Wno-psabi"],
            extra_link_args=["-pthread"],
            optional=True,
        ),
        Extension(  # NumPy's data memory reusing large freed blocks (estimation/block_cache.py)
            "estimation._alloc",
            ["estimation/_alloc.c"],
            extra_compile_args=["-O2", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        ),
    ]
)
