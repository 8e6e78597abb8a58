"""Makes and checks .npy files for the runtime tests (needs numpy).

Commands take several operands so a test pays numpy's import time once.

  npy_util.py make PATH:DTYPE:SHAPE[:OPTION]...
      Writes random values of numpy dtype DTYPE (float32, '>f4', int32...)
      and SHAPE ('4x3'; 'scalar' for rank 0). OPTION: v2 or v3 for .npy
      format version 2.0 or 3.0 (default 1.0), fortran for Fortran order.
  npy_util.py raw PATH HEADER [DATA_BYTES]
      Writes a format 1.0 file with the header dict text HEADER verbatim,
      followed by DATA_BYTES zero bytes: for hostile-header tests.
  npy_util.py truncate PATH N         Drops the last N bytes of PATH.
  npy_util.py check CHECK A B [CHECK A B]...
      affine:  B is float32, shape of A, values 2*A + 1 (in float32)
      times10: B is int64, shape of A, values 10*A
      equal:   same dtype, shape and values
Checks print OK or exit 1 with the reason.
"""
import sys

# numpy is imported only by the commands that need it: its import time
# dominates these tests.


def make(specs):
    import numpy as np
    from numpy.lib import format as npy_format
    for seed, spec in enumerate(specs):
        path, dtype, shape, *options = spec.split(":")
        dtype = np.dtype(dtype)
        dims = (() if shape == "scalar" else
                tuple(int(d) for d in shape.split("x")))
        rng = np.random.default_rng(seed)
        if dtype.kind == "f":
            array = rng.uniform(-4, 4, size=dims)
        elif dtype.kind == "b":
            array = rng.integers(0, 2, size=dims)
        else:
            array = rng.integers(0, 100, size=dims)
        array = array.astype(dtype)
        version = 1
        for option in options:
            if option == "fortran":
                array = np.asfortranarray(array)
            elif option in ("v2", "v3"):
                version = int(option[1])
            else:
                sys.exit("unknown option " + option)
        with open(path, "wb") as f:
            npy_format.write_array(f, array, version=(version, 0))


def raw(args):
    path, header = args[0], args[1].encode("latin1")
    data_bytes = int(args[2]) if len(args) > 2 else 0
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00")
        f.write(len(header).to_bytes(2, "little"))
        f.write(header)
        f.write(b"\0" * data_bytes)


def truncate(args):
    path, n = args[0], int(args[1])
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) - n])


def check(ok, message):
    if not ok:
        sys.exit("FAIL: " + message)


def check_all(args):
    import numpy as np
    expected = {
        # The model computes in float32; so does this.
        "affine": (np.float32, lambda a: a.astype(np.float32) * np.float32(2)
                   + np.float32(1)),
        "times10": (np.int64, lambda a: a.astype(np.int64) * 10),
        "equal": (None, lambda a: a),
    }
    check(len(args) % 3 == 0, "check takes CHECK A B triples")
    for i in range(0, len(args), 3):
        kind, a_path, b_path = args[i:i + 3]
        a, b = np.load(a_path), np.load(b_path)
        dtype, fn = expected[kind]
        where = "%s %s %s: " % (kind, a_path, b_path)
        check(b.dtype == (dtype or a.dtype), where + "dtype %s" % b.dtype)
        check(b.shape == a.shape,
              where + "shape %s, expected %s" % (b.shape, a.shape))
        check(np.array_equal(b, fn(a)), where + "values differ")
    print("OK")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(args)
    elif command == "raw":
        raw(args)
    elif command == "truncate":
        truncate(args)
    elif command == "check":
        check_all(args)
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
