"""A software prefetch for Numba kernels (LLVM's ``llvm.prefetch``): a hint, never a load.

``prefetch_row(A, i)`` asks the CPU to start fetching row ``i`` of a C-contiguous 2-D array
into the caches, one request per 64-byte line, so that a kernel which knows its next random
rows can overlap their memory latency with the current work. It never faults: an address
outside the array is ignored by the hardware, and callers pass valid rows anyway.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LINE = 64


@intrinsic
def prefetch_row(typingctx, arr, row):
    """Prefetch the cache lines of ``arr[row]`` (read, keep in all cache levels)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2 and arr.layout == "C"
            and isinstance(row, types.Integer)):
        return None
    sig = types.void(arr, row)

    def codegen(context, builder, signature, args):
        aryty, rowty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], rowty, types.intp)
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [r, zero],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        base = builder.bitcast(ptr, i8p)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        width = cgutils.unpack_tuple(builder, ary.shape, 2)[1]
        nbytes = builder.mul(width, context.get_constant(types.intp, aryty.dtype.bitwidth // 8))
        with cgutils.for_range_slice(builder, context.get_constant(types.intp, 0), nbytes,
                                     context.get_constant(types.intp, LINE)) as (off, _):
            p = builder.gep(base, [off])
            builder.call(fn, [p, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
