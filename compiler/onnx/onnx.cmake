# ONNX import: C bindings for onnx.proto generated at build time with
# protoc-c (Debian protobuf-c-compiler) from Debian's libonnx-dev copy of the
# schema, compiled into quench_obj and linked against libprotobuf-c.
set(QUENCH_ONNX_PROTO /usr/include/onnx/onnx.proto CACHE FILEPATH "onnx.proto the importer is generated from")
find_program(QUENCH_PROTOC_C NAMES protoc-c)
find_library(QUENCH_PROTOBUF_C_LIB protobuf-c)
find_path(QUENCH_PROTOBUF_C_INCLUDE protobuf-c/protobuf-c.h)
foreach(req QUENCH_PROTOC_C QUENCH_PROTOBUF_C_LIB QUENCH_PROTOBUF_C_INCLUDE)
  if(NOT ${req})
    message(FATAL_ERROR "${req} not found: run scripts/install-deps.sh (protobuf-c-compiler, libprotobuf-c-dev)")
  endif()
endforeach()
if(NOT EXISTS ${QUENCH_ONNX_PROTO})
  message(FATAL_ERROR "${QUENCH_ONNX_PROTO} is missing: run scripts/install-deps.sh (libonnx-dev)")
endif()

get_filename_component(_onnx_proto_dir ${QUENCH_ONNX_PROTO} DIRECTORY)
set(QUENCH_ONNX_GEN_DIR ${CMAKE_BINARY_DIR}/generated/onnx)
set(QUENCH_ONNX_GEN_C ${QUENCH_ONNX_GEN_DIR}/onnx.pb-c.c)
set(QUENCH_ONNX_GEN_H ${QUENCH_ONNX_GEN_DIR}/onnx.pb-c.h)
file(MAKE_DIRECTORY ${QUENCH_ONNX_GEN_DIR})
add_custom_command(
  OUTPUT ${QUENCH_ONNX_GEN_C} ${QUENCH_ONNX_GEN_H}
  COMMAND ${QUENCH_PROTOC_C} --c_out=${QUENCH_ONNX_GEN_DIR} -I${_onnx_proto_dir} ${QUENCH_ONNX_PROTO}
  DEPENDS ${QUENCH_ONNX_PROTO}
  COMMENT "Generating protobuf-c bindings for onnx.proto"
  VERBATIM)

target_sources(quench_obj PRIVATE ${QUENCH_ONNX_GEN_C} ${QUENCH_ONNX_GEN_H})
# Generated code is not ours to keep warning-free: relax warnings for that one
# file only (and keep the header a system header for the importer).
set_source_files_properties(${QUENCH_ONNX_GEN_C} PROPERTIES GENERATED TRUE COMPILE_OPTIONS "-w")
target_include_directories(quench_obj SYSTEM PUBLIC ${QUENCH_ONNX_GEN_DIR} ${QUENCH_PROTOBUF_C_INCLUDE})
target_link_libraries(quench_obj PUBLIC ${QUENCH_PROTOBUF_C_LIB})
