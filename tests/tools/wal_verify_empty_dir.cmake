# `brisk wal verify` on an existing directory that holds no log files must
# fail (exit 1) and say so, not print OK. Run by ctest as wal_verify_empty_dir:
#   cmake -DBRISK=<path to brisk> -DWORK_DIR=<scratch dir> -P wal_verify_empty_dir.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${BRISK}" wal verify --dir "${WORK_DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "exit ${rc}\n${out}${err}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit code 1, got ${rc}")
endif()
if(NOT out MATCHES "refused: no log files in ")
  message(FATAL_ERROR "expected 'refused: no log files in ...' in the output")
endif()
if(out MATCHES "\nOK\n")
  message(FATAL_ERROR "an empty directory must not be reported OK")
endif()
