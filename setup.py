"""The optional native accelerator of CHECK_FILES (engine.formats._blockscan): everything else
is in pyproject.toml. optional=True: without gcc or libxxhash-dev the package still installs and
the pure-Python path runs."""

from setuptools import Extension, setup

NATIVE = "engine/formats/native/"

setup(
    ext_modules=[
        Extension(
            "engine.formats._blockscan",
            sources=[NATIVE + f for f in ("module.c", "block.c", "snappy.c", "rows.c", "columns.c")],
            depends=[NATIVE + "blockscan.h"],
            include_dirs=[NATIVE],
            libraries=["xxhash"],
            extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
