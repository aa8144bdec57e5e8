"""Build of the compiled loops (estimation/_core*.c); the project metadata is in pyproject.toml.

The extension is optional: where no C compiler is available the install still succeeds
and estimation uses the same algorithms in Python (slower; the same results).
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
        )
    ]
)
