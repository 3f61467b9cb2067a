"""The kernel: the write pipeline and reads below the SDK (see `CubeKernel`)."""

from memos.kernel.cube import CubeKernel
from memos.kernel.system import Kernel

__all__ = ["CubeKernel", "Kernel"]
