# cmake -DGRAPH=<build>/module-graph.txt -DDOC=docs/ARCHITECTURE.md -P check_graph.cmake
#
# The doc's diagram is the fenced block after the line
# "<!-- module graph: checked by tests/architecture -->"; each line there is
#   <module> -> <public links> | <private links>
# in any order and spacing. It must name the same modules with the same
# links as the build (GRAPH, written by the root CMakeLists.txt).

function(sorted_words text out)
  string(STRIP "${text}" text)
  string(REGEX REPLACE " +" ";" items "${text}")
  list(SORT items)
  list(JOIN items " " text)
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(normalise text out)
  string(REPLACE "\n" ";" lines "${text}")
  set(result "")
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    if(line STREQUAL "")
      continue()
    endif()
    if(NOT line MATCHES "^([^ ]+) *-> *([^|]*)\\|(.*)$")
      message(FATAL_ERROR "not a module line (<module> -> <public> | <private>): '${line}'")
    endif()
    set(self "${CMAKE_MATCH_1}")
    sorted_words("${CMAKE_MATCH_2}" pub)
    sorted_words("${CMAKE_MATCH_3}" priv)
    list(APPEND result "${self} -> ${pub} | ${priv}")
  endforeach()
  list(SORT result)
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

file(READ "${GRAPH}" built)
file(READ "${DOC}" doc)
set(marker "<!-- module graph: checked by tests/architecture -->")
string(FIND "${doc}" "${marker}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${DOC} has no line '${marker}' before its module diagram")
endif()
string(SUBSTRING "${doc}" ${at} -1 doc)
if(NOT doc MATCHES "```[a-z]*\n([^`]*)```")
  message(FATAL_ERROR "${DOC}: no fenced block after '${marker}'")
endif()
set(drawn "${CMAKE_MATCH_1}")

normalise("${built}" built_lines)
normalise("${drawn}" drawn_lines)
set(missing ${built_lines})
set(extra ${drawn_lines})
if(drawn_lines)
  list(REMOVE_ITEM missing ${drawn_lines})
endif()
if(built_lines)
  list(REMOVE_ITEM extra ${built_lines})
endif()
if(missing OR extra)
  list(JOIN missing "\n  " m)
  list(JOIN extra "\n  " e)
  message(FATAL_ERROR "docs/ARCHITECTURE.md's module diagram differs from the build.\n"
                      "Linked by the build but not drawn:\n  ${m}\n"
                      "Drawn but not linked so:\n  ${e}\n"
                      "(the build's graph: ${GRAPH})")
endif()
list(LENGTH built_lines n)
message(STATUS "module graph: ${n} modules, the diagram matches the build")
