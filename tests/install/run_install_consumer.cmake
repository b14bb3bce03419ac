# Configures brisk alone, installs it into a scratch prefix, then configures
# and builds tests/install/consumer against that prefix with find_package,
# and runs the result. Fails at the first step that fails.
file(REMOVE_RECURSE ${BINARY_DIR})
set(prefix ${BINARY_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}/lib -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DBRISK_BUILD_TESTS=OFF -DBRISK_BUILD_BENCH=OFF -DBRISK_BUILD_TOOLS=OFF -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --build ${BINARY_DIR}/lib)
run(${CMAKE_COMMAND} --install ${BINARY_DIR}/lib)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${BINARY_DIR}/app -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${BINARY_DIR}/app)
run(${BINARY_DIR}/app/consumer)
if(NOT EXISTS ${prefix}/lib/pkgconfig/brisk.pc)
  message(FATAL_ERROR "pkg-config file not installed")
endif()
