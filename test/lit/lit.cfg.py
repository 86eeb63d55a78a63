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
