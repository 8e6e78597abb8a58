# lit configuration for cnnc. Run through ctest or `ninja check-cnnc`.
import os
import lit.formats

config.name = "cnnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".cnn", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Unit", "Scripts", "onnx-cases.txt", "onnx-unsupported.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.cnnc_obj_root, "test")

# Tools: ours first, then LLVM's FileCheck/not/count (not on PATH in Debian).
path = [config.cnnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
config.environment["PATH"] = os.pathsep.join(path)
# The sanitizer settings of a -DCNNC_SANITIZE build (scripts/sanitize.sh).
for var in ("HOME", "TMPDIR", "OMP_NUM_THREADS", "ASAN_OPTIONS",
            "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
# Compiled kernels are cached per build tree, not in the user's ~/.cache.
config.environment["CNNC_CACHE_DIR"] = os.path.join(config.cnnc_obj_root, "kernel-cache")
# torch/onnx exports print warnings; keep them quiet and deterministic.
config.environment["PYTHONHASHSEED"] = "0"
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%cnnc_src", config.cnnc_src_root))
config.substitutions.append(("%examples", os.path.join(config.cnnc_src_root, "examples")))
config.substitutions.append(("%test_inputs", os.path.join(config.cnnc_src_root, "test", "Inputs")))

def have_python_module(name):
    import subprocess
    return subprocess.call([config.python_executable, "-c", "import " + name],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0

for mod in ("onnx", "torch", "torchvision", "numpy"):
    if have_python_module(mod):
        config.available_features.add("py-" + mod)
# Without these modules every PyTorch comparison would turn UNSUPPORTED and
# the suite still pass, so a missing one is an error; skipping them takes
# an explicit CNNC_ALLOW_MISSING_TORCH=1 (environment of lit, ctest or
# scripts/test.sh).
missing_modules = [m for m in ("onnx", "torch", "torchvision", "numpy")
                   if "py-" + m not in config.available_features]
if missing_modules:
    what = "%s cannot import %s" % (config.python_executable,
                                   ", ".join(missing_modules))
    if os.environ.get("CNNC_ALLOW_MISSING_TORCH", "0").lower() in ("1", "on", "yes", "true"):
        lit_config.warning(what + ": the tests that need them are skipped "
                           "(CNNC_ALLOW_MISSING_TORCH)")
    else:
        lit_config.fatal(what + ": install python3-torch python3-torchvision "
                         "python3-onnx python3-numpy (scripts/install-deps.sh), "
                         "or set CNNC_ALLOW_MISSING_TORCH=1 to skip the tests "
                         "that need them")
# Multi-process training (test/Distributed): cnnc-train built with MPI and
# Open MPI's mpirun. As with PyTorch, their absence is an error unless
# skipped on purpose.
import shutil as _shutil
if config.have_mpi and _shutil.which("mpirun"):
    config.available_features.add("mpi")
    # Root in containers and CI; every process on this machine.
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    # The ranks talk over loopback only (shared memory when Open MPI can):
    # a CI machine may have no other interface.
    config.environment["OMPI_MCA_oob_tcp_if_include"] = "lo"
    config.environment["OMPI_MCA_btl_tcp_if_include"] = "lo"
elif os.environ.get("CNNC_ALLOW_MISSING_MPI", "0").lower() in ("1", "on", "yes", "true"):
    lit_config.warning("cnnc-train was built without MPI or mpirun is missing: "
                       "the multi-process tests are skipped (CNNC_ALLOW_MISSING_MPI)")
else:
    lit_config.fatal("the multi-process training tests need cnnc-train built "
                     "with MPI and mpirun: install openmpi-bin libopenmpi-dev "
                     "(scripts/install-deps.sh) and configure again, or set "
                     "CNNC_ALLOW_MISSING_MPI=1 to skip them")
if os.path.isdir("/usr/share/libonnx-testdata/data"):
    config.available_features.add("onnx-testdata")
if os.path.isfile("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    config.available_features.add("fashion-mnist")
if config.enable_slow_tests:
    config.available_features.add("slow")

# A CUDA GPU with a driver: the CUDA tests run their kernels on it.
import shutil, subprocess as _sp
# Debian packaging (cpack -G DEB needs dpkg-deb and dpkg-shlibdeps, from
# dpkg-dev, which build-essential brings).
if shutil.which("dpkg-deb") and shutil.which("dpkg-shlibdeps"):
    config.available_features.add("dpkg")
if shutil.which("nvidia-smi") and _sp.call(["nvidia-smi", "-L"], stdout=_sp.DEVNULL, stderr=_sp.DEVNULL) == 0:
    config.available_features.add("cuda-gpu")
config.substitutions.append(("%{cuda_result}", "GPU" if "cuda-gpu" in config.available_features else "NOGPU"))
config.substitutions.append(("%{bindir}", config.cnnc_tools_dir))
config.substitutions.append(("%{obj_root}", config.cnnc_obj_root))

# The x86 target levels this host can execute (the target matrix): every
# level is compiled and run against the same references. A library for a
# lower level runs on a higher host, so one machine tests several levels.
def host_x86_targets():
    import platform
    if platform.machine() not in ("x86_64", "AMD64"):
        return []
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        return []
    levels = []
    if "sse4_1" in flags:
        levels.append(("sse41", "x86-64-linux-sse41"))
    if {"avx", "avx2", "fma", "f16c", "sse4_1"} <= flags:
        levels.append(("avx2", "x86-64-linux-avx-avx2-f16c-fma-sse41"))
    if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags \
            and {"avx", "avx2", "fma", "f16c", "sse4_1"} <= flags:
        levels.append(("avx512", "x86-64-linux-avx-avx2-f16c-fma-sse41-avx512-avx512_skylake"))
    return levels

x86_levels = host_x86_targets()
for level, _ in x86_levels:
    config.available_features.add("x86-" + level)
config.substitutions.append(("%{x86_targets}", ",".join(t for _, t in x86_levels) or "host"))
lit_config.note("x86 target levels tested on this host: " +
                (", ".join(l for l, _ in x86_levels) or "none (not x86)"))

# 64-bit ARM: models cross-compiled with --target=arm-64-linux run under
# user-mode QEMU with the runtime's tools built for aarch64 (the build makes
# them when it finds gcc-aarch64-linux-gnu; Debian's qemu-user runs them).
qemu = shutil.which("qemu-aarch64")
aarch64_tools = getattr(config, "aarch64_tools_dir", "")
if qemu and aarch64_tools and os.path.isfile(os.path.join(aarch64_tools, "cnnc-run")):
    config.available_features.add("aarch64-qemu")
    prefix = "%s -L /usr/aarch64-linux-gnu " % qemu
    config.substitutions.append(("%{aarch64_run}", prefix + os.path.join(aarch64_tools, "cnnc-run")))
    config.substitutions.append(("%{aarch64_train}", prefix + os.path.join(aarch64_tools, "cnnc-train")))
elif os.environ.get("CNNC_ALLOW_MISSING_AARCH64", "0").lower() in ("1", "on", "yes", "true"):
    lit_config.warning("no qemu-aarch64 or no aarch64 build of the tools: "
                       "the ARM tests are skipped (CNNC_ALLOW_MISSING_AARCH64)")
else:
    # As with PyTorch: the ARM target would go untested while the suite
    # passes, so its absence is an error unless skipped on purpose.
    lit_config.fatal("the ARM tests need qemu-aarch64 and cnnc's runtime "
                     "built for aarch64: install gcc-aarch64-linux-gnu "
                     "libc6-dev-arm64-cross qemu-user (scripts/install-deps.sh) "
                     "and reconfigure, or set CNNC_ALLOW_MISSING_AARCH64=1")
