# sg_protobuf_c(TARGET <lib> FILES <a.proto>...): generate protobuf-c sources into the build
# tree (never committed) and build them into a static library.
function(sg_protobuf_c)
  cmake_parse_arguments(ARG "" "TARGET" "FILES" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out_dir})
  set(srcs)
  foreach(f ${ARG_FILES})
    string(REGEX REPLACE "\\.proto$" "" stem ${f})
    set(c ${out_dir}/${stem}.pb-c.c)
    set(h ${out_dir}/${stem}.pb-c.h)
    add_custom_command(
      OUTPUT ${c} ${h}
      COMMAND ${PROTOC_C} -I${CMAKE_CURRENT_SOURCE_DIR} --c_out=${out_dir} ${f}
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${f}
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
      COMMENT "protoc-c ${f}")
    list(APPEND srcs ${c})
  endforeach()
  add_library(${ARG_TARGET} STATIC ${srcs})
  target_include_directories(${ARG_TARGET} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${ARG_TARGET} PUBLIC PkgConfig::PROTOBUFC)
  set_target_properties(${ARG_TARGET} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
