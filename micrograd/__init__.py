"""micrograd: composable automatic differentiation for NumPy programs.

>>> import numpy as np, micrograd as mg
>>> mg.grad(lambda x: np.sum(np.tanh(x) ** 2))(np.array([0.0, 1.0])).round(4)
array([0.    , 0.6397])
"""
__version__ = "0.1.0"

from . import numpy, primitives, testing, tree  # noqa: E402
from .testing import check_grads  # noqa: E402
from .backend.compile import CompileError  # noqa: E402
from .core.errors import LeakedTracerError, ShapeError, TracerConversionError  # noqa: E402
from .core.ir import Program  # noqa: E402
from .core.trace import eval_program  # noqa: E402
from .transforms.grad import chain, grad, value_and_grad, vjp  # noqa: E402
from .transforms.jacobians import hessian, jacfwd, jacrev  # noqa: E402
from .transforms.jit import jit  # noqa: E402
from .transforms.jvp import jvp, linearize  # noqa: E402
from .transforms.make_ir import make_ir  # noqa: E402
from .transforms.vmap import vmap  # noqa: E402

__all__ = ["__version__", "numpy", "tree", "primitives", "grad", "value_and_grad", "vjp", "chain",
           "jit", "jvp", "linearize", "vmap", "jacfwd", "jacrev", "hessian", "make_ir", "eval_program", "check_grads", "Program", "ShapeError", "TracerConversionError", "LeakedTracerError", "CompileError"]
