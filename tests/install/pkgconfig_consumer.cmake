# Builds tests/install/consumer/main.cpp against a brisk installed in PREFIX
# with nothing but what `pkg-config --static --cflags --libs brisk` prints
# (--static: brisk is a static library, so Libs.private and the private
# requirements must link too), and runs it. Checks that brisk.pc points into
# PREFIX. Included by run_install_consumer.cmake; runs alone with
#   cmake -DPREFIX=dir [-DLIBDIR=lib] [-DEXPECT_CLUSTER=ON] -DSOURCE_DIR=src -DBINARY_DIR=dir -P pkgconfig_consumer.cmake
if(NOT LIBDIR)
  set(LIBDIR lib)
endif()
function(run_pc out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

find_program(BRISK_PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
if(DEFINED ENV{CXX} AND NOT "$ENV{CXX}" STREQUAL "")
  set(BRISK_CONSUMER_CXX "$ENV{CXX}")
else()
  find_program(BRISK_CONSUMER_CXX NAMES g++ c++ REQUIRED)
endif()

# Only the scratch prefix's brisk.pc; the system's modules (cpp-httplib) stay found.
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
run_pc(flags ${BRISK_PKG_CONFIG} --static --cflags --libs brisk)
message(STATUS "pkg-config --static --cflags --libs brisk: ${flags}")

# The file must point where it was installed, not where the build was configured.
foreach(var includedir libdir)
  run_pc(dir ${BRISK_PKG_CONFIG} --variable=${var} brisk)
  file(REAL_PATH "${dir}" dir)
  file(REAL_PATH "${PREFIX}" real_prefix)
  string(FIND "${dir}/" "${real_prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "brisk.pc's ${var} is ${dir}, outside the prefix it was installed in (${real_prefix})")
  endif()
endforeach()

separate_arguments(flags UNIX_COMMAND "${flags}")
file(MAKE_DIRECTORY ${BINARY_DIR}/pc)
run_pc(ignored ${BRISK_CONSUMER_CXX} -o ${BINARY_DIR}/pc/consumer
       ${SOURCE_DIR}/tests/install/consumer/main.cpp ${flags})
run_pc(ran ${BINARY_DIR}/pc/consumer)
message(STATUS "pkg-config consumer: ${ran}")

# brisk::cluster, when the brisk under test has it: brisk-cluster.pc.
if(EXPECT_CLUSTER)
  run_pc(cluster_flags ${BRISK_PKG_CONFIG} --static --cflags --libs brisk-cluster)
  message(STATUS "pkg-config --static --cflags --libs brisk-cluster: ${cluster_flags}")
  separate_arguments(cluster_flags UNIX_COMMAND "${cluster_flags}")
  run_pc(ignored ${BRISK_CONSUMER_CXX} -o ${BINARY_DIR}/pc/cluster_consumer
         ${SOURCE_DIR}/tests/install/consumer/cluster_main.cpp ${cluster_flags})
  run_pc(ran ${BINARY_DIR}/pc/cluster_consumer)
  message(STATUS "pkg-config cluster consumer: ${ran}")
endif()
