# cmake --install: a relocatable cnnc. The tools find the runtime relative to
# themselves (<prefix>/bin/cnnc -> <prefix>/lib/cnnc, <prefix>/include/cnnc),
# so the tree works after `mv P Q` and without the source and build trees.
#
#   bin/                     cnnc cnnc-opt cnnc-run cnnc-train
#   lib/cnnc/                libcnnc_rt.a (+ -<triple>.a): linked into models
#   include/cnnc/            the C ABI, the loader and tool headers
#   include/cnnc/halide/     HalideRuntime.h (what model.c includes)
#   <libdir>/                libcnnc_runtime_tools.a (loader, .npy, data sets)
#   <libdir>/cmake/cnnc/     cnncConfig.cmake: find_package(cnnc), cnnc_add_model()
#   <libdir>/pkgconfig/      cnnc.pc (the runtime tools)
include(CMakePackageConfigHelpers)

install(TARGETS cnnc cnnc-opt cnnc-run cnnc-train EXPORT cnncTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES $<TARGET_FILE:cnnc_rt> DESTINATION lib/cnnc)
foreach(triple ${CNNC_CROSS_TRIPLES})
  if(TARGET cnnc_rt_${triple})
    install(FILES ${PROJECT_BINARY_DIR}/lib/libcnnc_rt-${triple}.a
      DESTINATION lib/cnnc)
  endif()
endforeach()
install(TARGETS cnnc_runtime_tools EXPORT cnncTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY runtime/include/cnnc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CNNC_HALIDE_INCLUDE_DIR}/HalideRuntime.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cnnc/halide)

set(CNNC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cnnc)
install(EXPORT cnncTargets NAMESPACE cnnc:: DESTINATION ${CNNC_CMAKE_DIR})
configure_package_config_file(cmake/cnncConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cnncConfig.cmake
  INSTALL_DESTINATION ${CNNC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cnncConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cnncConfig.cmake
  ${PROJECT_BINARY_DIR}/cnncConfigVersion.cmake cmake/cnncAddModel.cmake
  DESTINATION ${CNNC_CMAKE_DIR})

# pkg-config for apps that load models with the runtime tools; the prefix is
# found from the .pc file's own place, so it relocates too.
file(RELATIVE_PATH CNNC_PC_TO_PREFIX
  /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/cnnc.pc.in ${PROJECT_BINARY_DIR}/cnnc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cnnc.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# cpack -G DEB: a Debian package of the same tree (prefix /usr).
set(CPACK_PACKAGE_NAME cnnc)
set(CPACK_PACKAGE_VENDOR "cnnc")
set(CPACK_PACKAGE_CONTACT "cnnc maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Compiler of CNNs (ONNX, a DSL) into native libraries that infer and train")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# cnnc links each model with the system's C compiler.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "gcc, libc6-dev")
include(CPack)

# The Python package, where Debian's python3 finds packages of a prefix
# (PYTHONPATH=<prefix>/lib/python3/dist-packages elsewhere); it finds the
# prefix's bin/cnnc from its own place.
install(DIRECTORY python/cnnc DESTINATION lib/python3/dist-packages
  PATTERN __pycache__ EXCLUDE)

# Man pages: help2man turns each tool's --help (usage, options, examples,
# environment, exit status) and --version into section 1, so the pages say
# what the tools say and cannot drift from them.
find_program(HELP2MAN_EXECUTABLE help2man)
if(HELP2MAN_EXECUTABLE)
  set(_cnnc_man_pages)
  set(_cnnc_man_names
    "cnnc\;compile a CNN (ONNX or the cnnc DSL) into a native library"
    "cnnc-opt\;run cnn dialect passes on MLIR files"
    "cnnc-run\;run a model library built by cnnc on .npy files"
    "cnnc-train\;train a model library built by cnnc --train")
  foreach(entry IN LISTS _cnnc_man_names)
    list(GET entry 0 tool)
    list(GET entry 1 what)
    set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${HELP2MAN_EXECUTABLE} --no-info --no-discard-stderr
              --name=${what} --section=1 --output=${page} $<TARGET_FILE:${tool}>
      DEPENDS ${tool}
      COMMENT "Generating the man page of ${tool}"
      VERBATIM)
    list(APPEND _cnnc_man_pages ${page})
  endforeach()
  add_custom_target(cnnc-man-pages ALL DEPENDS ${_cnnc_man_pages})
  install(FILES ${_cnnc_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man pages (the tools' --help says "
                 "the same)")
endif()
