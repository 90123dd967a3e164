"""Array operations for compiled kernels, written as Numba intrinsics: allocation, filling,
contiguous copies, views (reshape, transpose) and matrix products.

Numba implements NumPy's functions as Python code that it compiles through its whole pipeline
the first time a process uses them, once per dtype, rank and layout: ``np.empty`` took about
0.2 s, ``np.dot`` 0.3-0.5 s, ``np.transpose`` with axes 3 s (Numba 0.68, this machine's CPU).
Every compile worker is a fresh process and pays these again; they were most of a cold MNIST
training step's compile time. An intrinsic emits its LLVM code directly into the kernel being
lowered, adding next to nothing to the kernel's own compile (a small function calling one
compiles in 0.05-0.1 s, as any small function does). The kernels micrograd generates know every shape, layout and
dtype, so these operations check nothing that lowering already guarantees (equal sizes for a
reshape, a valid permutation, matching inner dimensions of a product).

Compiled kernels import them by name (listed in ``helpers.py``).
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed, impl_ret_new_ref
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array
from numba.np.linalg import call_xxgemm, ensure_blas

def _rank(shape) -> int:
    """The rank a shape tuple's type gives (checking that it is a tuple of integers)."""
    if not isinstance(shape, types.BaseTuple) or not all(isinstance(t, types.Integer) for t in shape):
        raise TypeError(f"a shape must be a tuple of integers, got {shape}")
    return len(shape)


def _dtype_of(dtype_type):
    if isinstance(dtype_type, types.NumberClass):
        return dtype_type.instance_type
    if isinstance(dtype_type, types.DType):
        return dtype_type.dtype
    raise TypeError(f"a dtype must be a NumPy scalar type such as np.float32, got {dtype_type}")


def _dims(context, builder, shape_type, shape_value) -> list:
    return [context.cast(builder, v, t, types.intp)
            for v, t in zip(cgutils.unpack_tuple(builder, shape_value, len(shape_type)), shape_type)]


def _c_strides(context, builder, dims: list, itemsize) -> list:
    strides = [itemsize]
    for d in reversed(dims[1:]):
        strides.append(builder.mul(strides[-1], d))
    return strides[::-1]


def _view(context, builder, array, view_type, dims: list, strides: list):
    """A new array structure over ``array``'s memory (sharing its reference count)."""
    view = make_array(view_type)(context, builder)
    intp = context.get_value_type(types.intp)
    populate_array(view, data=array.data, shape=cgutils.pack_array(builder, dims, ty=intp),
                   strides=cgutils.pack_array(builder, strides, ty=intp), itemsize=array.itemsize,
                   meminfo=array.meminfo, parent=array.parent)
    return impl_ret_borrowed(context, builder, view_type, view._getvalue())


def _allocate(context, builder, array_type, dims: list):
    """A new C-contiguous array of ``array_type`` with dimensions ``dims`` (uninitialized), from
    Numba's runtime allocator, as ``np.empty`` makes them."""
    intp = context.get_value_type(types.intp)
    itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(array_type.dtype)))
    count = context.get_constant(types.intp, 1)
    for d in dims:
        count = builder.mul(count, d)
    meminfo = context.nrt.meminfo_alloc_aligned(builder, builder.mul(count, itemsize),
                                                context.get_preferred_array_alignment(array_type.dtype))
    with builder.if_then(cgutils.is_null(builder, meminfo), likely=False):
        context.call_conv.return_user_exc(builder, MemoryError, ("a compiled kernel could not allocate an array",))
    array = make_array(array_type)(context, builder)
    data = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), context.get_data_type(array_type.dtype).as_pointer())
    populate_array(array, data=data, shape=cgutils.pack_array(builder, dims, ty=intp),
                   strides=cgutils.pack_array(builder, _c_strides(context, builder, dims, itemsize), ty=intp),
                   itemsize=itemsize, meminfo=meminfo)
    return array, count


@intrinsic
def empty(typingctx, shape, dtype):
    """``np.empty(shape, dtype)``."""
    result = types.Array(_dtype_of(dtype), _rank(shape), "C")

    def codegen(context, builder, signature, args):
        array, _ = _allocate(context, builder, result, _dims(context, builder, shape, args[0]))
        return impl_ret_new_ref(context, builder, result, array._getvalue())
    return result(shape, dtype), codegen


@intrinsic
def full(typingctx, shape, value, dtype):
    """``np.full(shape, value, dtype)``."""
    result = types.Array(_dtype_of(dtype), _rank(shape), "C")

    def codegen(context, builder, signature, args):
        array, count = _allocate(context, builder, result, _dims(context, builder, shape, args[0]))
        fill = context.cast(builder, args[1], value, result.dtype)
        with cgutils.for_range(builder, count) as loop:
            builder.store(fill, builder.gep(array.data, [loop.index]))
        return impl_ret_new_ref(context, builder, result, array._getvalue())
    return result(shape, value, dtype), codegen


@intrinsic
def contiguous(typingctx, x):
    """``np.ascontiguousarray(x)``: ``x`` itself when it is C-contiguous, else a C-ordered copy."""
    if not isinstance(x, types.Array) or x.ndim == 0:
        raise TypeError(f"contiguous: expected an array of rank 1 or more, got {x}")
    result = x.copy(layout="C", readonly=False) if x.layout != "C" else x

    def codegen(context, builder, signature, args):
        if x.layout == "C":
            return impl_ret_borrowed(context, builder, x, args[0])
        source = make_array(x)(context, builder, args[0])
        dims = cgutils.unpack_tuple(builder, source.shape, x.ndim)
        copy, _ = _allocate(context, builder, result, dims)
        source_strides = cgutils.unpack_tuple(builder, source.strides, x.ndim)
        copy_strides = cgutils.unpack_tuple(builder, copy.strides, x.ndim)
        with cgutils.loop_nest(builder, dims, context.get_value_type(types.intp)) as index:
            from_ = cgutils.get_item_pointer2(context, builder, source.data, dims, source_strides, x.layout, index)
            to = cgutils.get_item_pointer2(context, builder, copy.data, dims, copy_strides, "C", index)
            builder.store(builder.load(from_), to)
        return impl_ret_new_ref(context, builder, result, copy._getvalue())
    return result(x), codegen


@intrinsic
def reshaped(typingctx, x, shape):
    """``x.reshape(shape)`` for a C-contiguous ``x`` of the same size: a view."""
    if not isinstance(x, types.Array) or x.layout != "C":
        raise TypeError(f"reshaped: expected a C-contiguous array, got {x}")
    result = types.Array(x.dtype, _rank(shape), "C", readonly=not x.mutable)

    def codegen(context, builder, signature, args):
        array = make_array(x)(context, builder, args[0])
        dims = _dims(context, builder, shape, args[1])
        return _view(context, builder, array, result, dims, _c_strides(context, builder, dims, array.itemsize))
    return result(x, shape), codegen


@intrinsic
def permuted(typingctx, x, perm):
    """``np.transpose(x, perm)``: a view with the axes in the order ``perm`` gives."""
    if not isinstance(x, types.Array) or _rank(perm) != x.ndim:
        raise TypeError(f"permuted: expected an array and a permutation of its {getattr(x, 'ndim', '?')} axes")
    result = types.Array(x.dtype, x.ndim, "A", readonly=not x.mutable)

    def codegen(context, builder, signature, args):
        array = make_array(x)(context, builder, args[0])
        shape_slot, strides_slot = (cgutils.alloca_once_value(builder, v) for v in (array.shape, array.strides))
        order = _dims(context, builder, perm, args[1])
        zero = ir.Constant(ir.IntType(32), 0)
        dims = [builder.load(builder.gep(shape_slot, [zero, builder.trunc(p, ir.IntType(32))])) for p in order]
        strides = [builder.load(builder.gep(strides_slot, [zero, builder.trunc(p, ir.IntType(32))])) for p in order]
        return _view(context, builder, array, result, dims, strides)
    return result(x, perm), codegen


@intrinsic
def broadcast(typingctx, x, shape):
    """``np.broadcast_to(x, shape)``: a read-only view, with stride 0 along the axes it repeats."""
    rank = _rank(shape)
    if not isinstance(x, types.Array) or x.ndim > rank:
        raise TypeError(f"broadcast: expected an array of rank at most {rank}, got {x}")
    result = types.Array(x.dtype, rank, "A", readonly=True)

    def codegen(context, builder, signature, args):
        array = make_array(x)(context, builder, args[0])
        dims = _dims(context, builder, shape, args[1])
        zero = context.get_constant(types.intp, 0)
        lead = rank - x.ndim
        strides = [zero] * lead
        for d, stride, target in zip(cgutils.unpack_tuple(builder, array.shape, x.ndim),
                                     cgutils.unpack_tuple(builder, array.strides, x.ndim), dims[lead:]):
            strides.append(builder.select(builder.icmp_signed("==", d, target), stride, zero))
        return _view(context, builder, array, result, dims, strides)
    return result(x, shape), codegen


def _check_product(x, y, name: str) -> None:
    if not (isinstance(x, types.Array) and isinstance(y, types.Array) and x.ndim == y.ndim == 2
            and x.layout in "CF" and y.layout in "CF" and x.dtype == y.dtype and x.dtype in (types.float32, types.float64)):
        raise TypeError(f"{name}: expected two contiguous 2-d float32 or float64 arrays of one dtype, got {x} and {y}")
    ensure_blas()


def _gemm(context, builder, x_type, x, y_type, y, out_type, out) -> None:
    """``out = x @ y`` by BLAS's gemm (through the same entry point as Numba's ``np.dot``)."""
    x_dims = cgutils.unpack_tuple(builder, x.shape, 2)
    y_dims = cgutils.unpack_tuple(builder, y.shape, 2)
    out_dims = cgutils.unpack_tuple(builder, out.shape, 2)
    call_xxgemm(context, builder, x_type, x_dims, x.data, y_type, y_dims, y.data, out_type, out_dims, out.data)


@intrinsic
def matmul(typingctx, x, y):
    """``x @ y`` for 2-d float arrays, C- or Fortran-contiguous, with inner dimensions of at least 1."""
    _check_product(x, y, "matmul")
    result = types.Array(x.dtype, 2, "C")

    def codegen(context, builder, signature, args):
        a, b = make_array(x)(context, builder, args[0]), make_array(y)(context, builder, args[1])
        out, _ = _allocate(context, builder, result, [cgutils.unpack_tuple(builder, a.shape, 2)[0],
                                                        cgutils.unpack_tuple(builder, b.shape, 2)[1]])
        _gemm(context, builder, x, a, y, b, result, out)
        return impl_ret_new_ref(context, builder, result, out._getvalue())
    return result(x, y), codegen


@intrinsic
def matmul_into(typingctx, x, y, out):
    """``out[...] = x @ y`` into a C-contiguous ``out`` of the product's shape."""
    _check_product(x, y, "matmul_into")
    if not isinstance(out, types.Array) or out.ndim != 2 or out.layout != "C" or out.dtype != x.dtype:
        raise TypeError(f"matmul_into: expected a C-contiguous 2-d {x.dtype} array to write into, got {out}")

    def codegen(context, builder, signature, args):
        a, b, c = (make_array(t)(context, builder, v) for t, v in zip((x, y, out), args))
        _gemm(context, builder, x, a, y, b, out, c)
        return context.get_dummy_value()
    return types.none(x, y, out), codegen
