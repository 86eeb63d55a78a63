# lit configuration for quench: .qir files with RUN and CHECK lines.
import os
import lit.formats

config.name = "quench"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".qir"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quench_bin_dir, "..", "test", "lit-out")

path = os.pathsep.join([config.quench_bin_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
# Sanitizer builds: fail the test on any report, and keep the output short.
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%plugin_dir", config.quench_lib_dir))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

# Tests on the real models in ../shared/models need that folder; without it
# they are reported UNSUPPORTED, never passed.
shared_models = os.path.realpath(os.path.join(config.quench_src_root, "..", "shared", "models"))
if os.path.isdir(shared_models):
    config.available_features.add("shared-models")
config.substitutions.append(("%models", shared_models))
config.substitutions.append(("%python", "/usr/bin/python3"))

# The C backend's tests build generated code with this build's compiler and,
# in the sanitizer build, its sanitizers (test/codegen/check_compiled.sh).
import shutil
cg_cflags = ""
if config.quench_sanitize.upper() in ("ON", "1", "TRUE", "YES"):
    cg_cflags = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
config.environment["QUENCH_CG_CC"] = config.quench_c_compiler
config.environment["QUENCH_CG_CFLAGS"] = cg_cflags
config.substitutions.append(("%cg_cc", config.quench_c_compiler))
config.substitutions.append(("%cg_cflags", cg_cflags))
config.substitutions.append(("%codegen", os.path.join(config.quench_src_root, "test", "codegen")))
if shutil.which("aarch64-linux-gnu-gcc") and shutil.which("qemu-aarch64"):
    config.available_features.add("aarch64-cross")
try:
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if " avx2" in flags:
        config.available_features.add("avx2")
    if " avx512_vnni" in flags and " avx512bw" in flags:
        config.available_features.add("avx512vnni")
        if " amx_int8" in flags and " amx_tile" in flags:
            config.available_features.add("amx")
except OSError:
    pass
