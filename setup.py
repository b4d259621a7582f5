"""Only for the C extension; everything else is in pyproject.toml.

The extension is optional: where it cannot be built (no C compiler, no Python headers) the build says
so and installs the pure-Python package, whose ``heaplens diff`` runs on the numpy path
(heaplens/_pykernels.py) and whose graph commands say that they need the compiled kernels. Such a
build makes a ``py3-none-any`` wheel, not one tagged for a platform it has no binary for.
``HEAPLENS_NO_EXTENSION=1`` builds the pure package on purpose (``make wheel``'s pure wheel).
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 (pyproject.toml asks for >= 77; a direct `setup.py build_ext` may not)
    bdist_wheel = None

NO_EXTENSION = os.environ.get("HEAPLENS_NO_EXTENSION", "") not in ("", "0")


def _say(line: str) -> None:
    print(f"heaplens: {line}", file=sys.stderr, flush=True)


class optional_build_ext(build_ext):
    """build_ext that turns a failed compile into a pure-Python install, said in the build log."""

    def run(self):
        if getattr(self.distribution, "heaplens_kernels", None) is False:
            return  # already failed in this build (bdist_wheel runs build_ext twice)
        try:
            super().run()
        except (CCompilerError, ExecError, PlatformError, OSError) as exc:
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError, OSError) as exc:
            self._skip(exc)
        else:
            self.distribution.heaplens_kernels = True

    def _skip(self, exc):
        self.distribution.heaplens_kernels = False
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        _say(f"WARNING: could not build the C kernels (heaplens._kernels): {reason}")
        _say("installing the pure-Python package instead: `heaplens diff` (families, --by class, --trend) uses "
             "the slower numpy path; top, retainers, diff --ids and diagnose with retainers need the compiled "
             "kernels (install a binary wheel, or reinstall where a C compiler is found)")


cmdclass = {"build_ext": optional_build_ext}
if bdist_wheel is not None:

    class wheel_for_what_was_built(bdist_wheel):
        """A wheel tagged py3-none-any when the extension was not built (it holds no binary)."""

        def run(self):
            if not self.skip_build:
                self.run_command("build")
            if getattr(self.distribution, "heaplens_kernels", None) is False:
                self.root_is_pure = True
            super().run()

    cmdclass["bdist_wheel"] = wheel_for_what_was_built


setup(
    ext_modules=[] if NO_EXTENSION else [
        Extension(
            "heaplens._kernels",
            sources=["src/heaplens/_kernels.c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wno-unused-function"],
        )
    ],
    cmdclass=cmdclass,
)
