# cnnc_add_model(<target> MODEL <file.onnx|file.cnn|file.mlir>
#                [NAME <prefix>] [TRAIN] [STATIC] [FREEZE <prefix>...]
#                [TARGET <isa>] [OPTIONS <cnnc flags>...])
#
# Compiles the model with cnnc at build time (again whenever the model file
# or cnnc changes) into lib<target>.so and lib<target>.h in the build tree,
# and defines <target> for target_link_libraries(app PRIVATE <target>): it
# links the library (SONAME lib<target>.so, found at run time through the
# build tree's rpath) and adds the header's folder to the include path. The
# functions are prefixed with NAME (default: <target>), so one app links
# several models. STATIC makes lib<target>.a instead, linked into the app
# (with the threads, dl and math libraries it needs). As Halide's
# add_halide_library does for pipelines.
function(cnnc_add_model target)
  cmake_parse_arguments(ARG "TRAIN;STATIC" "MODEL;NAME;TARGET" "FREEZE;OPTIONS"
    ${ARGN})
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "cnnc_add_model(${target}): MODEL <file> is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "cnnc_add_model(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(model ${ARG_MODEL} ABSOLUTE
    BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT ARG_NAME)
    set(ARG_NAME ${target})
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/cnnc/${target})
  if(ARG_STATIC)
    set(so ${dir}/lib${target}.a)
  else()
    set(so ${dir}/lib${target}.so)
  endif()
  set(args ${model} -o ${so} --name ${ARG_NAME})
  if(ARG_TRAIN)
    list(APPEND args --train)
  endif()
  foreach(prefix IN LISTS ARG_FREEZE)
    list(APPEND args --freeze ${prefix})
  endforeach()
  if(ARG_TARGET)
    list(APPEND args --target=${ARG_TARGET})
  endif()
  list(APPEND args ${ARG_OPTIONS})
  add_custom_command(OUTPUT ${so} ${dir}/lib${target}.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND cnnc::cnnc ${args}
    DEPENDS ${model} cnnc::cnnc
    COMMENT "cnnc: compiling ${ARG_MODEL} into lib${target}.so"
    VERBATIM)
  add_custom_target(${target}_cnnc DEPENDS ${so})
  add_library(${target} INTERFACE)
  target_link_libraries(${target} INTERFACE ${so})
  if(ARG_STATIC)
    find_package(Threads REQUIRED)
    target_link_libraries(${target} INTERFACE Threads::Threads
      ${CMAKE_DL_LIBS} m)
  endif()
  target_include_directories(${target} INTERFACE ${dir})
  add_dependencies(${target} ${target}_cnnc)
endfunction()
