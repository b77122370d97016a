# The course tool: ./course builds $(O)/bin/course from tools/course/*.c and runs it.
# Included by the top Makefile, whose pattern rule $(O)/obj/%.o: %.c compiles the
# objects. The tool needs only libc; its tests need Check and the axt_ helpers.

COURSE_SRC     := $(wildcard tools/course/*.c)
COURSE_OBJ     := $(COURSE_SRC:%.c=$(O)/obj/%.o)
COURSE_LIB_OBJ := $(filter-out $(O)/obj/tools/course/main.o,$(COURSE_OBJ))

TOOLS += $(O)/bin/course

$(O)/bin/course: $(COURSE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The tests link the tool's objects (all but main) and also run the built tool
# against a fake course, so they need $(O)/bin/course to exist (order-only: it is
# not linked in).
TOOL_TESTS += $(O)/tests/tools/test_course

$(O)/obj/tests/tools/test_course.o: CPPFLAGS += -Itools/course

$(O)/tests/tools/test_course: $(O)/obj/tests/tools/test_course.o $(COURSE_LIB_OBJ) $(AXTEST) $(LIBAX) | $(O)/bin/course
	$(LINK_TEST)
