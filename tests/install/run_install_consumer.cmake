# Configures brisk alone with one install prefix, installs it into another
# (`cmake --install --prefix`, so nothing may point at the configured one),
# then builds tests/install/consumer against the installed copy twice: with
# find_package (CMake package) and with pkg-config (brisk.pc, compiled by
# hand with exactly the flags pkg-config prints), and runs both; with
# EXPECT_CLUSTER (libnats found) also a brisk::cluster consumer both ways. Fails at the
# first step that fails.
file(REMOVE_RECURSE ${BINARY_DIR})
set(prefix ${BINARY_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}/lib -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DBRISK_BUILD_TESTS=OFF -DBRISK_BUILD_BENCH=OFF -DBRISK_BUILD_TOOLS=OFF
    -DCMAKE_INSTALL_PREFIX=${BINARY_DIR}/configured-prefix-never-installed -DCMAKE_INSTALL_LIBDIR=lib)
run(${CMAKE_COMMAND} --build ${BINARY_DIR}/lib)
run(${CMAKE_COMMAND} --install ${BINARY_DIR}/lib --prefix ${prefix})
if(NOT EXISTS ${prefix}/lib/pkgconfig/brisk.pc)
  message(FATAL_ERROR "pkg-config file not installed")
endif()

# 1. CMake package.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${BINARY_DIR}/app -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DEXPECT_CLUSTER=${EXPECT_CLUSTER})
run(${CMAKE_COMMAND} --build ${BINARY_DIR}/app)
run(${BINARY_DIR}/app/consumer)
if(EXPECT_CLUSTER)
  run(${BINARY_DIR}/app/cluster_consumer)
endif()

# 2. pkg-config.
set(PREFIX ${prefix})
include(${CMAKE_CURRENT_LIST_DIR}/pkgconfig_consumer.cmake)
